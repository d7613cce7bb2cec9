"""Execute's backend client notices a server that closed an idle keep-alive connection, the cheap way."""

from __future__ import annotations

import asyncio

import httpx

from rolemodel_router.execute.http_pool import backend_client, uses_lean_backend

ANSWER = b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\ncontent-type: text/plain\r\n\r\nok"


async def _serve_once_then_hang_up(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    """Answer one request with keep-alive, then close the connection as a server's idle timeout would."""
    await reader.readuntil(b"\r\n\r\n")
    writer.write(ANSWER)
    await writer.drain()
    await asyncio.sleep(0.05)
    writer.close()
    await writer.wait_closed()


async def _two_requests_across_a_hang_up() -> tuple[list[int], int]:
    connections = 0

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        nonlocal connections
        connections += 1
        await _serve_once_then_hang_up(reader, writer)

    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    statuses = []
    async with server, backend_client() as client:
        assert uses_lean_backend(client)
        statuses.append((await client.get(f"http://127.0.0.1:{port}/")).status_code)
        await asyncio.sleep(0.3)  # the server has closed the idle connection by now
        statuses.append((await client.get(f"http://127.0.0.1:{port}/")).status_code)
        await asyncio.sleep(0.2)  # let the second connection's handler finish too
    return statuses, connections


def test_a_connection_the_server_closed_is_not_reused() -> None:
    statuses, connections = asyncio.run(_two_requests_across_a_hang_up())
    assert statuses == [200, 200]
    assert connections == 2


def test_the_client_follows_no_redirects_and_keeps_the_pool_limits() -> None:
    client = backend_client()
    assert client.follow_redirects is False
    assert isinstance(client, httpx.AsyncClient)
    asyncio.run(client.aclose())


async def _first_read_of_a_post(body: bytes) -> bytes:
    """What the server's first read of a POST through the backend client holds."""
    first_reads: list[bytes] = []

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        first_reads.append(await reader.read(1 << 20))
        writer.write(ANSWER)
        await writer.drain()
        writer.close()

    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    async with server, backend_client() as client:
        response = await client.post(f"http://127.0.0.1:{port}/v1/chat/completions", content=body)
        assert response.status_code == 200
    return first_reads[0]


def test_a_request_goes_out_in_one_write() -> None:
    """Head and body leave together: the server's first read holds the whole request, not the head alone."""
    body = b'{"model": "m", "messages": []}' * 40
    first = asyncio.run(_first_read_of_a_post(body))
    assert first.startswith(b"POST /v1/chat/completions HTTP/1.1\r\n")
    assert first.endswith(b"\r\n\r\n" + body)


async def _cookie_headers_of_two_requests() -> list[bytes]:
    """The Cookie headers the server sees on two requests, the first answered with a Set-Cookie."""
    heads: list[bytes] = []

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        while head := await reader.readuntil(b"\r\n\r\n"):
            heads.append(head)
            cookie = b"set-cookie: session=backend-secret; Path=/\r\n" if len(heads) == 1 else b""
            writer.write(ANSWER.replace(b"\r\n\r\n", b"\r\n" + cookie + b"\r\n", 1))
            await writer.drain()
            if len(heads) == 2:
                break
        writer.close()

    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    async with server, backend_client() as client:
        for _ in range(2):
            assert (await client.get(f"http://127.0.0.1:{port}/")).status_code == 200
        assert not client.cookies
    return [line for head in heads for line in head.lower().split(b"\r\n") if line.startswith(b"cookie:")]


def test_a_cookie_one_backend_sets_is_not_sent_with_later_calls() -> None:
    """The client is shared by every principal's calls: it keeps no cookie a backend set."""
    assert asyncio.run(_cookie_headers_of_two_requests()) == []
