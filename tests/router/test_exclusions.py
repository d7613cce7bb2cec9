"""Every exclusion code, produced by a real router over gRPC (spec 6.3).

Each test drives the fixture catalog into one filter and checks the code,
a readable detail, and that the excluded endpoint is neither chosen nor a
fallback.
"""

from __future__ import annotations

from typing import Any

import pytest

from rolemodel import RouterClient
from rolemodel.errors import NoEligibleEndpointError
from rolemodel.v1 import common_pb2, decision_pb2, hints_pb2
from tests.requests import conversation, new_id, outcome, route

X = decision_pb2


def codes(decision: decision_pb2.Decision, endpoint_id: str) -> list[int]:
    candidate = next(c for c in decision.candidates if c.endpoint_id == endpoint_id)
    assert all(e.detail for e in candidate.exclusions), "every exclusion has a readable detail"
    return [e.code for e in candidate.exclusions]


def never_used(decision: decision_pb2.Decision, endpoint_id: str) -> bool:
    return decision.chosen_endpoint_id != endpoint_id and endpoint_id not in decision.fallback_endpoint_ids


def test_not_in_role_and_a_full_candidate_list(client: RouterClient) -> None:
    d = client.route(route("chat", conversation(new_id(), [100, 20]), difficulty=0.1, dry_run=True))
    assert [c.endpoint_id for c in d.candidates][:3] == ["fx-local", "fx-gpt5", "fx-mini"]
    assert len(d.candidates) == len(client.get_router_card().endpoints), "every endpoint of the catalog"
    assert X.EXCLUSION_CODE_NOT_IN_ROLE in codes(d, "fx-quota")
    assert not next(c for c in d.candidates if c.endpoint_id == "fx-quota").HasField("tier")


def test_pin_excludes_everything_else(client: RouterClient) -> None:
    hints: dict[str, Any] = {"endpoint_choice": hints_pb2.EndpointChoice(pinned_endpoint_id="fx-mini")}
    d = client.route(route("chat", conversation(new_id(), [100]), difficulty=0.1, dry_run=True, **hints))
    assert d.chosen_endpoint_id == "fx-mini"
    assert list(d.fallback_endpoint_ids) == []
    assert X.EXCLUSION_CODE_NOT_PINNED in codes(d, "fx-local")
    assert d.reasons[-2].code == X.REASON_CODE_PINNED or any(r.code == X.REASON_CODE_PINNED for r in d.reasons)


def test_avoided(client: RouterClient) -> None:
    hints: dict[str, Any] = {"endpoint_choice": hints_pb2.EndpointChoice(avoid_endpoint_ids=["fx-local"])}
    d = client.route(route("chat", conversation(new_id(), [100]), difficulty=0.1, dry_run=True, **hints))
    assert X.EXCLUSION_CODE_AVOIDED in codes(d, "fx-local")
    assert never_used(d, "fx-local")


def test_capability_missing(client: RouterClient) -> None:
    hints: dict[str, Any] = {"requirements": hints_pb2.Requirements(capabilities=[common_pb2.CAPABILITY_REASONING])}
    d = client.route(route("chat", conversation(new_id(), [100]), difficulty=0.1, dry_run=True, **hints))
    for endpoint in ("fx-local", "fx-mini", "fx-deepseek"):
        assert X.EXCLUSION_CODE_CAPABILITY_MISSING in codes(d, endpoint)
        assert never_used(d, endpoint)
    assert d.chosen_endpoint_id in ("fx-gpt5", "fx-opus")


def test_modality_unsupported(client: RouterClient) -> None:
    hints: dict[str, Any] = {"requirements": hints_pb2.Requirements(modalities=[common_pb2.MODALITY_IMAGE])}
    d = client.route(route("chat", conversation(new_id(), [100]), difficulty=0.6, dry_run=True, **hints))
    assert X.EXCLUSION_CODE_MODALITY_UNSUPPORTED in codes(d, "fx-deepseek")
    assert X.EXCLUSION_CODE_MODALITY_UNSUPPORTED in codes(d, "fx-local")
    assert d.chosen_endpoint_id == "fx-mini"


def test_context_window_exceeded(client: RouterClient) -> None:
    d = client.route(route("chat", conversation(new_id(), [9000]), difficulty=0.1, dry_run=True))
    detail = next(c for c in d.candidates if c.endpoint_id == "fx-local").exclusions[0].detail
    assert X.EXCLUSION_CODE_CONTEXT_WINDOW_EXCEEDED in codes(d, "fx-local")
    assert "8192" in detail
    assert any(r.code == X.REASON_CODE_TIER_RAISED for r in d.reasons)


def test_locality_mismatch(client: RouterClient) -> None:
    d = client.route(
        route("chat", conversation(new_id(), [100]), difficulty=0.9, dry_run=True, locality=common_pb2.LOCALITY_LOCAL)
    )
    assert X.EXCLUSION_CODE_LOCALITY_MISMATCH in codes(d, "fx-gpt5")
    assert d.chosen_endpoint_id == "fx-local"
    assert any(r.code == X.REASON_CODE_DOWNGRADED for r in d.reasons)


def test_policy_denied_by_labels(client: RouterClient) -> None:
    d = client.route(
        route("chat", conversation(new_id(), [100]), difficulty=0.9, dry_run=True, labels={"data": "private"})
    )
    assert X.EXCLUSION_CODE_POLICY_DENIED in codes(d, "fx-opus")
    assert "private-stays-local" in next(c for c in d.candidates if c.endpoint_id == "fx-opus").exclusions[0].detail
    assert d.chosen_endpoint_id == "fx-local"


def test_budget_exceeded(client: RouterClient) -> None:
    # x-conformance.strict has a $0.002 budget: 2,000 tokens at $5/Mtok input is $0.01 on fx-opus.
    d = client.route(
        route("x-conformance.strict", conversation(new_id(), [2000]), difficulty=0.9, expected_output=100, dry_run=True)
    )
    assert X.EXCLUSION_CODE_BUDGET_EXCEEDED in codes(d, "fx-opus")
    assert d.chosen_endpoint_id == "fx-mini"


def test_below_required_tier_without_downgrade(client: RouterClient) -> None:
    hints: dict[str, Any] = {"endpoint_choice": hints_pb2.EndpointChoice(avoid_endpoint_ids=["fx-mini", "fx-opus"])}
    with pytest.raises(NoEligibleEndpointError) as caught:
        client.route(route("x-conformance.strict", conversation(new_id(), [100]), difficulty=0.9, **hints))
    decision = caught.value.decision
    assert decision is not None
    assert X.EXCLUSION_CODE_BELOW_REQUIRED_TIER in codes(decision, "fx-local")
    assert caught.value.metadata["role"] == "x-conformance.strict"
    assert "fx-local:BELOW_REQUIRED_TIER" in caught.value.metadata["exclusions"]


def test_quota_exhausted_moves_to_another_endpoint(client: RouterClient) -> None:
    chosen = []
    for _ in range(4):
        d = client.route(route("x-conformance.quota", conversation(new_id(), [100])))
        chosen.append(d.chosen_endpoint_id)
    assert chosen == ["fx-quota"] * 3 + ["fx-deepseek"]
    assert X.EXCLUSION_CODE_QUOTA_EXHAUSTED in codes(d, "fx-quota")
    state = next(q for q in d.quota_states if q.quota_id == "fx-quota-window")
    assert state.exhausted and state.used.requests == 3 and state.remaining.requests == 0
    assert state.resets_at.ToMilliseconds() > d.created_at.ToMilliseconds()


def test_failed_this_turn_and_unhealthy(client: RouterClient) -> None:
    conv_id = new_id()
    first = client.route(route("x-conformance.health", conversation(conv_id, [100], turn_index=3)))
    assert first.chosen_endpoint_id == "fx-flaky"
    client.report_outcome(outcome(first.decision_id, "fx-flaky", common_pb2.OUTCOME_CLASS_SERVER_ERROR))
    retry = client.route(route("x-conformance.health", conversation(conv_id, [100], turn_index=3)))
    assert X.EXCLUSION_CODE_FAILED_THIS_TURN in codes(retry, "fx-flaky")
    assert retry.chosen_endpoint_id == "fx-deepseek"
    assert any(r.code == X.REASON_CODE_RETRY_EXCLUDES_FAILED for r in retry.reasons)
    # Two more consecutive failures start a cooldown that excludes the endpoint everywhere.
    for _ in range(2):
        d = client.route(route("x-conformance.health", conversation(new_id(), [100])))
        assert d.chosen_endpoint_id == "fx-flaky"
        client.report_outcome(outcome(d.decision_id, "fx-flaky", common_pb2.OUTCOME_CLASS_TIMEOUT))
    cooled = client.route(route("x-conformance.health", conversation(new_id(), [100]), dry_run=True))
    assert X.EXCLUSION_CODE_UNHEALTHY in codes(cooled, "fx-flaky")
    card = client.get_router_card()
    flaky = next(p for p in card.endpoints if p.endpoint.id == "fx-flaky")
    assert flaky.status.HasField("cooldown_until") and flaky.status.observed_failure_rate > 0.5
