"""The HTTP client Execute calls the backends with: httpx, with a cheap answer to "has the server hung up?".

Before httpcore's pool hands out a connection, and again after each response, it asks every idle
connection whether its socket has become readable (which, for an idle connection, means the server
closed it). Through anyio each such question rebuilds a table of the socket's attributes, imports a
helper and calls ``getpeername``; at concurrency 16 the pool holds 16 or more connections, and that
was 6 to 7% of the front door's CPU. :class:`_HangupCheckedStream` answers from the raw socket it
looked up once, with the same ``poll`` httpcore uses; everything else is anyio's stream, unchanged.

The backend is installed into the pool httpx builds, through an attribute httpcore keeps private;
when a version of httpcore no longer has it, the client keeps httpcore's own backend and works the
same, only slower (:func:`uses_lean_backend` tells, and a test pins it).
"""

from __future__ import annotations

import select
import socket
import ssl
from collections.abc import Iterable
from typing import Any

import httpcore
import httpx

LIMITS = httpx.Limits(max_connections=512, max_keepalive_connections=64)


def _hung_up(sock: socket.socket) -> bool:
    """Whether ``sock`` is readable now (or gone): for an idle HTTP connection, the server closed it."""
    fd = sock.fileno()
    if fd < 0:
        return True
    poller = select.poll()
    poller.register(fd, select.POLLIN)
    return bool(poller.poll(0))


class _HangupCheckedStream(httpcore.AsyncNetworkStream):
    """anyio's stream, with a cheap hang-up check, that sends a request in one write.

    httpcore writes a request's head, its body and its (empty) end separately: three writes, and
    three wake-ups of the backend, where one does. The writes are held until the next read, which
    comes as soon as the request is written (HTTP/1.1 reads the answer after the whole request),
    and go out together first.
    """

    def __init__(self, inner: httpcore.AsyncNetworkStream) -> None:
        self._inner = inner
        self._socket: socket.socket | None = inner.get_extra_info("socket")
        self._unsent: list[bytes] = []
        self._write_timeout: float | None = None

    async def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        if self._unsent:
            await self._flush()
        return await self._inner.read(max_bytes, timeout)

    async def write(self, buffer: bytes, timeout: float | None = None) -> None:
        if buffer:
            self._unsent.append(buffer)
            self._write_timeout = timeout

    async def _flush(self) -> None:
        unsent, self._unsent = self._unsent, []
        await self._inner.write(b"".join(unsent), self._write_timeout)

    async def aclose(self) -> None:
        self._unsent.clear()
        await self._inner.aclose()

    async def start_tls(
        self, ssl_context: ssl.SSLContext, server_hostname: str | None = None, timeout: float | None = None
    ) -> httpcore.AsyncNetworkStream:
        if self._unsent:
            await self._flush()
        return _HangupCheckedStream(await self._inner.start_tls(ssl_context, server_hostname, timeout))

    def get_extra_info(self, info: str) -> Any:
        if info == "is_readable" and self._socket is not None:
            return _hung_up(self._socket)
        return self._inner.get_extra_info(info)


class LeanNetworkBackend(httpcore.AsyncNetworkBackend):
    """httpcore's own backend for everything; its streams answer the hang-up question cheaply."""

    def __init__(self, inner: httpcore.AsyncNetworkBackend | None = None) -> None:
        self._inner = inner or httpcore.AnyIOBackend()

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        stream = await self._inner.connect_tcp(host, port, timeout, local_address, socket_options)
        return _HangupCheckedStream(stream)

    async def connect_unix_socket(
        self, path: str, timeout: float | None = None, socket_options: Iterable[httpcore.SOCKET_OPTION] | None = None
    ) -> httpcore.AsyncNetworkStream:
        return _HangupCheckedStream(await self._inner.connect_unix_socket(path, timeout, socket_options))

    async def sleep(self, seconds: float) -> None:
        await self._inner.sleep(seconds)


class _NoCookies(httpx.Cookies):
    """A cookie jar that keeps nothing and sends nothing."""

    def extract_cookies(self, response: httpx.Response) -> None:
        return None

    def set_cookie_header(self, request: httpx.Request) -> None:
        return None


class _BackendClient(httpx.AsyncClient):
    """httpx's client without a cookie jar.

    The client is shared by every call of every principal, so a cookie one backend set would go
    out with other principals' calls; and httpx reads each response's cookies through urllib's
    request class, about 2% of the front door's CPU. Backends' cookies are dropped instead.
    """

    @property
    def cookies(self) -> httpx.Cookies:
        return _NoCookies()

    @cookies.setter
    def cookies(self, cookies: httpx._types.CookieTypes) -> None:
        return None


def backend_client() -> httpx.AsyncClient:
    """One pool for every backend: no redirects followed, no cookies kept, proxies from the environment."""
    transport = httpx.AsyncHTTPTransport(limits=LIMITS)
    pool = getattr(transport, "_pool", None)
    if isinstance(pool, httpcore.AsyncConnectionPool) and hasattr(pool, "_network_backend"):
        pool._network_backend = LeanNetworkBackend(pool._network_backend)
    return _BackendClient(transport=transport, limits=LIMITS, follow_redirects=False)


def uses_lean_backend(client: httpx.AsyncClient) -> bool:
    """Whether ``client``'s default transport checks hang-ups the cheap way."""
    pool = getattr(client._transport, "_pool", None)
    return isinstance(getattr(pool, "_network_backend", None), LeanNetworkBackend)
