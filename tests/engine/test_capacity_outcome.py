"""What an outcome does to the servers' residents (RM-CACHE-034, RM-CACHE-035), in memory and in SQLite.

A decision admits its conversation to the chosen server at once. When the outcome shows the server
never took the prompt (a failure with no input tokens, or a fallback served the turn), the
admission is taken back, and a fallback that served holds the conversation from then on.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from rolemodel.v1 import common_pb2, decision_pb2
from rolemodel_router.core import RouterCore
from rolemodel_router.state import sqlite
from rolemodel_router.state.in_process import InProcessStore
from rolemodel_router.state.store import Retention, StateStore
from tests.engine.test_local_capacity import FIXTURE, Clock
from tests.requests import conversation, new_id, outcome, route, usage

D = decision_pb2
SMALL, BIG = "fx-pool-small", "fx-pool-big"


def _view(decision: D.Decision, endpoint_id: str) -> D.Candidate:
    return next(c for c in decision.candidates if c.endpoint_id == endpoint_id)


async def _turn(core: RouterCore, conv_id: str, counts: list[int], index: int) -> D.Decision:
    return await core.route(
        core.validate_route(route("x-conformance.pool", conversation(conv_id, counts, turn_index=index)))
    )


async def _served(core: RouterCore, decision: D.Decision, endpoint_id: str, tokens: int) -> None:
    await core.report(outcome(decision.decision_id, endpoint_id, used=usage(tokens, output_tokens=100), ttft_ms=300))


async def _two_residents(core: RouterCore) -> tuple[str, str]:
    a, b = new_id("a"), new_id("b")
    for conv_id in (a, b):
        decision = await _turn(core, conv_id, [2000], 0)
        assert decision.chosen_endpoint_id == SMALL
        await _served(core, decision, SMALL, 2000)
    return a, b


async def _fallback_serves(core: RouterCore) -> dict[str, D.Decision]:
    a, _ = await _two_residents(core)
    c = new_id("c")
    first = await _turn(core, c, [2000], 0)
    assert first.chosen_endpoint_id == SMALL and BIG in first.fallback_endpoint_ids
    assert _view(first, SMALL).cache.evicts_sequences == 1  # the decision predicted a's eviction
    await _served(core, first, BIG, 2000)
    return {
        "a": await _turn(core, a, [2000, 200], 1),
        "c": await _turn(core, c, [2000, 200], 1),
    }


async def _failure_without_input(core: RouterCore) -> D.Decision:
    a, _ = await _two_residents(core)
    failed = await _turn(core, new_id("d"), [2000], 0)
    assert failed.chosen_endpoint_id == SMALL
    await core.report(outcome(failed.decision_id, SMALL, common_pb2.OUTCOME_CLASS_SERVER_ERROR))
    return await _turn(core, a, [2000, 200], 1)


def _stores(tmp_path: Path) -> list[StateStore]:
    return [InProcessStore(quotas=FIXTURE.quotas), sqlite.SqliteStore(tmp_path / "r.db", Retention(), FIXTURE.quotas)]


@pytest.mark.parametrize("kind", [0, 1], ids=["memory", "sqlite"])
def test_a_fallback_that_served_holds_the_conversation_and_the_chosen_one_gets_its_residents_back(
    tmp_path: Path, kind: int
) -> None:
    async def scenario() -> dict[str, D.Decision]:
        store = _stores(tmp_path)[kind]
        await store.start()
        try:
            return await _fallback_serves(RouterCore(FIXTURE, store, clock=Clock()))
        finally:
            await store.close()

    turns = asyncio.run(scenario())
    a_on_small = _view(turns["a"], SMALL)
    assert not a_on_small.cache.evicted and a_on_small.cache.slot == 0 and a_on_small.cost.cached_tokens > 0
    c_on_big = _view(turns["c"], BIG)
    assert not c_on_big.cache.evicted and c_on_big.cache.slot == 0 and c_on_big.cost.cached_tokens > 0


def test_a_failure_before_the_server_took_the_prompt_takes_the_admission_back() -> None:
    core = RouterCore(FIXTURE, InProcessStore(quotas=FIXTURE.quotas), clock=Clock())
    view = _view(asyncio.run(_failure_without_input(core)), SMALL)
    assert not view.cache.evicted and view.cache.slot == 0 and view.cost.cached_tokens > 0


def test_a_later_admission_keeps_its_own_prediction_when_an_earlier_one_is_taken_back() -> None:
    async def scenario() -> tuple[D.Decision, D.Decision]:
        core = RouterCore(FIXTURE, InProcessStore(quotas=FIXTURE.quotas), clock=Clock())
        a, _ = await _two_residents(core)
        c, d = new_id("c"), new_id("d")
        c1 = await _turn(core, c, [2000], 0)  # evicts a
        d1 = await _turn(core, d, [2000], 0)  # evicts b, before c's outcome arrives
        await core.report(outcome(c1.decision_id, SMALL, common_pb2.OUTCOME_CLASS_SERVER_ERROR))
        await _served(core, d1, SMALL, 2000)
        return await _turn(core, a, [2000, 200], 1), await _turn(core, d, [2000, 200], 1)

    a2, d2 = asyncio.run(scenario())
    assert _view(a2, SMALL).cache.evicted  # d's decision counted on a's eviction; it stays evicted
    assert not _view(d2, SMALL).cache.evicted and _view(d2, SMALL).cost.cached_tokens > 0
