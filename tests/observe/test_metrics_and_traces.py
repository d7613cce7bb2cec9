"""Operators can tell which model served each turn, and why, from metrics and traces alone (issue 7)."""

from __future__ import annotations

import contextlib
import json
import time
import urllib.request

from rolemodel import RouterClient
from rolemodel.errors import RoleModelError
from rolemodel.v1 import common_pb2
from tests.redis_server import free_port
from tests.requests import conversation, new_id, outcome, route, usage
from tests.router.harness import RouterProcess


def scrape(port: int) -> dict[str, float]:
    text = urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5).read().decode()
    series = {}
    for line in text.splitlines():
        if line and not line.startswith("#"):
            name, _, value = line.rpartition(" ")
            series[name] = float(value)
    return series


def test_metrics_and_spans_explain_every_decision() -> None:
    port = free_port()
    with (
        RouterProcess(extra=["--metrics", f"127.0.0.1:{port}", "--otel", "console"]) as router,
        RouterClient(router.address) as client,
    ):
        d = client.route(route("chore", conversation(new_id(), [5000]), difficulty=0.1))
        client.report_outcome(
            outcome(
                d.decision_id, d.chosen_endpoint_id, common_pb2.OUTCOME_CLASS_TASK_FAILED, used=usage(5000, 0, 0, 50)
            )
        )
        escalated = client.route(route("chore", conversation(new_id(), [5000]), escalation={"force_level": 1}))
        for _ in range(4):
            client.route(route("x-conformance.quota", conversation(new_id(), [100])))
        with contextlib.suppress(RoleModelError):
            client.route(route("nope", conversation(new_id(), [1])))
        series = scrape(port)
        time.sleep(0.2)
        spans = [json.loads(line) for line in router.logs().splitlines() if line.startswith('{"name"')]
    assert series['rolemodel_decisions_total{endpoint="fx-local",role="chore"}'] == 1.0
    assert series['rolemodel_decisions_total{endpoint="fx-deepseek",role="chore"}'] == 1.0
    assert series['rolemodel_exclusions_total{code="quota_exhausted"}'] >= 1.0
    assert series['rolemodel_outcomes_total{class="task_failed",endpoint="fx-local"}'] == 1.0
    assert series['rolemodel_quota_remaining{measure="requests",quota="fx-quota-window"}'] == 0.0
    assert series['rolemodel_prompt_tokens_total{endpoint="fx-local",kind="uncached"}'] == 5000.0
    assert series['rolemodel_errors_total{reason="UNKNOWN_ROLE"}'] == 1.0
    assert series["rolemodel_route_seconds_count"] == 6.0
    assert escalated.chosen_endpoint_id == "fx-deepseek"
    routed = [s for s in spans if s["name"] == "rolemodel.Route"]
    assert any(s["attributes"].get("rolemodel.decision_id") == d.decision_id for s in routed)
    assert any(s["attributes"].get("rolemodel.error_reason") == "UNKNOWN_ROLE" for s in routed)
    assert all(
        "rolemodel.endpoint" in s["attributes"] for s in routed if "rolemodel.error_reason" not in s["attributes"]
    )
