"""Serve the front door with uvicorn inside the router's own event loop, next to the gRPC server.

One process, one loop, two listeners: the HTTP handlers call the same ``RouterCore`` object as
the gRPC servicer, with no thread or process in between. The socket is bound before the server
starts, so port 0 works and the real address is known at once. The router owns the signals
(uvicorn would install its own handlers), and :meth:`FrontDoorServer.stop` drains like the gRPC
server does: it stops accepting, lets requests in flight finish within the grace period, then
cancels what is left.
"""

from __future__ import annotations

import asyncio
import contextlib
import math
import socket
import ssl
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import uvicorn
from starlette.types import ASGIApp

from rolemodel_router.http.slow_clients import HttpLimits, guarded_protocol

START_TIMEOUT_S = 10.0


@dataclass(frozen=True)
class HttpTls:
    """PEM files, the same as the gRPC listener's; with ``client_ca`` clients must present a certificate."""

    cert: Path
    key: Path
    client_ca: Path | None = None


def split_address(address: str) -> tuple[str, int]:
    """``HOST:PORT`` (``[::1]:PORT`` for IPv6) as a host and a port; raises ValueError otherwise."""
    host, colon, port = address.rpartition(":")
    if not colon or not port.isdigit() or not host:
        raise ValueError(f"expected HOST:PORT, got {address!r}")
    return host.strip("[]"), int(port)


def bind(address: str, *, reuse_port: bool = False) -> socket.socket:
    """A listening socket; ``reuse_port`` lets the workers of ``serve --workers N`` share one port.

    TCP_NODELAY is set here, on the listener, so that every accepted connection inherits it: asyncio
    sets it only on sockets whose ``proto`` is ``IPPROTO_TCP``, and ``create_server`` makes ``proto`` 0.
    Without it, Nagle holds each small write of a stream (the first chunk after the headers, the
    chunked terminator) until the client's delayed ACK, up to 40 ms on Linux, on every response.
    """
    host, port = split_address(address)
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    listener = socket.create_server((host, port), family=family, backlog=512, reuse_port=reuse_port)
    listener.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return listener


class _Server(uvicorn.Server):
    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        """The router handles SIGTERM and SIGINT for both listeners; uvicorn must not take them."""
        yield


class FrontDoorServer:
    """The front door on ``address``, started by :meth:`start` and drained by :meth:`stop`."""

    def __init__(
        self,
        app: ASGIApp,
        address: str,
        *,
        grace_s: float,
        tls: HttpTls | None = None,
        limits: HttpLimits | None = None,
        reuse_port: bool = False,
    ) -> None:
        limits = limits or HttpLimits()
        self._socket = bind(address, reuse_port=reuse_port)
        host, port = self._socket.getsockname()[:2]
        scheme = "https" if tls else "http"
        self.url = f"{scheme}://[{host}]:{port}" if ":" in host else f"{scheme}://{host}:{port}"
        config = uvicorn.Config(
            app,
            http=guarded_protocol(limits),
            timeout_keep_alive=max(math.ceil(limits.keep_alive_s), 1),
            lifespan="off",
            access_log=False,
            log_config=None,
            log_level="warning",
            timeout_graceful_shutdown=max(math.ceil(grace_s), 1),
            ssl_certfile=str(tls.cert) if tls else None,
            ssl_keyfile=str(tls.key) if tls else None,
            ssl_ca_certs=str(tls.client_ca) if tls and tls.client_ca else None,
            ssl_cert_reqs=ssl.CERT_REQUIRED if tls and tls.client_ca else ssl.CERT_NONE,
        )
        self._server = _Server(config)
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        """Serve in the running loop; raises OSError when the server does not come up."""
        self._task = asyncio.create_task(self._server.serve(sockets=[self._socket]), name="rolemodel-http")
        deadline = asyncio.get_running_loop().time() + START_TIMEOUT_S
        while not self._server.started:
            if self._task.done() or asyncio.get_running_loop().time() > deadline:
                self._socket.close()
                raise OSError(f"the HTTP front door did not start on {self.url}")
            await asyncio.sleep(0.005)

    async def stop(self) -> None:
        """Stop accepting, finish requests in flight within the grace period, then return."""
        if self._task is None:
            return
        self._server.should_exit = True
        with contextlib.suppress(asyncio.CancelledError):
            await self._task
        self._task = None
        self._socket.close()
