"""Slow clients cannot hold the front door: header and body timeouts, a connection cap, keep-alive limits."""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator

import httpx
import pytest

from tests.router.harness import RouterProcess

LIMITS = [
    "--http-header-timeout", "1", "--http-body-timeout", "1", "--http-max-connections", "20",
    "--http-max-requests-per-connection", "2",
]  # fmt: skip


@pytest.fixture(scope="module")
def router() -> Iterator[RouterProcess]:
    with RouterProcess(extra=["--http", "127.0.0.1:0", *LIMITS]) as process:
        yield process


def _connect(router: RouterProcess) -> socket.socket:
    host, port = router.http_url.removeprefix("http://").rsplit(":", 1)
    sock = socket.create_connection((host, int(port)), timeout=5)
    sock.settimeout(5)
    return sock


def _closed_after(sock: socket.socket) -> float:
    """Seconds until the router closes ``sock`` (reads until EOF), at most the socket's timeout."""
    started = time.monotonic()
    try:
        while sock.recv(4096):
            pass
    except (ConnectionResetError, TimeoutError):
        pass
    return time.monotonic() - started


def test_a_client_that_never_finishes_its_headers_is_closed(router: RouterProcess) -> None:
    with _connect(router) as sock:
        sock.sendall(b"POST /v1/chat/completions HTTP/1.1\r\nHo")
        assert _closed_after(sock) < 3


def test_a_client_that_never_sends_a_byte_is_closed(router: RouterProcess) -> None:
    with _connect(router) as sock:
        assert _closed_after(sock) < 3


def test_a_client_that_never_finishes_its_body_is_closed(router: RouterProcess) -> None:
    with _connect(router) as sock:
        sock.sendall(
            b"POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\ncontent-type: application/json\r\n"
            b'content-length: 100\r\n\r\n{"model":'
        )
        assert _closed_after(sock) < 3


def test_slow_clients_that_fill_the_cap_keep_no_one_out(router: RouterProcess) -> None:
    """Past the cap a newcomer replaces the connection that has waited longest for its headers."""
    held = [_connect(router) for _ in range(20)]
    try:
        for sock in held:
            sock.sendall(b"GET /v1/models HTTP/1.1\r\nHo")
        response = httpx.get(f"{router.http_url}/v1/models", timeout=5)
        assert response.status_code == 200
        held[0].settimeout(0.5)
        assert _closed_after(held[0]) < 0.5, "the oldest waiting connection made room"
    finally:
        for sock in held:
            sock.close()


def test_keep_alive_ends_after_the_requests_a_connection_may_carry(router: RouterProcess) -> None:
    request = b"GET /v1/models HTTP/1.1\r\nHost: x\r\n\r\n"
    with _connect(router) as sock:
        sock.sendall(request)
        assert sock.recv(65536).startswith(b"HTTP/1.1 200")
        sock.sendall(request)
        # Closed right after the second response, long before the 1-second header timeout would.
        assert _closed_after(sock) < 0.7, "the second request was the last this connection may carry"
