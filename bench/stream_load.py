"""A lean HTTP/1.1 streaming client for load: many keep-alive connections in one event loop.

``bench/peer_overhead.py`` drives three servers at concurrency 16 from a 2-core machine, where a
heavy client would spend the CPU the servers need and flatten every difference between them. So
this client does the least a client can: it writes the request bytes, reads the status line and
headers, decodes chunked (or length-delimited) bodies, parses the ``data:`` lines of the SSE stream
only until the first one that carries answer text, and then only looks for ``data: [DONE]``. It is
the same for every path, so what differs between paths is the server side.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from dataclasses import dataclass
from urllib.parse import urlsplit

DONE = b"data: [DONE]"


class StreamError(RuntimeError):
    """A server answered with an error status, or ended a stream without ``[DONE]``."""


def _has_answer_text(line: bytes) -> bool:
    """Whether an SSE ``data:`` line is a Chat Completions chunk whose delta carries text."""
    try:
        chunk = json.loads(line[6:])
    except ValueError:
        return False
    choices = chunk.get("choices") if isinstance(chunk, dict) else None
    if not choices:
        return False
    delta = choices[0].get("delta") or {}
    return bool(delta.get("content"))


@dataclass
class Timing:
    ttft_ms: float
    total_ms: float


class StreamingConnection:
    """One keep-alive connection to ``url`` (``http://host:port/path``), reopened when the server closes it."""

    def __init__(self, url: str) -> None:
        parts = urlsplit(url)
        self.host = parts.hostname or "127.0.0.1"
        self.port = parts.port or 80
        self.path = parts.path
        self._reader: asyncio.StreamReader | None = None
        self._writer: asyncio.StreamWriter | None = None

    async def close(self) -> None:
        if self._writer is not None:
            self._writer.close()
            with contextlib.suppress(OSError):
                await self._writer.wait_closed()
        self._reader = self._writer = None

    async def post(self, body: bytes) -> Timing:
        """POST ``body`` (JSON) and read the SSE answer to its end; the TTFT ends at the first answer text.

        A kept-alive connection the server closed while it was idle is reopened, and the request sent again.
        """
        reused = self._writer is not None
        try:
            return await self._post(body)
        except (asyncio.IncompleteReadError, ConnectionError):
            await self.close()
            if not reused:
                raise
        return await self._post(body)

    async def _post(self, body: bytes) -> Timing:
        if self._reader is None or self._writer is None:
            self._reader, self._writer = await asyncio.open_connection(self.host, self.port)
        reader, writer = self._reader, self._writer
        head = (
            f"POST {self.path} HTTP/1.1\r\nhost: {self.host}:{self.port}\r\ncontent-type: application/json\r\n"
            f"accept: text/event-stream\r\ncontent-length: {len(body)}\r\n\r\n"
        ).encode()
        started = time.perf_counter()
        writer.write(head + body)
        status_and_headers = await reader.readuntil(b"\r\n\r\n")
        lines = status_and_headers.split(b"\r\n")
        status = int(lines[0].split(b" ", 2)[1])
        headers = {}
        for line in lines[1:]:
            name, _, value = line.partition(b":")
            headers[name.strip().lower()] = value.strip().lower()
        chunked = headers.get(b"transfer-encoding") == b"chunked"
        state = _StreamState(started)
        if chunked:
            while True:
                size = int((await reader.readline()).split(b";", 1)[0], 16)
                if size == 0:
                    await reader.readline()
                    break
                state.feed((await reader.readexactly(size + 2))[:-2])
        elif b"content-length" in headers:
            state.feed(await reader.readexactly(int(headers[b"content-length"])))
        else:
            state.feed(await reader.read())
            await self.close()
        if headers.get(b"connection") == b"close":
            await self.close()
        if status != 200:
            raise StreamError(f"{self.path}: HTTP {status}: {state.buffer[:300]!r}")
        if not state.done:
            raise StreamError(f"{self.path}: the stream ended without [DONE]")
        return Timing(state.first_ms, state.done_ms)


class _StreamState:
    """What has been seen of one SSE body so far."""

    def __init__(self, started: float) -> None:
        self.started = started
        self.buffer = b""
        self.first_ms = 0.0
        self.done_ms = 0.0
        self.done = False

    def feed(self, data: bytes) -> None:
        self.buffer += data
        if self.done:
            return
        *complete, self.buffer = self.buffer.split(b"\n")
        for line in complete:
            if not line.startswith(b"data: "):
                continue
            if line.rstrip() == DONE:
                self.done_ms = (time.perf_counter() - self.started) * 1000
                self.done = True
                self.first_ms = self.first_ms or self.done_ms
                return
            if not self.first_ms and _has_answer_text(line):
                self.first_ms = (time.perf_counter() - self.started) * 1000
