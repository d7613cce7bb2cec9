"""Local servers in-process: evictions across conversations, prefill explanations, speeds from outcomes.

A controlled clock makes "least recently used" exact; the SQLite test shows the
residents survive a restart, so that a restarted router does not believe every
evicted conversation is warm again.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from rolemodel.v1 import decision_pb2, hints_pb2
from rolemodel_router.config.catalog_loader import load_catalog
from rolemodel_router.core import RouterCore
from rolemodel_router.engine.catalog_index import CatalogIndex
from rolemodel_router.state import sqlite
from rolemodel_router.state.in_process import InProcessStore
from rolemodel_router.state.store import Retention
from tests.requests import conversation, new_id, outcome, route, usage

ROOT = Path(__file__).resolve().parents[2]
FIXTURE = CatalogIndex(load_catalog(ROOT / "conformance" / "fixtures" / "catalog.yaml"))
D = decision_pb2
SLOTS = "fx-pool-slots"


class Clock:
    def __init__(self) -> None:
        self.ms = 1_700_000_000_000

    def __call__(self) -> int:
        self.ms += 10
        return self.ms


def _slots_view(decision: D.Decision) -> D.Candidate:
    return next(c for c in decision.candidates if c.endpoint_id == SLOTS)


async def _three_conversations(core: RouterCore) -> dict[str, D.Decision]:
    a, b, c = new_id("a"), new_id("b"), new_id("c")

    async def turn(name: str, conv_id: str, counts: list[int], index: int) -> D.Decision:
        request = route("x-conformance.slots", conversation(conv_id, counts, turn_index=index))
        return await core.route(core.validate_route(request))

    return {
        "a1": await turn("a1", a, [2000], 0),
        "b1": await turn("b1", b, [1500], 0),
        "a2": await turn("a2", a, [2000, 200], 1),
        "c1": await turn("c1", c, [900], 0),
        "a3": await turn("a3", a, [2000, 200, 100], 2),
        "b2": await turn("b2", b, [1500, 100], 1),
    }


def test_three_conversations_on_two_slots_predict_each_eviction() -> None:
    core = RouterCore(FIXTURE, InProcessStore(quotas=FIXTURE.quotas), clock=Clock())
    turns = asyncio.run(_three_conversations(core))
    views = {name: _slots_view(d) for name, d in turns.items()}
    assert [views[n].cache.slot for n in ("a1", "b1", "a2", "c1", "a3", "b2")] == [0, 1, 0, 1, 0, 1]
    assert views["a2"].cost.cached_tokens == 2200 and not views["a2"].cache.evicted
    assert (views["c1"].cache.evicts_sequences, views["c1"].cache.evicts_tokens) == (1, 1500 + 1024)
    eviction = next(r for r in turns["c1"].reasons if r.code == D.REASON_CODE_CACHE_EVICTION)
    assert eviction.attributes["evicted_tokens"] == "2524"
    assert "evicts 1" in eviction.detail and "2,524 cached tokens" in eviction.detail
    assert views["a3"].cost.cached_tokens > 0
    assert views["b2"].cache.evicted and views["b2"].cost.cached_tokens == 0
    assert views["b2"].latency.eviction_ms == 1000.0 * views["b2"].cache.evicts_tokens / 1000


def test_the_prefill_reason_names_cold_and_warm_candidates() -> None:
    core = RouterCore(FIXTURE, InProcessStore(quotas=FIXTURE.quotas), clock=Clock())

    async def scenario() -> D.Decision:
        conv_id = new_id("p")
        first = route("x-conformance.pool", conversation(conv_id, [30_000]))
        await core.route(core.validate_route(first))
        second = route("x-conformance.pool", conversation(conv_id, [30_000, 500], turn_index=1))
        return await core.route(core.validate_route(second))

    decision = asyncio.run(scenario())
    prefill = next(r for r in decision.reasons if r.code == D.REASON_CODE_PREFILL_TIME)
    assert decision.chosen_endpoint_id == "fx-pool-small"
    assert prefill.detail.startswith("warm prefill of 0 tokens on 'fx-pool-small', first token in about 0.1 s")
    # fx-pool-big halves its speed 100,000 tokens deep: the middle token, at 15,250, runs at 1 / 1.1525 of the start
    # speed, so 30,500 tokens take 200 ms + 76.25 s * 1.1525 = 88 s.
    assert "cold prefill of 30,500 tokens at 87% of its start speed on 'fx-pool-big', first token in about 88 s" in (
        prefill.detail
    )


def test_a_warm_turn_deep_in_a_conversation_prefills_at_the_speed_of_its_depth() -> None:
    core = RouterCore(FIXTURE, InProcessStore(quotas=FIXTURE.quotas), clock=Clock())
    on_big = hints_pb2.RoutingHints(
        role="x-conformance.pool", endpoint_choice=hints_pb2.EndpointChoice(pinned_endpoint_id="fx-pool-big")
    )

    async def scenario() -> D.Decision:
        conv_id = new_id("deep")
        first = route("x-conformance.pool", conversation(conv_id, [30_000]))
        first.hints.CopyFrom(on_big)
        decided = await core.route(core.validate_route(first))
        await core.report(outcome(decided.decision_id, "fx-pool-big", used=usage(30_000, output_tokens=100)))
        second = route("x-conformance.pool", conversation(conv_id, [30_000, 100, 400], turn_index=1))
        second.hints.CopyFrom(on_big)
        return await core.route(core.validate_route(second))

    decision = asyncio.run(scenario())
    big = next(c for c in decision.candidates if c.endpoint_id == "fx-pool-big")
    cached, new = big.cost.cached_tokens, big.latency.prefill_tokens
    assert cached > 0 and (big.latency.prefill_depth_tokens, big.latency.prefill_half_speed_depth_tokens) == (
        cached,
        100_000,
    )
    assert big.latency.prefill_ms == pytest.approx(1000.0 * new / 400 * (1 + (cached + new / 2) / 100_000))
    prefill = next(r for r in decision.reasons if r.code == D.REASON_CODE_PREFILL_TIME)
    assert f"warm prefill of {new:,} tokens after {cached:,} cached at " in prefill.detail


def test_a_speed_measured_deep_in_a_prompt_is_kept_as_the_start_speed() -> None:
    core = RouterCore(FIXTURE, InProcessStore(quotas=FIXTURE.quotas), clock=Clock())

    async def scenario() -> float:
        request = route("x-conformance.pool", conversation(new_id(), [4_000]))
        request.hints.endpoint_choice.pinned_endpoint_id = "fx-pool-big"
        decided = await core.route(core.validate_route(request))
        served = outcome(decided.decision_id, "fx-pool-big", used=usage(4_000, output_tokens=50), ttft_ms=20_000)
        served.prefill_tokens_per_second = 200.0
        await core.report(served)
        card = await core.card()
        return next(
            p.status for p in card.endpoints if p.endpoint.id == "fx-pool-big"
        ).observed_prefill_tokens_per_second

    # 4,000 cold tokens: the middle one sits at 2,000, 2% of the half-speed depth: 200 tokens/s there, 204 at the start.
    assert asyncio.run(scenario()) == pytest.approx(204.0)


def test_reported_speeds_replace_the_declared_ones_at_once() -> None:
    core = RouterCore(FIXTURE, InProcessStore(quotas=FIXTURE.quotas), clock=Clock())

    async def scenario() -> D.Decision:
        first = await core.route(core.validate_route(route("x-conformance.pool", conversation(new_id(), [8_000]))))
        served = outcome(first.decision_id, first.chosen_endpoint_id, used=usage(8_000, output_tokens=50), ttft_ms=900)
        served.prefill_tokens_per_second, served.output_tokens_per_second = 10_000.0, 100.0
        await core.report(served)
        return await core.route(core.validate_route(route("x-conformance.pool", conversation(new_id(), [8_000]))))

    decision = asyncio.run(scenario())
    small = next(c for c in decision.candidates if c.endpoint_id == "fx-pool-small")
    assert small.latency.prefill_tokens_per_second == 10_000.0
    assert small.latency.prefill_source == 2  # VALUE_SOURCE_OBSERVED
    assert small.latency.output_ms == 1000.0 * small.cost.output_tokens / 100.0
    card = asyncio.run(core.card())
    status = next(p.status for p in card.endpoints if p.endpoint.id == "fx-pool-small")
    assert status.observed_base_latency_ms == 900 - 800  # 8,000 tokens at 10,000 per second take 800 ms


def test_prefill_speeds_at_two_depths_teach_the_half_speed_depth_the_router_then_uses() -> None:
    core = RouterCore(FIXTURE, InProcessStore(quotas=FIXTURE.quotas), clock=Clock())

    async def scenario() -> D.Decision:
        # fx-pool-small declares no half-speed depth; these points lie on 0.25 + 0.00025 * m ms per token
        # (4,000 tokens/s at the start, half speed 1,000 deep).
        for cached, new in ((0, 2_000), (6_000, 1_000)):
            request = route("x-conformance.pool", conversation(new_id(), [2_000]))
            request.hints.endpoint_choice.pinned_endpoint_id = "fx-pool-small"
            decided = await core.route(core.validate_route(request))
            served = outcome(decided.decision_id, "fx-pool-small", used=usage(cached + new, cache_read=cached))
            served.prefill_tokens_per_second = 1000 / (0.25 + 0.00025 * (cached + new / 2))
            await core.report(served)
        return await core.route(core.validate_route(route("x-conformance.pool", conversation(new_id(), [3_000]))))

    decision = asyncio.run(scenario())
    card = asyncio.run(core.card())
    status = next(p.status for p in card.endpoints if p.endpoint.id == "fx-pool-small")
    assert status.observed_prefill_half_speed_depth_tokens == 1_000
    small = next(c for c in decision.candidates if c.endpoint_id == "fx-pool-small")
    assert small.latency.prefill_half_speed_depth_tokens == 1_000
    # The first report, before any depth was known, counted as a start speed of 2,000 tokens/s; the second,
    # 533 tokens/s 6,500 deep, is 4,000 at the start: 2,000 + 0.2 * (4,000 - 2,000) = 2,400. 3,000 cold tokens
    # then run 1 + 1,500 / 1,000 = 2.5 times slower than at the start.
    assert small.latency.prefill_tokens_per_second == pytest.approx(2_400)
    assert small.latency.prefill_ms == pytest.approx(1000 * 3_000 / 2_400 * 2.5)


def test_residents_survive_a_restart_of_the_sqlite_store(tmp_path: Path) -> None:
    async def scenario() -> D.Decision:
        store = sqlite.SqliteStore(tmp_path / "r.db", Retention(), FIXTURE.quotas)
        await store.start()
        core = RouterCore(FIXTURE, store, clock=Clock())
        turns = await _three_conversations(core)
        await store.close()
        reopened = sqlite.SqliteStore(tmp_path / "r.db", Retention(), FIXTURE.quotas)
        await reopened.start()
        again = RouterCore(FIXTURE, reopened, clock=Clock())
        b_id = turns["b1"].conversation_id
        decision = await again.route(
            again.validate_route(route("x-conformance.slots", conversation(b_id, [1500, 100, 50], turn_index=2)))
        )
        await reopened.close()
        return decision

    view = _slots_view(asyncio.run(scenario()))
    assert not view.cache.evicted and view.cost.cached_tokens > 0 and view.cache.slot == 1
