"""Limits on what one HTTP client may hold of the front door: time to send a request, connections, reuse.

uvicorn reads headers and bodies for as long as a client cares to send them, one byte at a time if it
likes, and accepts every connection the kernel hands it. A thousand such clients (slow-loris) hold a
thousand file descriptors and starve everyone else. The protocol class here, a subclass of uvicorn's
h11 protocol, closes a connection whose request headers have not arrived within ``header_timeout_s``
of its start (or of its previous response), or whose body has not arrived within ``body_timeout_s``
of its headers; keeps at most ``max_connections`` open; and ends keep-alive after
``max_requests_per_connection`` requests. Past ``max_connections`` a new connection takes the place of
the one that has waited longest for its headers, so a client who fills the cap with slow connections
keeps no one out. The idle keep-alive timeout is uvicorn's own.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any

from uvicorn.protocols.http.h11_impl import H11Protocol


@dataclass(frozen=True)
class HttpLimits:
    """What one client may hold; the defaults leave room in a 1,024 file-descriptor limit for the rest."""

    #: Seconds from a connection's start (or its previous response) to its request's last header line.
    header_timeout_s: float = 10.0
    #: Seconds from the last header line to the body's last byte.
    body_timeout_s: float = 60.0
    #: Open connections; a new one past the cap replaces the one waiting longest for its headers.
    max_connections: int = 512
    #: Seconds an idle keep-alive connection stays open.
    keep_alive_s: float = 5.0
    #: Requests one connection may carry before the router closes it after the response.
    max_requests_per_connection: int = 1000

    def __post_init__(self) -> None:
        for name in ("header_timeout_s", "body_timeout_s", "keep_alive_s"):
            if getattr(self, name) <= 0:
                raise ValueError(f"{name} must be above 0")
        if self.max_connections < 1 or self.max_requests_per_connection < 1:
            raise ValueError("max_connections and max_requests_per_connection must be 1 or more")


class _Guarded(H11Protocol):
    limits = HttpLimits()

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._deadline: asyncio.TimerHandle | None = None
        self._timed_cycle: object | None = None
        self._waiting_for = ""
        self._requests = 0
        self._since = 0.0

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._since = self.loop.time()
        if len(self.connections) > self.limits.max_connections and not self._evict_a_waiting_connection():
            transport.close()
            return
        self._await_headers()

    def _evict_a_waiting_connection(self) -> bool:
        """Make room by closing the connection that has waited longest for its request's headers.

        Refusing the newcomer instead would let a slow client who filled the cap keep everyone else out
        until the header timeout; a connection that is sending its body or waiting for its answer is never
        closed for a newcomer.
        """
        waiting = [
            c for c in self.connections if isinstance(c, _Guarded) and c is not self and c._waiting_for == "headers"
        ]
        if not waiting:
            return False
        oldest = min(waiting, key=lambda c: c._since)
        oldest._too_slow()
        return True

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        super().connection_lost(exc)

    def handle_events(self) -> None:
        super().handle_events()
        cycle = self.cycle
        if cycle is None or self.transport.is_closing():
            return
        if self._waiting_for == "headers" and cycle is not self._timed_cycle:
            self._requests += 1
            if self._requests >= self.limits.max_requests_per_connection:
                cycle.keep_alive = False
            self._arm("body", self.limits.body_timeout_s, cycle)
        if self._waiting_for == "body" and not cycle.more_body:
            self._disarm()

    def on_response_complete(self) -> None:
        super().on_response_complete()
        if not self.transport.is_closing():
            self._await_headers()

    def _await_headers(self) -> None:
        self._since = self.loop.time()
        self._arm("headers", self.limits.header_timeout_s, self.cycle)

    def _arm(self, waiting_for: str, seconds: float, cycle: object | None) -> None:
        self._disarm()
        self._waiting_for = waiting_for
        self._timed_cycle = cycle
        self._deadline = self.loop.call_later(seconds, self._too_slow)

    def _disarm(self) -> None:
        if self._deadline is not None:
            self._deadline.cancel()
        self._deadline = None
        self._waiting_for = ""

    def _too_slow(self) -> None:
        """The client did not send its request in time: close, as uvicorn's keep-alive timeout does."""
        self._deadline = None
        if not self.transport.is_closing():
            self.transport.close()


def guarded_protocol(limits: HttpLimits) -> type[H11Protocol]:
    """uvicorn's h11 protocol with ``limits`` enforced, for ``uvicorn.Config(http=...)``."""
    return type("GuardedH11Protocol", (_Guarded,), {"limits": limits})
