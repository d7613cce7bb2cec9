"""Read an async iterator in batches: each batch is every item that has arrived and not yet been taken.

A backend's stream arrives in network reads, and one read often holds many of its chunks. httpx
hands them over one at a time, and a relay that writes each one as it comes makes one system
call (and one pass through the HTTP server's send path) per chunk: on the front door that was a
fifth of its CPU. :func:`batches_in_hand` reads the items in a task of its own, which takes every
chunk a read brought before it waits for the network again; the reader of the batches then gets
all of them at once and writes them together. Nothing waits to fill a batch: a batch is whatever
is there when its reader asks, and the first item of a stream is handed over as soon as it comes.

The reading task stops taking items once :data:`MAX_IN_HAND` wait untaken, and goes on when the
reader takes them: a slow client then slows the backend's stream, as it did when each chunk was
written before the next was read, instead of the router holding the rest of the stream for it.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator, AsyncIterator
from typing import Generic, TypeVar

T = TypeVar("T")

#: Items the reading task holds for a reader that has not taken them, before it waits for the reader.
MAX_IN_HAND = 256


class _Arrivals(Generic[T]):
    """What the reading task has taken from the iterator so far, and how the iterator ended."""

    def __init__(self, limit: int) -> None:
        self.items: list[T] = []
        self.arrived = asyncio.Event()
        self.taken = asyncio.Event()
        self.limit = limit
        self.ended = False
        self.error: Exception | None = None

    async def read(self, items: AsyncIterator[T]) -> None:
        try:
            async for item in items:
                self.items.append(item)
                self.arrived.set()
                while len(self.items) >= self.limit:
                    self.taken.clear()
                    await self.taken.wait()
        except Exception as error:  # handed to the reader of the batches, after what came before it
            self.error = error
        finally:
            self.ended = True
            self.arrived.set()

    def take(self) -> list[T]:
        items, self.items = self.items, []
        self.arrived.clear()
        self.taken.set()
        return items


async def batches_in_hand(items: AsyncIterator[T], limit: int = MAX_IN_HAND) -> AsyncGenerator[list[T], None]:
    """``items`` in batches of what has arrived, at most ``limit`` each; no batch is empty.

    An error of ``items`` is raised after the items that came before it.

    Closing the batches early cancels the reading task and waits for its clean-up (httpx closes
    the connection there), so that nothing of the stream outlives its reader.
    """
    arrivals: _Arrivals[T] = _Arrivals(limit)
    reading = asyncio.get_running_loop().create_task(arrivals.read(items))
    try:
        while True:
            await arrivals.arrived.wait()
            ended = arrivals.ended  # read before taking: whatever arrives after it is in a later batch
            batch = arrivals.take()
            if batch:
                yield batch
            if ended:
                if arrivals.error is not None:
                    raise arrivals.error
                return
    finally:
        if not reading.done():
            reading.cancel()
            await asyncio.wait([reading])
