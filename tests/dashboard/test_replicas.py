"""Replicas that share their state on Redis share the dashboard: each shows the decisions of all."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest

from rolemodel import RouterClient
from tests.redis_server import RedisServer
from tests.requests import conversation, new_id, outcome, route, usage
from tests.router.harness import RouterProcess

pytestmark = pytest.mark.redis


def wait_for(predicate: Callable[[], bool], timeout_s: float = 10.0) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.1)
    raise AssertionError("timed out")


def test_a_decision_on_one_replica_shows_on_the_other(redis_server: RedisServer) -> None:
    namespace = new_id("ns")
    extra = ["--ui", "127.0.0.1:0", "--redis-namespace", namespace]
    with RouterProcess(redis_server.url, extra=extra) as first, RouterProcess(redis_server.url, extra=extra) as second:
        conversation_id = new_id("shared")
        with RouterClient(first.address) as client:
            decision = client.route(route("chat", conversation(conversation_id, [300]), difficulty=0.1))
        with RouterClient(second.address) as client:
            response = client.report_outcome(
                outcome(decision.decision_id, decision.chosen_endpoint_id, used=usage(300, 0, 0, 20))
            )

        def shown(router: RouterProcess) -> list[dict[str, object]]:
            base = router.ui_url.removesuffix("/ui/")
            url = f"{base}/ui/api/v1/decisions?conversation={conversation_id}"
            found: list[dict[str, object]] = httpx.get(url, timeout=10).json()["decisions"]
            return found

        for router in (first, second):

            def complete(router: RouterProcess = router) -> bool:
                found = shown(router)
                return bool(found) and found[0]["outcome"] is not None

            wait_for(complete)
            (record,) = shown(router)
            assert record["id"] == decision.decision_id
            assert record["cost_picos"] == response.effects.reported_cost.total_picos


def test_without_redis_routes_go_on_and_the_dashboard_keeps_what_it_had(tmp_path: Path) -> None:
    redis = RedisServer(tmp_path).start()
    extra = ["--ui", "127.0.0.1:0", "--state-outage", "degrade"]
    try:
        with RouterProcess(redis.url, extra=extra) as router:
            base = router.ui_url.removesuffix("/ui/")
            with RouterClient(router.address) as client:
                client.route(route("chat", conversation(new_id("before"), [300]), difficulty=0.1))
                wait_for(lambda: httpx.get(f"{base}/ui/api/v1/overview", timeout=10).json()["totals"]["decisions"] == 1)
                redis.stop()
                degraded = client.route(route("chat", conversation(new_id("during"), [300]), difficulty=0.1))
                assert degraded.chosen_endpoint_id
                overview = httpx.get(f"{base}/ui/api/v1/overview", timeout=10)
            assert overview.status_code == 200
            assert overview.json()["totals"]["decisions"] == 1
            assert overview.json()["journal_failing"] is True
            assert overview.json()["journal_dropped_batches"] >= 1
            assert router.logs().count("dashboard journal unavailable") == 1
    finally:
        redis.stop()
