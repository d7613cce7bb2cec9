"""One access-log line per front-door request, whatever happened to it.

Decision and refusal lines say what the router decided; they are missing for a request that
never reached a handler (an unknown path, a wrong method) and say nothing of the HTTP status a
client saw. This middleware wraps the whole application, so every request, served, refused,
unknown or abandoned, ends with exactly one ``http request`` line: the method, the path without
its query string (a query can carry a key), the status, the time to the end of the answer, and
the bytes sent. Never a header value or any part of a body (RM-SEC-011).
"""

from __future__ import annotations

import logging
import time

from starlette.types import ASGIApp, Message, Receive, Scope, Send

log = logging.getLogger("rolemodel.router")
#: The status logged for a request whose handler raised before it could answer.
UNANSWERED = 500


class AccessLog:
    """ASGI middleware: one log line per HTTP request, after its last byte (or its failure)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        began = time.perf_counter()
        status = UNANSWERED
        sent = 0

        async def counting_send(message: Message) -> None:
            nonlocal status, sent
            if message["type"] == "http.response.start":
                status = int(message["status"])
            elif message["type"] == "http.response.body":
                sent += len(message.get("body", b""))
            await send(message)

        if not log.isEnabledFor(logging.INFO):  # the line would be dropped: do not count for it
            await self.app(scope, receive, send)
            return
        try:
            await self.app(scope, receive, counting_send)
        finally:
            log.info(
                "http request",
                extra={
                    "transport": "http",
                    "method": scope.get("method", ""),
                    "path": scope.get("path", ""),
                    "status": status,
                    "duration_ms": round((time.perf_counter() - began) * 1000, 3),
                    "response_bytes": sent,
                },
            )
