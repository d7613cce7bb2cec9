"""A started Execute stream's deadline (RM-EXEC-013, RM-EXEC-018): the router ends the stream, not the client's library.

A client's gRPC library ends a call at its deadline with a status of its own that
carries no ErrorInfo, and the router's answer after that is never read. So the
router stops waiting for the next event a moment before the deadline it computed
when the call began, and ends the stream with a ``failed`` event and a status
the client can read. The margin is below the tolerance within which a
cancellation counts as the deadline passing, so both ends record the same class.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from typing import TypeVar

T = TypeVar("T")

#: How long before the call's deadline the router ends a stream that is still waiting (spec 10.2).
DEADLINE_MARGIN_S = 0.05


class DeadlineReached(Exception):
    """The call's deadline is DEADLINE_MARGIN_S or less away; the event being awaited was cancelled."""


async def next_before_deadline(events: AsyncIterator[T], deadline: float | None) -> T:
    """The next event of ``events``, or DeadlineReached once the margin before ``deadline`` (monotonic) is reached.

    Waiting is cancelled inside ``events``, so a backend call it was reading is closed
    by its own clean-up. StopAsyncIteration at the end, as ``anext`` does.
    """
    if deadline is None:
        return await anext(events)
    timeout = asyncio.timeout(deadline - DEADLINE_MARGIN_S - time.monotonic())
    try:
        async with timeout:
            return await anext(events)
    except TimeoutError:
        if timeout.expired():
            raise DeadlineReached from None
        raise
