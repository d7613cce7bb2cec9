"""Replicas that share their state on Redis share the dashboard: each shows the decisions of all."""

from __future__ import annotations

import time
from collections.abc import Callable

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
