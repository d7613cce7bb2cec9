"""ASGI responses that misbehave on purpose: streams that stall, break or fail, bodies that stop halfway.

A cut is a real cut: the response ends without its final chunk, so the server closes the
connection and the client sees an incomplete body (httpx raises ``RemoteProtocolError``). A hang
is a real hang: nothing more is sent until the client disconnects or the backend stops; a client
that gives up is reported through ``on_abandoned``, so that a test can tell that its client really
cancelled the call.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable, Mapping

from starlette.responses import Response
from starlette.types import Receive, Scope, Send

from rolemodel_router.backends.scripted.script import Fault, FaultKind, Reply
from rolemodel_router.backends.scripted.wire import StreamPlan

#: How often a hanging response checks whether the backend is stopping, in seconds.
_POLL_SECONDS = 0.05


async def _disconnected(receive: Receive) -> None:
    while (await receive())["type"] != "http.disconnect":
        pass


async def wait_until_abandoned(receive: Receive, stopping: threading.Event) -> bool:
    """Wait until the client disconnects (``True``) or the backend stops (``False``)."""
    disconnect = asyncio.ensure_future(_disconnected(receive))
    try:
        while not stopping.is_set():
            done, _ = await asyncio.wait({disconnect}, timeout=_POLL_SECONDS)
            if done:
                return True
        return False
    finally:
        disconnect.cancel()


def _headers(content_type: str, extra: Mapping[str, str], length: int | None = None) -> list[tuple[bytes, bytes]]:
    headers = [(b"content-type", content_type.encode())]
    if length is not None:
        headers.append((b"content-length", str(length).encode()))
    headers.extend((k.lower().encode(), v.encode()) for k, v in extra.items())
    return headers


class HangingResponse(Response):
    """Sends nothing at all until the client gives up; answers 503 if the backend stops first."""

    def __init__(self, stopping: threading.Event, on_abandoned: Callable[[], None] | None = None) -> None:
        super().__init__()
        self._stopping = stopping
        self._on_abandoned = on_abandoned

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if await wait_until_abandoned(receive, self._stopping):
            if self._on_abandoned is not None:
                self._on_abandoned()
            return
        await send({"type": "http.response.start", "status": 503, "headers": _headers("text/plain", {})})
        await send({"type": "http.response.body", "body": b"the scripted backend is stopping"})


class CutBodyResponse(Response):
    """Announces the whole body's length, sends the first half, and ends the connection."""

    def __init__(self, body: bytes, headers: Mapping[str, str]) -> None:
        super().__init__()
        self._payload = body
        self._extra = dict(headers)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        headers = _headers("application/json", self._extra, len(self._payload))
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        await send({"type": "http.response.body", "body": self._payload[: len(self._payload) // 2], "more_body": True})


class ScriptedStreamResponse(Response):
    """Streams a :class:`StreamPlan` as SSE, paced by the reply, and breaks it as the fault says."""

    def __init__(
        self,
        plan: StreamPlan,
        *,
        reply: Reply,
        fault: Fault | None,
        invalid_frame: bytes,
        error_frame: bytes,
        headers: Mapping[str, str],
        stopping: threading.Event,
        on_abandoned: Callable[[], None] | None = None,
    ) -> None:
        super().__init__()
        self._on_abandoned = on_abandoned
        self._plan = plan
        self._reply = reply
        self._fault = fault
        self._invalid_frame = invalid_frame
        self._error_frame = error_frame
        self._extra = {"cache-control": "no-cache", **headers}
        self._stopping = stopping

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        headers = _headers("text/event-stream; charset=utf-8", self._extra)
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        for frame in self._plan.head:
            await send({"type": "http.response.body", "body": frame, "more_body": True})
        fault = self._fault
        strike_at = min(fault.after_deltas or 0, len(self._plan.groups)) if fault is not None else -1
        for index in range(len(self._plan.groups) + 1):
            if index == strike_at and fault is not None:
                if fault.kind == FaultKind.CUT:
                    return
                if fault.kind == FaultKind.HANG:
                    if await wait_until_abandoned(receive, self._stopping) and self._on_abandoned is not None:
                        self._on_abandoned()
                    return
                if fault.kind == FaultKind.STREAM_ERROR:
                    await send({"type": "http.response.body", "body": self._error_frame, "more_body": False})
                    return
                await send({"type": "http.response.body", "body": self._invalid_frame, "more_body": True})
            if index == len(self._plan.groups):
                break
            delay = self._reply.first_token_delay if index == 0 else self._reply.delta_delay
            if delay > 0:
                await asyncio.sleep(delay)
            await send({"type": "http.response.body", "body": self._plan.groups[index], "more_body": True})
        for frame in self._plan.tail:
            await send({"type": "http.response.body", "body": frame, "more_body": True})
        await send({"type": "http.response.body", "body": b"", "more_body": False})
