"""A subscription's usage windows, reported in its response headers, pace the premium share (spec 9.8).

``ex-mini`` plays a ChatGPT plan: the scripted backend meters each answer against a 5-hour and a
7-day window and reports both in Codex's headers. The catalog gives it one reported quota per
window, and the role ``x-test.subscription`` paces its premium share by them.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from rolemodel import ClientOptions, RetryPolicy, RoleModelError, RouterClient
from rolemodel.v1 import catalog_pb2, common_pb2, decision_pb2, outcome_pb2, router_service_pb2
from rolemodel_router.backends.scripted import CacheRules, Reply, ScriptedBackend, Subscription
from tests.execute.catalog import LOCAL_MODEL, MINI_MODEL, catalog
from tests.execute.conftest import STALL_TIMEOUT_S
from tests.execute.events import execute_request, run, user
from tests.requests import new_id
from tests.router.harness import RouterProcess

D = decision_pb2
SHORT, LONG = "mini-5h", "mini-7d"


def subscription_catalog(base_url: str) -> dict[str, Any]:
    data = catalog(base_url)
    data["policies"] = {
        "quotas": [
            {
                "id": SHORT,
                "endpoint_id": "ex-mini",
                "window_kind": "QUOTA_WINDOW_KIND_REPORTED",
                "window_seconds": 18000,
                "usage_window": "USAGE_WINDOW_SHORT",
                "prior_share_per_request": 0.01,
            },
            {
                "id": LONG,
                "endpoint_id": "ex-mini",
                "window_kind": "QUOTA_WINDOW_KIND_REPORTED",
                "window_seconds": 604800,
                "usage_window": "USAGE_WINDOW_LONG",
                "prior_share_per_request": 0.001,
            },
        ],
        "premium_share_targets": [{"role": "x-test.paced", "target_share": 0.5, "pace_quota_id": SHORT}],
    }
    data["roles"].append(
        {
            "name": "x-test.paced",
            "description": "The local model for easy turns, the subscription for the hardest, as its windows allow.",
            "ladder": [{"endpoint_ids": ["ex-local"]}, {"endpoint_ids": ["ex-mini"], "min_difficulty": 0.5}],
            "default_strategy": "STRATEGY_COST",
            "allow_downgrade": True,  # a subscription that is out sends even the hardest turns to the local model
        }
    )
    return data


@pytest.fixture
def backend() -> Iterator[ScriptedBackend]:
    with ScriptedBackend() as server:
        server.configure(LOCAL_MODEL, cache=CacheRules())
        plan = Subscription("codex", short_capacity=200_000, long_capacity=2_000_000, short_used=0.2, long_used=0.1)
        server.configure(MINI_MODEL, cache=CacheRules.openai(), subscription=plan)
        yield server


@pytest.fixture
def client(backend: ScriptedBackend, tmp_path: Path) -> Iterator[RouterClient]:
    path = tmp_path / "catalog.yaml"
    path.write_text(yaml.safe_dump(subscription_catalog(backend.base_url), sort_keys=False))
    extra = ["--execute-stall-timeout", STALL_TIMEOUT_S]
    with (
        RouterProcess("memory:", catalog=path, extra=extra) as router,
        RouterClient(router.address, ClientOptions(retry=RetryPolicy(max_attempts=1), timeout_s=30.0)) as c,
    ):
        yield c


def _quota(decision: D.Decision, quota_id: str) -> D.QuotaState:
    (state,) = [q for q in decision.quota_states if q.quota_id == quota_id]
    return state


def _route(client: RouterClient, difficulty: float = 0.9) -> D.Decision:
    request = execute_request([user(f"Plan it {new_id('p')}.")], role="x-test.paced")
    route = router_service_pb2.RouteRequest(conversation=request.conversation, hints=request.hints)
    route.hints.difficulty = difficulty
    return client.route(route)


def test_execute_reads_the_windows_from_the_answers_headers(client: RouterClient, backend: ScriptedBackend) -> None:
    backend.script(MINI_MODEL, [Reply(text="On the subscription.")])
    served = run(client, execute_request([user("Plan it.")], role="x-test.paced", pin="ex-mini"))
    assert served.completed.served_endpoint_id == "ex-mini"
    assert len(backend.requests_for(MINI_MODEL)) == 1
    effects = {q.quota_id: q for q in served.completed.effects.quota_states}
    assert effects[SHORT].usage_pace.reported_share == pytest.approx(0.2, abs=0.011)  # whole percents
    assert effects[LONG].usage_pace.reported_share == pytest.approx(0.1, abs=0.011)
    assert effects[SHORT].resets_at.seconds > 0

    decision = _route(client)
    short = _quota(decision, SHORT)
    assert short.window_kind == catalog_pb2.QUOTA_WINDOW_KIND_REPORTED
    assert short.usage_pace.reported_share == effects[SHORT].usage_pace.reported_share
    assert not short.exhausted
    assert decision.policy.share_controller.pace_quota_id == SHORT


def test_a_window_at_its_target_stops_the_subscription_until_it_resets(
    client: RouterClient, backend: ScriptedBackend
) -> None:
    backend.configure(MINI_MODEL, subscription=Subscription("codex", 200_000, 2_000_000, short_used=0.97))
    backend.script(MINI_MODEL, [Reply(text="The last answer this window allows.")])
    served = run(client, execute_request([user("Plan it.")], role="x-test.paced", pin="ex-mini"))
    assert served.completed.served_endpoint_id == "ex-mini"

    decision = _route(client, difficulty=0.99)
    (candidate,) = [c for c in decision.candidates if c.endpoint_id == "ex-mini"]
    assert [e.code for e in candidate.exclusions] == [D.EXCLUSION_CODE_QUOTA_EXHAUSTED]
    assert "mini-5h" in candidate.exclusions[0].detail
    assert decision.chosen_endpoint_id == "ex-local"
    assert _quota(decision, SHORT).exhausted


def test_a_client_that_calls_the_subscription_itself_reports_the_windows(client: RouterClient) -> None:
    decision = _route(client)
    assert decision.chosen_endpoint_id == "ex-mini"
    outcome = outcome_pb2.Outcome(
        decision_id=decision.decision_id,
        served_endpoint_id="ex-mini",
        outcome_class=common_pb2.OUTCOME_CLASS_SUCCESS,
        idempotency_key=new_id("report"),
        usage=outcome_pb2.Usage(input_tokens=900, output_tokens=100),
    )
    report = outcome.usage_windows.add(window=catalog_pb2.USAGE_WINDOW_LONG, used_share=0.42)
    report.resets_at.FromSeconds(2_000_000_000)
    effects = client.report_outcome(outcome).effects
    assert {q.quota_id: round(q.usage_pace.reported_share, 2) for q in effects.quota_states} == {SHORT: 0.0, LONG: 0.42}

    bad = outcome_pb2.Outcome()
    bad.CopyFrom(outcome)
    bad.idempotency_key = new_id("bad")
    bad.usage_windows[0].window = catalog_pb2.USAGE_WINDOW_UNSPECIFIED
    with pytest.raises(RoleModelError) as refused:
        client.report_outcome(bad)
    assert "outcome.usage_windows[0].window" in [path for path, _ in refused.value.field_violations]
