"""The estimator latency benchmark times with either clock and reports ordered percentiles."""

from __future__ import annotations

import pytest

from bench.agent_turns import route_request
from bench.estimator_latency import CATALOG, CLOCKS, chat_body, time_calls
from rolemodel_router.config.catalog_loader import load_catalog
from rolemodel_router.engine.catalog_index import CatalogIndex
from rolemodel_router.engine.limits import Limits
from rolemodel_router.engine.route_input import RouteInput, build_route_input
from rolemodel_router.estimators.registry import load_estimator


@pytest.fixture(scope="module")
def request_input() -> RouteInput:
    index = CatalogIndex(load_catalog(CATALOG))
    return build_route_input(route_request(chat_body("Why is the sky blue?"), role="chat"), index, Limits())


@pytest.mark.parametrize("clock", sorted(CLOCKS))
def test_each_clock_gives_ordered_statistics(clock: str, request_input: RouteInput) -> None:
    request = request_input
    stats = time_calls(load_estimator("heuristic"), [request] * 20, 2, clock)
    assert stats["calls"] == 40
    assert 0 < stats["p50_us"] <= stats["p90_us"] <= stats["p99_us"] <= stats["max_us"]
