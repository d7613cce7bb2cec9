"""Codex CLI (``codex exec``) against the front door, configured from docs/clients.md, and a recording proxy.

Codex reads its provider from ``$CODEX_HOME/config.toml``; the harness writes there the snippet
that docs/clients.md documents, with the documented router address replaced by the test's, so the
docs are what is tested. Codex shows nothing of the router's response headers, so Codex talks to
the router through :class:`RecordingProxy`, a pass-through on loopback that keeps every answer's
headers and body: the router's cache prediction comes in a header
(``x-rolemodel-estimated-cached-tokens``), the cached tokens the backend reported in the final
event (its usage, and the ``rolemodel`` member).
"""

from __future__ import annotations

import json
import os
import subprocess
import threading
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from google.protobuf import json_format
from starlette.applications import Starlette
from starlette.background import BackgroundTask
from starlette.requests import Request
from starlette.responses import StreamingResponse
from starlette.routing import Route

from rolemodel.dialects.sse import SSEParser
from rolemodel.v1 import catalog_pb2
from rolemodel_router.backends.scripted import CacheRules, Reply, ScriptedBackend
from rolemodel_router.backends.scripted.server import BackgroundServer
from tests.clients.harness import SESSION_TIMEOUT_S, Session
from tests.http.responses_catalog import catalog
from tests.http.test_clients_doc import DOC_ADDRESS, snippet
from tests.router.harness import RouterProcess

TOKEN_VARIABLE = "ROLEMODEL_TOKEN"
_HOP_BY_HOP = {"connection", "keep-alive", "transfer-encoding", "content-length", "content-encoding", "host"}


@dataclass
class Exchange:
    """One request Codex made, and the headers and body the router answered with."""

    method: str
    path: str
    status: int
    headers: dict[str, str]
    request_body: bytes = b""
    body: bytearray = field(default_factory=bytearray)

    def final_event(self) -> dict[str, Any]:
        """The last event of a streamed answer (``response.completed`` when it finished)."""
        events = SSEParser().feed(bytes(self.body) + b"\n\n")
        final: dict[str, Any] = json.loads(events[-1].data)
        return final


@dataclass
class RecordingProxy:
    """Forwards every request to ``target`` unchanged, streaming the answer back, and records the exchange."""

    target: str
    base_url: str = ""
    exchanges: list[Exchange] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def app(self) -> Starlette:
        async def forward(request: Request) -> StreamingResponse:
            client = httpx.AsyncClient(base_url=self.target, timeout=httpx.Timeout(120.0))
            headers = {k: v for k, v in request.headers.items() if k.lower() not in _HOP_BY_HOP}
            content = await request.body()
            upstream = client.build_request(
                request.method, request.url.path, params=request.query_params, headers=headers, content=content
            )
            response = await client.send(upstream, stream=True)
            exchange = Exchange(request.method, request.url.path, response.status_code, dict(response.headers), content)
            with self._lock:
                self.exchanges.append(exchange)

            async def body() -> AsyncIterator[bytes]:
                async for chunk in response.aiter_raw():
                    exchange.body.extend(chunk)
                    yield chunk

            async def close() -> None:
                await response.aclose()
                await client.aclose()

            kept = {k: v for k, v in response.headers.items() if k.lower() not in _HOP_BY_HOP}
            return StreamingResponse(
                body(), status_code=response.status_code, headers=kept, background=BackgroundTask(close)
            )

        methods = ["GET", "POST", "HEAD", "DELETE", "PUT"]
        return Starlette(routes=[Route("/{path:path}", forward, methods=methods)])

    def responses(self) -> list[Exchange]:
        with self._lock:
            return [e for e in self.exchanges if e.path.endswith("/responses") and e.method == "POST"]


@contextmanager
def catalog_backend(default: Reply | None = None) -> Iterator[ScriptedBackend]:
    """A scripted backend for every model of the Responses tests' catalog, each caching as its endpoint says.

    The backend's prompt caches follow the catalog's caching rules, so the cached tokens the router
    predicts and those the backend reports can be compared; ``default`` answers whatever no test scripted.
    """
    with ScriptedBackend() as server:
        for endpoint in catalog(server.base_url)["endpoints"]:
            caching = json_format.ParseDict(endpoint["caching"], catalog_pb2.CachingBehavior())
            server.configure(endpoint["model"], cache=CacheRules.from_catalog(caching), default=default)
        yield server


@contextmanager
def recorded_router(catalog_path: Path, *extra: str) -> Iterator[RecordingProxy]:
    """A router with the front door on ``catalog_path`` (and ``extra`` options), reached through a recording proxy."""
    with RouterProcess("memory:", catalog=catalog_path, extra=["--http", "127.0.0.1:0", *extra]) as router:
        recorder = RecordingProxy(router.http_url)
        server = BackgroundServer(recorder.app(), threading.Event(), host="127.0.0.1", port=0)
        server.start()
        recorder.base_url = server.base_url
        try:
            yield recorder
        finally:
            server.stop()


def write_codex_home(directory: Path, router_url: str) -> Path:
    """``CODEX_HOME`` holding docs/clients.md's provider block, pointed at ``router_url``."""
    directory.mkdir(parents=True, exist_ok=True)
    config = snippet("codex").replace(DOC_ADDRESS, router_url.removeprefix("http://"))
    (directory / "config.toml").write_text(config)
    return directory


def run_codex(
    binary: Path,
    codex_home: Path,
    workdir: Path,
    prompt: str,
    *,
    model: str,
    resume: bool = False,
    variables: dict[str, str] | None = None,
) -> Session:
    """One ``codex exec`` (or ``codex exec resume --last``) session in ``workdir`` on ``model``.

    ``variables`` adds to Codex's environment, for the ``env_http_headers`` of the provider block
    (``ROLEMODEL_DIFFICULTY``, read when the session starts).
    """
    command = [str(binary), "exec"]
    if resume:
        command += ["resume", "--last"]
    command += [
        "--skip-git-repo-check",
        "--dangerously-bypass-approvals-and-sandbox",  # the test directory is the sandbox
        "-c",
        f'model="{model}"',
        prompt,
    ]
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(codex_home.parent),
        "CODEX_HOME": str(codex_home),
        TOKEN_VARIABLE: "client-test-token",
        "RUST_LOG": "error",
        **(variables or {}),
    }
    done = subprocess.run(
        command, cwd=workdir, env=env, capture_output=True, text=True, timeout=SESSION_TIMEOUT_S, check=False
    )
    return Session(done.returncode, done.stdout, done.stderr)
