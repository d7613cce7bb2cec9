"""Escalation, quota windows, the premium-share controller and side requests over gRPC (spec 6.8, 9)."""

from __future__ import annotations

import random
import time

from rolemodel import RouterClient
from rolemodel.v1 import common_pb2, decision_pb2, hints_pb2
from tests.requests import conversation, new_id, outcome, route

D = decision_pb2


def test_a_chore_escalates_on_failure_and_deescalates_after_two_successes(client: RouterClient) -> None:
    conv_id = new_id()
    tiers = []
    levels = []
    script = [
        common_pb2.OUTCOME_CLASS_TASK_FAILED,  # tests fail on the local model
        common_pb2.OUTCOME_CLASS_SUCCESS,  # fixed on the cheap remote model
        common_pb2.OUTCOME_CLASS_SUCCESS,  # second success: back down
        common_pb2.OUTCOME_CLASS_SUCCESS,
    ]
    trigger = ""
    for turn, result in enumerate(script):
        d = client.route(route("chore", conversation(conv_id, [300] * (turn + 1), turn_index=turn), difficulty=0.1))
        tiers.append(d.chosen_endpoint_id)
        if turn == 1:
            escalated = next(r for r in d.reasons if r.code == D.REASON_CODE_ESCALATED)
            assert escalated.attributes["triggering_decision_id"] == trigger
            assert d.policy.escalation_level == 1 and d.policy.required_tier == 1
        effects = client.report_outcome(outcome(d.decision_id, d.chosen_endpoint_id, result)).effects
        levels.append((effects.escalation_level, effects.consecutive_successes))
        trigger = d.decision_id if result == common_pb2.OUTCOME_CLASS_TASK_FAILED else trigger
    assert tiers == ["fx-local", "fx-deepseek", "fx-deepseek", "fx-local"]
    assert levels == [(1, 0), (1, 1), (0, 0), (0, 1)]


def test_escalation_stops_at_the_maximum_and_a_hint_can_force_a_level(client: RouterClient) -> None:
    conv_id = new_id()
    for turn in range(4):
        d = client.route(route("chore", conversation(conv_id, [300], turn_index=turn)))
        effects = client.report_outcome(
            outcome(d.decision_id, d.chosen_endpoint_id, common_pb2.OUTCOME_CLASS_TASK_FAILED)
        ).effects
    assert effects.escalation_level == 2
    assert d.chosen_endpoint_id == "fx-gpt5"
    forced = client.route(
        route(
            "chore",
            conversation(conv_id, [300], turn_index=9),
            dry_run=True,
            escalation=hints_pb2.EscalationHint(force_level=0),
        )
    )
    assert forced.chosen_endpoint_id == "fx-local"
    assert any(r.code == D.REASON_CODE_ESCALATION_FORCED for r in forced.reasons)


def test_a_quota_window_runs_out_and_then_resets(client: RouterClient) -> None:
    def once() -> D.Decision:
        return client.route(route("x-conformance.quota", conversation(new_id(), [100])))

    first = [once() for _ in range(3)]
    assert [d.chosen_endpoint_id for d in first] == ["fx-quota"] * 3
    refused = once()
    state = next(q for q in refused.quota_states if q.quota_id == "fx-quota-window")
    assert refused.chosen_endpoint_id == "fx-deepseek" and state.exhausted
    wait = state.resets_at.ToMilliseconds() / 1000 - time.time()
    assert 0 < wait <= 4.0
    time.sleep(wait + 0.2)
    assert once().chosen_endpoint_id == "fx-quota"


def test_outcomes_reconcile_the_reservation(client: RouterClient) -> None:
    d = client.route(route("x-conformance.burst", conversation(new_id(), [1000]), expected_output=200))
    state = next(q for q in d.quota_states if q.quota_id == "fx-burst-window")
    assert (state.reserved.requests, state.reserved.tokens) == (1, 1200)
    effects = client.report_outcome(outcome(d.decision_id, "fx-burst", common_pb2.OUTCOME_CLASS_SERVER_ERROR)).effects
    after = next(q for q in effects.quota_states if q.quota_id == "fx-burst-window")
    assert after.used.requests <= state.used.requests - 1  # a failed call gives its request back


def test_the_premium_share_controller_converges_on_its_target(client: RouterClient) -> None:
    rng = random.Random(7)
    premium = []
    threshold = 0.0
    for _ in range(500):
        d = client.route(route("x-conformance.share", conversation(new_id(), [200]), difficulty=rng.random()))
        premium.append(d.chosen_endpoint_id == "fx-gpt5")
        threshold = d.policy.share_controller.threshold
    late = premium[-200:]
    assert abs(sum(late) / len(late) - 0.3) <= 0.05
    assert 0.6 < threshold < 0.8  # the 70th percentile of uniform difficulties
    assert d.policy.share_controller.target_share == 0.3


def test_the_hardest_requests_get_the_premium_tier(client: RouterClient) -> None:
    warm = [
        client.route(route("x-conformance.share", conversation(new_id(), [200]), difficulty=i / 60)) for i in range(60)
    ]
    assert warm[-1].chosen_endpoint_id == "fx-gpt5" and warm[0].chosen_endpoint_id == "fx-deepseek"
    assert any(r.code == D.REASON_CODE_SHARE_CONTROLLER for r in warm[-1].reasons)


def test_an_isolated_side_request_leaves_the_conversation_untouched(client: RouterClient) -> None:
    conv_id = new_id()
    main = client.route(route("chore", conversation(conv_id, [2000]), difficulty=0.1))
    client.report_outcome(outcome(main.decision_id, main.chosen_endpoint_id, common_pb2.OUTCOME_CLASS_TASK_FAILED))
    before = client.route(route("chore", conversation(conv_id, [2000, 100], turn_index=1), dry_run=True))
    side = client.route(
        route("summarize", conversation(conv_id, [2000, 100], turn_index=1), side_request=hints_pb2.SideRequest())
    )
    assert side.side_request and not side.merge_back and not side.handoff.merge_back
    assert any(r.code == D.REASON_CODE_SIDE_REQUEST_ISOLATED for r in side.reasons)
    client.report_outcome(outcome(side.decision_id, side.chosen_endpoint_id, common_pb2.OUTCOME_CLASS_TASK_FAILED))
    after = client.route(route("chore", conversation(conv_id, [2000, 100], turn_index=1), dry_run=True))
    assert after.policy.current_endpoint_id == before.policy.current_endpoint_id == main.chosen_endpoint_id
    assert after.policy.escalation_level == before.policy.escalation_level == 1
    assert [c.cache for c in after.candidates] == [c.cache for c in before.candidates]


def test_a_side_request_with_merge_back_is_a_turn(client: RouterClient) -> None:
    conv_id = new_id()
    side = client.route(
        route("summarize", conversation(conv_id, [2000]), side_request=hints_pb2.SideRequest(merge_back=True))
    )
    assert side.merge_back and any(r.code == D.REASON_CODE_SIDE_REQUEST_MERGED for r in side.reasons)
    after = client.route(route("summarize", conversation(conv_id, [2000, 100], turn_index=1), dry_run=True))
    assert after.policy.current_endpoint_id == side.chosen_endpoint_id
