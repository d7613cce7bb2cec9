"""Decide, check the time left, then commit (RM-ERR-020, RM-ERR-022): with a controlled clock, no timing.

The deadline "expires between decide and commit" by moving the injected clock after the call's deadline
was taken and before the router checks it, which is what a slow decision on a busy router does.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path

import pytest

from rolemodel.error_reasons import ErrorReason
from rolemodel.v1 import common_pb2
from rolemodel_router.core import RouterCore
from rolemodel_router.deadlines import CommitDeadline
from rolemodel_router.engine.errors import RouterError
from rolemodel_router.state.in_process import InProcessStore
from rolemodel_router.state.sqlite import SqliteStore
from tests.engine.test_core import FIXTURE
from tests.execute.events import execute_request, user
from tests.requests import conversation, outcome, route

QUOTA = "fx-quota-window"
MARGIN_S = 0.020


class Clock:
    """Seconds that move only when the test says so."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def _deadline(clock: Clock, remaining_s: float, spent_deciding_s: float) -> CommitDeadline:
    deadline = CommitDeadline.after(remaining_s, MARGIN_S, clock)
    clock.now += spent_deciding_s
    return deadline


def _quota_reservations(store: InProcessStore) -> int:
    return len(store.ledgers[QUOTA].events)


async def _route_then_report(store: InProcessStore, commit: Callable[[], CommitDeadline]) -> list[str]:
    """A quota-role Route and its outcome, each under ``commit()``; the reasons they were refused with."""
    core = RouterCore(FIXTURE, store)
    refused: list[str] = []
    request = core.validate_route(route("x-conformance.quota", conversation("late", [100])))
    try:
        decision = await core.route(request, commit())
    except RouterError as error:
        refused.append(error.reason.value)
        decision = await core.route(request)  # in time, so that the outcome has a decision to report on
    report = outcome(decision.decision_id, decision.chosen_endpoint_id, common_pb2.OUTCOME_CLASS_TASK_FAILED)
    try:
        await core.report(report, commit())
    except RouterError as error:
        refused.append(error.reason.value)
    return refused


@pytest.mark.parametrize("kind", ["memory", "sqlite"])
def test_a_deadline_that_runs_out_while_deciding_commits_nothing(kind: str, tmp_path: Path) -> None:
    async def scenario() -> None:
        store = (
            InProcessStore(quotas=FIXTURE.quotas)
            if kind == "memory"
            else SqliteStore(tmp_path / "r.db", quotas=FIXTURE.quotas)
        )
        await store.start()
        clock = Clock()
        # 50 ms left when the call arrived, 40 ms of it spent deciding: 10 ms is less than the margin.
        refused = await _route_then_report(store, lambda: _deadline(clock, 0.050, 0.040))
        assert refused == [ErrorReason.DEADLINE_TOO_SHORT.value] * 2
        assert _quota_reservations(store) == 1, "only the Route made in time reserved quota"
        assert not (store.recent_outcomes if isinstance(store, SqliteStore) else store.outcomes)
        conversation_state = await store.conversation("late")
        assert not conversation_state.escalation, "the refused TASK_FAILED report escalated nothing"
        await store.close()

    asyncio.run(scenario())


def test_a_call_with_more_than_the_margin_left_commits() -> None:
    async def scenario() -> None:
        store = InProcessStore(quotas=FIXTURE.quotas)
        clock = Clock()
        refused = await _route_then_report(store, lambda: _deadline(clock, 0.050, 0.020))  # 30 ms left
        assert refused == []
        assert _quota_reservations(store) == 1 and len(store.outcomes) == 1

    asyncio.run(scenario())


def test_a_refusal_names_the_time_left_and_no_deadline_means_no_refusal() -> None:
    clock = Clock()
    with pytest.raises(RouterError) as caught:
        _deadline(clock, 0.030, 0.025)()
    assert caught.value.reason == ErrorReason.DEADLINE_TOO_SHORT
    assert caught.value.metadata == {"remaining_ms": "5"}
    CommitDeadline.after(None, MARGIN_S, clock)()  # no deadline: nothing to check


def test_a_call_cancelled_while_its_write_is_queued_keeps_memory_and_database_in_step(tmp_path: Path) -> None:
    """The transport cancels a call whose deadline fires during the group commit: the commit goes ahead, so
    memory must keep the reservation the database will hold (undoing it left the two apart)."""

    async def scenario() -> tuple[int, int]:
        store = SqliteStore(tmp_path / "r.db", quotas=FIXTURE.quotas)
        await store.start()
        core = RouterCore(FIXTURE, store)
        request = core.validate_route(route("x-conformance.quota", conversation("cancelled", [100])))
        call = asyncio.ensure_future(core.route(request))
        await asyncio.sleep(0)  # the call decides and queues its write
        assert store._pending, "the write is queued for this turn's group commit"
        call.cancel()
        with pytest.raises(asyncio.CancelledError):
            await call
        in_memory = _quota_reservations(store)
        await store.close()
        reopened = SqliteStore(tmp_path / "r.db", quotas=FIXTURE.quotas)
        await reopened.start()
        on_disk = _quota_reservations(reopened)
        await reopened.close()
        return in_memory, on_disk

    assert asyncio.run(scenario()) == (1, 1)


def test_execute_with_less_than_the_margin_left_refuses_before_its_stream_and_stores_no_decision() -> None:
    async def scenario() -> None:
        store = InProcessStore(quotas=FIXTURE.quotas)
        core = RouterCore(FIXTURE, store)
        request = execute_request([user("hello")], role="x-conformance.quota", conversation_id="late-execute")
        # Half the margin left: refused however fast the machine decides (without a margin it would commit).
        events = core.execute(request, deadline_s=core.deadline_margin_s / 2)
        with pytest.raises(RouterError) as caught:
            await anext(events)
        assert caught.value.reason == ErrorReason.DEADLINE_TOO_SHORT
        assert _quota_reservations(store) == 0 and not store.decisions and not store.conversations
        await core.aclose()

    asyncio.run(scenario())
