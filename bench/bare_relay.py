"""A bare relay: uvicorn and httpx, as the front door uses them, forwarding bytes without reading them.

The floor under the front door in this Python: each request's body is posted to the backend's
Chat Completions endpoint with one shared ``httpx.AsyncClient``, and the backend's stream is
relayed to the client chunk by chunk, unparsed. No routing, no decoding or encoding, no records.
What the front door costs above this relay is its own work; what this relay costs above the
backend is what any front door built on the same server and client pays.

    python bench/bare_relay.py BACKEND_URL    # prints the relay's URL, then serves until killed
"""

from __future__ import annotations

import socket
import sys
from typing import Any

import httpx
import uvicorn


class BareRelay:
    """The ASGI application: every POST goes to the backend's ``/v1/chat/completions``."""

    def __init__(self, backend_url: str) -> None:
        self.target = httpx.URL(f"{backend_url}/v1/chat/completions")
        self.client: httpx.AsyncClient | None = None

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if self.client is None:  # made in the server's loop
            self.client = httpx.AsyncClient(limits=httpx.Limits(max_connections=512, max_keepalive_connections=64))
        body = b""
        more = True
        while more:
            message = await receive()
            body += message.get("body", b"")
            more = message.get("more_body", False)
        request = self.client.build_request(
            "POST", self.target, content=body, headers={"content-type": "application/json"}
        )
        response = await self.client.send(request, stream=True)
        try:
            await send(
                {
                    "type": "http.response.start",
                    "status": response.status_code,
                    "headers": [(b"content-type", response.headers.get("content-type", "").encode())],
                }
            )
            async for chunk in response.aiter_raw():
                await send({"type": "http.response.body", "body": chunk, "more_body": True})
        finally:
            await response.aclose()
        await send({"type": "http.response.body", "body": b"", "more_body": False})


def main() -> None:
    if len(sys.argv) != 2:
        raise SystemExit("usage: python bench/bare_relay.py BACKEND_URL")
    listener = socket.create_server(("127.0.0.1", 0))
    listener.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)  # as the front door's listener does
    print(f"http://127.0.0.1:{listener.getsockname()[1]}", flush=True)
    config = uvicorn.Config(BareRelay(sys.argv[1]), lifespan="off", access_log=False, log_level="warning")
    uvicorn.Server(config).run(sockets=[listener])


if __name__ == "__main__":
    main()
