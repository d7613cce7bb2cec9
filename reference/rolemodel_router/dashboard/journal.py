"""Where the dashboard's events go: memory for one router, a Redis stream for replicas.

A journal is append-only and bounded; readers keep a cursor and fold what is after it. With the
state on Redis every replica appends to one stream (``XADD`` with an approximate ``MAXLEN``) and
every replica's view reads all of it, so the dashboard of any replica shows the decisions of all.
Journal failures never reach a caller of the router: the feed logs them and drops the batch.
"""

from __future__ import annotations

import json
from collections import deque
from typing import Any, Protocol

from rolemodel_router.dashboard.events import Event

#: Events kept: enough for the view to catch up after a pause of a few seconds at full speed.
DEFAULT_MAX_EVENTS = 50_000
READ_BATCH = 2_000


class Journal(Protocol):
    name: str

    async def append(self, events: list[Event]) -> None: ...

    async def read(self, cursor: str) -> tuple[list[Event], str]:
        """Events after ``cursor`` (``""`` for the oldest kept) and the cursor after them."""
        ...


class MemoryJournal:
    """One process's events, for its one reader (the view); reading hands them over and forgets them."""

    name = "memory"

    def __init__(self, max_events: int = DEFAULT_MAX_EVENTS) -> None:
        self._events: deque[Event] = deque(maxlen=max_events)

    async def append(self, events: list[Event]) -> None:
        self._events.extend(events)

    async def read(self, cursor: str) -> tuple[list[Event], str]:
        events = list(self._events)
        self._events.clear()
        return events, cursor


class RedisJournal:
    """A Redis stream shared by replicas; the cursor is the last stream id read."""

    name = "redis"

    def __init__(self, client: Any, key: str, max_events: int = DEFAULT_MAX_EVENTS) -> None:
        self.redis = client
        self.key = key
        self.max_events = max_events

    async def append(self, events: list[Event]) -> None:
        pipe = self.redis.pipeline(transaction=False)
        for event in events:
            pipe.xadd(self.key, {"e": json.dumps(event, separators=(",", ":"))}, maxlen=self.max_events)
        await pipe.execute()

    async def read(self, cursor: str) -> tuple[list[Event], str]:
        events: list[Event] = []
        while True:
            start = f"({cursor}" if cursor else "-"
            batch = await self.redis.xrange(self.key, min=start, max="+", count=READ_BATCH)
            for entry_id, fields in batch:
                cursor = entry_id.decode() if isinstance(entry_id, bytes) else entry_id
                raw = fields.get("e") or fields.get(b"e")
                events.append(json.loads(raw))
            if len(batch) < READ_BATCH:
                return events, cursor
