"""The hot path's side of the dashboard: note a decision or an outcome, and nothing more.

``decided`` and ``reported`` append the protobuf to a list: no copy, no serialisation, no I/O,
so Route pays a list append for the dashboard. A background task wakes every ``interval_s``,
turns what was noted into events (:mod:`.events`), appends them to the journal and folds the
journal into the view. What waits is bounded too: past ``max_pending`` the oldest notes are
dropped and counted, which only happens when the loop is starved.

A decision held in the pending list may carry handoff messages; they are never read and are
released at the next flush, within ``interval_s``.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import deque

from rolemodel.v1 import decision_pb2, outcome_pb2, router_service_pb2
from rolemodel_router.dashboard.events import Event, decision_event, outcome_event, quotas_event
from rolemodel_router.dashboard.journal import Journal
from rolemodel_router.dashboard.view import ActivityView

log = logging.getLogger("rolemodel.router")
Note = tuple[decision_pb2.Decision] | tuple[outcome_pb2.Outcome, router_service_pb2.ReportOutcomeResponse, int]


class ActivityFeed:
    def __init__(
        self, view: ActivityView, journal: Journal, *, interval_s: float = 0.25, max_pending: int = 50_000
    ) -> None:
        self.view = view
        self.journal = journal
        self.interval_s = interval_s
        self._pending: deque[Note] = deque(maxlen=max_pending)
        self._cursor = ""
        self._lock = asyncio.Lock()
        self._task: asyncio.Task[None] | None = None
        self.dropped_batches = 0
        self.failing = False

    # -- the hot path --------------------------------------------------------------------------

    def decided(self, decision: decision_pb2.Decision) -> None:
        self._pending.append((decision,))

    def reported(
        self, outcome: outcome_pb2.Outcome, response: router_service_pb2.ReportOutcomeResponse, now_ms: int
    ) -> None:
        self._pending.append((outcome, response, now_ms))

    # -- off the hot path ----------------------------------------------------------------------

    def _events(self) -> list[Event]:
        events = []
        quotas: dict[str, decision_pb2.QuotaState] = {}
        at_ms = 0
        while self._pending:
            note = self._pending.popleft()
            if len(note) == 1:
                decision = note[0]
                event = decision_event(self.view.index, decision)
                states = decision.quota_states
            else:
                outcome, response, now_ms = note
                event = outcome_event(outcome, response, now_ms)
                states = response.effects.quota_states
            events.append(event)
            at_ms = max(at_ms, event["at_ms"])
            for state in states:
                quotas[state.quota_id] = state
        if quotas:
            events.append(quotas_event(list(quotas.values()), at_ms))
        return events

    async def sync(self) -> None:
        """Write what was noted and fold everything new in the journal (also other replicas' events)."""
        async with self._lock:
            events = self._events()
            try:
                if events:
                    await self.journal.append(events)
                new, self._cursor = await self.journal.read(self._cursor)
            except Exception as error:  # the dashboard must never take the router down with it
                self.dropped_batches += 1
                if not self.failing:  # once per outage, not four times a second
                    log.warning(
                        "dashboard journal unavailable; its events are dropped until it returns",
                        extra={"journal": self.journal.name, "error": type(error).__name__},
                    )
                self.failing = True
                return
            if self.failing:
                back = {"journal": self.journal.name, "dropped_batches": self.dropped_batches}
                log.info("dashboard journal back", extra=back)
                self.failing = False
            self.view.fold(new)

    async def _run(self) -> None:
        while True:
            await asyncio.sleep(self.interval_s)
            await self.sync()

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="rolemodel-dashboard-feed")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        await self.sync()
