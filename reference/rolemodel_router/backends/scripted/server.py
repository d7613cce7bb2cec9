"""Run the scripted backend's app with uvicorn on a socket bound in advance.

Binding first (port 0 picks a free port) means the address is known before the server starts,
with no race and no retry loop; the in-process runner then serves from a background thread, and
the command line from the main thread.
"""

from __future__ import annotations

import logging
import socket
import threading
import time

import uvicorn
from starlette.types import ASGIApp

_CUT_MESSAGE = "ASGI callable returned without completing response."
_START_TIMEOUT_SECONDS = 10.0


class _IntentionalCutFilter(logging.Filter):
    """Drops uvicorn's report of a response that ended early: the backend only does that when scripted to."""

    def filter(self, record: logging.LogRecord) -> bool:
        return record.getMessage() != _CUT_MESSAGE


def install_cut_filter() -> None:
    logger = logging.getLogger("uvicorn.error")
    if not any(isinstance(f, _IntentionalCutFilter) for f in logger.filters):
        logger.addFilter(_IntentionalCutFilter())


def bind_socket(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    # Accepted connections inherit this on Linux: without it, each small SSE write after the first
    # can wait for the client's delayed ACK (about 40 ms), which real providers do not add.
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    sock.bind((host, port))
    sock.listen(128)
    sock.set_inheritable(True)
    return sock


def base_url(sock: socket.socket) -> str:
    host, port = sock.getsockname()[:2]
    return f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"


class ScriptedServer(uvicorn.Server):
    """A uvicorn server that releases hanging responses as soon as it starts shutting down."""

    def __init__(self, app: ASGIApp, stopping: threading.Event, *, log_config: bool = False) -> None:
        config = uvicorn.Config(
            app,
            http="h11",
            loop="asyncio",
            lifespan="off",
            access_log=False,
            log_config=uvicorn.config.LOGGING_CONFIG if log_config else None,
            log_level="warning" if log_config else None,
            timeout_graceful_shutdown=2,
        )
        super().__init__(config)
        self._stopping = stopping

    async def shutdown(self, sockets: list[socket.socket] | None = None) -> None:
        self._stopping.set()
        await super().shutdown(sockets)


class BackgroundServer:
    """A :class:`ScriptedServer` serving in a daemon thread, for tests in the same process."""

    def __init__(self, app: ASGIApp, stopping: threading.Event, *, host: str, port: int) -> None:
        self._server = ScriptedServer(app, stopping)
        self._socket = bind_socket(host, port)
        self.base_url = base_url(self._socket)
        self._thread = threading.Thread(
            target=self._server.run, kwargs={"sockets": [self._socket]}, name="scripted-backend", daemon=True
        )

    def start(self) -> None:
        """Start serving; raises RuntimeError when the server is not up within ten seconds."""
        self._thread.start()
        deadline = time.monotonic() + _START_TIMEOUT_SECONDS
        while not self._server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("the scripted backend did not start")
            time.sleep(0.005)

    def stop(self) -> None:
        self._server.should_exit = True
        self._thread.join(timeout=_START_TIMEOUT_SECONDS)
        self._socket.close()
