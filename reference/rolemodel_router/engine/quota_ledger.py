"""A quota's events with running totals, so that reading a window costs O(1), not O(events).

A quota of "N requests per 5 hours" may hold thousands of events; summing
them on every decision would make routing slower the busier the endpoint.
The ledger keeps the events of the current window in time order and their
totals, evicts from the front as the window moves, and adjusts the totals
when an outcome reconciles an event that still counts.
"""

from __future__ import annotations

import bisect
from collections.abc import Iterable

from rolemodel.v1 import catalog_pb2
from rolemodel_router.engine.catalog_index import QuotaIndex
from rolemodel_router.engine.quota import Window
from rolemodel_router.state.model import QuotaEvent


class QuotaLedger:
    def __init__(self, quota: QuotaIndex, events: Iterable[QuotaEvent] = ()) -> None:
        self.quota = quota
        self.length_ms = quota.quota.window_seconds * 1000
        self.rolling = quota.quota.window_kind == catalog_pb2.QUOTA_WINDOW_KIND_ROLLING
        self.events: dict[str, QuotaEvent] = {}  # every event kept, counted or not
        self._order: list[tuple[int, str]] = []  # (at_ms, decision_id) of the counted events, oldest first
        self._counted: set[str] = set()
        self.requests = self.tokens = self.cost_picos = 0
        for event in sorted(events, key=lambda e: e.at_ms):
            self.upsert(event)

    def _start(self, now_ms: int) -> int:
        """The first millisecond that counts at ``now_ms``."""
        if self.rolling:
            return now_ms - self.length_ms + 1
        return now_ms - now_ms % self.length_ms

    def _add(self, event: QuotaEvent, sign: int) -> None:
        self.requests += sign * event.requests
        self.tokens += sign * event.tokens
        self.cost_picos += sign * event.cost_picos

    def _evict(self, now_ms: int) -> None:
        start = self._start(now_ms)
        cut = bisect.bisect_left(self._order, (start, ""))
        for _, decision_id in self._order[:cut]:
            self._counted.discard(decision_id)
            self._add(self.events[decision_id], -1)
        del self._order[:cut]

    def window(self, now_ms: int) -> Window:
        self._evict(now_ms)
        start = self._start(now_ms)
        if self.rolling:
            resets = (self._order[0][0] if self._order else now_ms) + self.length_ms
        else:
            resets = start + self.length_ms
        return Window(self.requests, self.tokens, self.cost_picos, resets, start)

    def upsert(self, event: QuotaEvent) -> None:
        """Add an event, or replace one with the same decision (an outcome reconciling a reservation)."""
        old = self.events.get(event.decision_id)
        if old is not None and event.decision_id in self._counted:
            self._add(old, -1)
            self._add(event, +1)
            self.events[event.decision_id] = event
            return
        self.events[event.decision_id] = event
        if old is None:
            bisect.insort(self._order, (event.at_ms, event.decision_id))
            self._counted.add(event.decision_id)
            self._add(event, +1)

    def restore(self, decision_id: str, previous: QuotaEvent | None) -> None:
        """Undo an ``upsert`` whose write failed: put ``previous`` back, or drop the event it added."""
        if previous is not None:
            self.upsert(previous)
            return
        event = self.events.pop(decision_id, None)
        if event is None:
            return
        if decision_id in self._counted:
            self._counted.discard(decision_id)
            self._add(event, -1)
            self._order.remove((event.at_ms, decision_id))

    def forget_before(self, oldest_ms: int) -> list[str]:
        """Drop kept events older than ``oldest_ms`` that no longer count; returns their decision ids."""
        dropped = [d for d, e in self.events.items() if e.at_ms < oldest_ms and d not in self._counted]
        for decision_id in dropped:
            del self.events[decision_id]
        return dropped
