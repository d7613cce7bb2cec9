"""Every store keeps a reported usage window the same way, and the durable ones keep it across a restart (9.8)."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from rolemodel import pacing
from rolemodel.demand_profile import DAY_MS, HOUR_MS
from rolemodel.v1 import catalog_pb2, common_pb2, decision_pb2, hints_pb2, outcome_pb2, router_service_pb2
from rolemodel_router.config.catalog_loader import load_catalog
from rolemodel_router.core import RouterCore
from rolemodel_router.engine.catalog_index import CatalogIndex
from rolemodel_router.state import codec
from rolemodel_router.state.factory import open_store
from tests.redis_server import RedisServer
from tests.requests import conversation, new_id, route

ROOT = Path(__file__).resolve().parents[2]
FIXTURE = CatalogIndex(load_catalog(ROOT / "conformance" / "fixtures" / "catalog.yaml"))
NOW_MS = 1_790_000_000_000
SHORT, LONG = "fx-subscription-5h", "fx-subscription-7d"


def _request(difficulty: float) -> router_service_pb2.RouteRequest:
    request = route("x-conformance.paced", conversation(new_id(), [800]))
    request.hints.MergeFrom(hints_pb2.RoutingHints(difficulty=difficulty))
    return request


def _shown(decision: decision_pb2.Decision) -> dict[str, tuple[float, bool]]:
    return {q.quota_id: (round(q.usage_pace.reported_share, 4), q.exhausted) for q in decision.quota_states}


async def _scenario(url: str) -> list[dict[str, tuple[float, bool]]]:
    seen = []
    store = open_store(url, FIXTURE)
    await store.start()
    core = RouterCore(FIXTURE, store, clock=lambda: NOW_MS)
    chosen = await core.route(core.validate_route(_request(0.95)))
    assert chosen.chosen_endpoint_id == "fx-subscription"
    report = outcome_pb2.Outcome(
        decision_id=chosen.decision_id,
        served_endpoint_id="fx-subscription",
        outcome_class=common_pb2.OUTCOME_CLASS_SUCCESS,
        idempotency_key=new_id("k"),
        usage=outcome_pb2.Usage(input_tokens=800, output_tokens=100),
    )
    for window, share in ((catalog_pb2.USAGE_WINDOW_SHORT, 0.96), (catalog_pb2.USAGE_WINDOW_LONG, 0.4)):
        item = report.usage_windows.add(window=window, used_share=share)
        item.resets_at.FromMilliseconds(NOW_MS + 3_600_000)
    await core.report(report)
    seen.append(_shown(await core.route(core.validate_route(_request(0.95)))))
    await store.close()
    again = open_store(url, FIXTURE)
    await again.start()
    core = RouterCore(FIXTURE, again, clock=lambda: NOW_MS)
    seen.append(_shown(await core.route(core.validate_route(_request(0.95)))))
    await again.close()
    return seen


def test_the_memory_and_sqlite_stores_keep_the_reported_windows(tmp_path: Path) -> None:
    stopped = {SHORT: (0.96, True), LONG: (0.4, False)}
    memory = asyncio.run(_scenario("memory:"))
    assert memory[0] == stopped
    assert memory[1] == {SHORT: (0.0, False), LONG: (0.0, False)}, "the memory store forgets on restart"
    assert asyncio.run(_scenario(f"sqlite:///{tmp_path / 'state.db'}")) == [stopped, stopped]


def test_the_redis_store_shares_the_reported_windows(tmp_path: Path) -> None:
    server = RedisServer(tmp_path).start()
    try:
        seen = asyncio.run(_scenario(server.url))
    finally:
        server.stop()
    assert seen == [{SHORT: (0.96, True), LONG: (0.4, False)}] * 2


@pytest.mark.parametrize("share", [float("inf"), -0.5])
def test_a_malformed_report_changes_nothing(share: float) -> None:
    from rolemodel_router.engine.errors import RouterError

    async def scenario() -> None:
        store = open_store("memory:", FIXTURE)
        core = RouterCore(FIXTURE, store, clock=lambda: NOW_MS)
        chosen = await core.route(core.validate_route(_request(0.95)))
        bad = outcome_pb2.Outcome(
            decision_id=chosen.decision_id,
            served_endpoint_id="fx-subscription",
            outcome_class=common_pb2.OUTCOME_CLASS_SUCCESS,
            idempotency_key=new_id("k"),
        )
        bad.usage_windows.add(window=catalog_pb2.USAGE_WINDOW_SHORT, used_share=share).resets_at.FromSeconds(2)
        with pytest.raises(RouterError):
            await core.report(bad)
        assert _shown(await core.route(core.validate_route(_request(0.95))))[SHORT] == (0.0, False)

    asyncio.run(scenario())


def test_a_stored_window_keeps_its_profile_and_an_older_one_loads_without() -> None:
    state = pacing.record_report(pacing.UsageWindowState(), 0.1, 5 * DAY_MS, 1_000)
    for at_ms in (2 * HOUR_MS, 2 * HOUR_MS + 5, 30 * HOUR_MS):
        state = pacing.record_routable(state, at_ms)
    assert state.watched_since_ms == 1_000
    assert codec.load_usage(codec.dump_usage(state)) == state
    older = '{"u":0.1,"c":0,"m":3,"r":432000000,"a":1000,"n":0,"nr":0,"s":[[1000,0.1,0]]}'
    loaded = codec.load_usage(older)
    assert loaded.routable_by_hour == () and loaded.watched_since_ms is None
