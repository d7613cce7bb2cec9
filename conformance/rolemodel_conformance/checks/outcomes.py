"""Outcome reporting: refusals, field rules, idempotency, effects, retries and the observed profile (spec 9.1, 9.4)."""

from __future__ import annotations

import functools
from typing import Literal

import grpc

from rolemodel import cost
from rolemodel.v1 import common_pb2, hints_pb2, outcome_pb2
from rolemodel_conformance.builders import Prompt, outcome, pin, usage
from rolemodel_conformance.checks import check
from rolemodel_conformance.checks.escalation import Ladder
from rolemodel_conformance.checks.health import wait_until_healthy
from rolemodel_conformance.checks.helpers import expect_refusal, route
from rolemodel_conformance.context import CheckContext
from rolemodel_conformance.expectations import TURN_COST_FIELDS, D, cost_differences, reasons
from rolemodel_conformance.probe import RouterRefusal

OC = common_pb2
INVALID = grpc.StatusCode.INVALID_ARGUMENT
OutcomeField = Literal["decision_id", "served_endpoint_id", "outcome_class", "idempotency_key"]


@check(
    "outcomes",
    "Unknown decisions, endpoints outside the decision and unknown endpoints are refused",
    ("RM-OUT-001", "RM-OUT-002", "RM-OUT-003", "RM-ERR-005"),
)
def refused_outcomes(ctx: CheckContext) -> None:
    unknown = ctx.ids.key("no-such-decision")[:64]
    expect_refusal(
        ctx,
        "RM-OUT-001",
        "an outcome for a decision the router never made",
        lambda: ctx.probe.report(outcome(unknown, "fx-local", ctx.ids.key(), used=usage(10, 1))),
        grpc.StatusCode.NOT_FOUND,
        "DECISION_NOT_FOUND",
        metadata={"decision_id": unknown},
    )
    walk = Ladder(ctx, "refused-outcomes")
    decision = walk.route()
    outside = outcome(decision.decision_id, "fx-opus", ctx.ids.key(), outcome_class=OC.OUTCOME_CLASS_TASK_FAILED)
    expect_refusal(
        ctx,
        "RM-OUT-002",
        "served by fx-opus, not in the chore decision",
        lambda: ctx.probe.report(outside),
        INVALID,
        "ENDPOINT_NOT_IN_DECISION",
        metadata={"decision_id": decision.decision_id, "endpoint_id": "fx-opus"},
    )
    absent = outcome(decision.decision_id, "fx-absent", ctx.ids.key(), outcome_class=OC.OUTCOME_CLASS_TASK_FAILED)
    expect_refusal(
        ctx,
        "RM-OUT-003",
        "served by an endpoint the catalog does not define",
        lambda: ctx.probe.report(absent),
        INVALID,
        "UNKNOWN_ENDPOINT",
        metadata={"endpoint_id": "fx-absent"},
    )
    response = walk.report(decision, OC.OUTCOME_CLASS_SUCCESS)
    ctx.expect(
        "RM-ERR-005",
        not response.replayed and response.effects.escalation_level == 0,
        "after two refused outcomes the decision takes a first outcome normally, level still 0; got "
        f"replayed {response.replayed}, level {response.effects.escalation_level}",
    )


@check("outcomes", "Missing fields and impossible usage are field violations", ("RM-OUT-004",))
def outcome_fields(ctx: CheckContext) -> None:
    decision = route(ctx, ctx.ids.conversation("fields"), Prompt.of([100]), hints_pb2.RoutingHints(role="chore"))
    good = outcome(decision.decision_id, decision.chosen_endpoint_id, ctx.ids.key(), used=usage(100, 5))
    cases: tuple[tuple[str, OutcomeField, str], ...] = (
        ("no decision id", "decision_id", "outcome.decision_id"),
        ("no served endpoint", "served_endpoint_id", "outcome.served_endpoint_id"),
        ("no outcome class", "outcome_class", "outcome.outcome_class"),
        ("no idempotency key", "idempotency_key", "outcome.idempotency_key"),
    )
    for what, field, path in cases:
        bad = outcome_pb2.Outcome()
        bad.CopyFrom(good)
        bad.ClearField(field)
        expect_refusal(
            ctx,
            "RM-OUT-004",
            what,
            functools.partial(ctx.probe.report, bad),
            INVALID,
            "REQUEST_INVALID",
            fields=(path,),
        )
    greedy = outcome_pb2.Outcome()
    greedy.CopyFrom(good)
    greedy.usage.CopyFrom(usage(100, 5, cache_read=60, cache_write=50))
    expect_refusal(
        ctx,
        "RM-OUT-004",
        "cache read 60 + write 50 above 100 input tokens",
        lambda: ctx.probe.report(greedy),
        INVALID,
        "REQUEST_INVALID",
        fields=("outcome.usage",),
    )


@check(
    "outcomes",
    "Idempotency: a replay changes nothing; a reused key or a second outcome is refused",
    ("RM-OUT-005", "RM-OUT-006", "RM-OUT-007", "RM-ERR-005"),
)
def idempotency(ctx: CheckContext) -> None:
    """Applied once, seen two ways: the escalation level (when claimed) and the served endpoint's outcome count.

    The outcome count of the card's endpoint status (RM-OUT-020) moves with
    every applied outcome on any router that publishes it, so the check needs
    no optional capability; a router that publishes neither shows no state an
    outcome changes, and only the answers are judged.
    """
    walk = Ladder(ctx, "idempotency")
    decision = walk.route()
    served = decision.chosen_endpoint_id
    counted_before = _outcome_count(ctx, served)
    key = ctx.ids.key("idem")
    first = outcome(
        decision.decision_id,
        decision.chosen_endpoint_id,
        key,
        outcome_class=OC.OUTCOME_CLASS_TASK_FAILED,
        used=usage(300, 20),
    )
    applied = ctx.probe.report(first)
    walk.predict(decision.decision_id, OC.OUTCOME_CLASS_TASK_FAILED)
    replay = ctx.probe.report(first)
    ctx.expect(
        "RM-OUT-005",
        replay.replayed and replay.effects == applied.effects and not applied.replayed,
        f"the same outcome again: replayed {replay.replayed} with the first effects "
        f"{'unchanged' if replay.effects == applied.effects else 'changed'}",
    )
    changed = outcome_pb2.Outcome()
    changed.CopyFrom(first)
    changed.outcome_class = OC.OUTCOME_CLASS_QUALITY_REJECTED
    expect_refusal(
        ctx,
        "RM-OUT-006",
        "the same key with another outcome class",
        lambda: ctx.probe.report(changed),
        INVALID,
        "IDEMPOTENCY_KEY_REUSED",
        metadata={"idempotency_key": key},
    )
    other_usage = outcome_pb2.Outcome()
    other_usage.CopyFrom(first)
    other_usage.usage.output_tokens += 1
    expect_refusal(
        ctx,
        "RM-OUT-006",
        "the same key with one more output token: the whole content is the fingerprint",
        lambda: ctx.probe.report(other_usage),
        INVALID,
        "IDEMPOTENCY_KEY_REUSED",
        metadata={"idempotency_key": key},
    )
    second = outcome(
        decision.decision_id,
        decision.chosen_endpoint_id,
        ctx.ids.key("idem"),
        outcome_class=OC.OUTCOME_CLASS_TASK_FAILED,
        used=usage(300, 20),
    )
    expect_refusal(
        ctx,
        "RM-OUT-007",
        "a second outcome under a new key",
        lambda: ctx.probe.report(second),
        grpc.StatusCode.ALREADY_EXISTS,
        "OUTCOME_ALREADY_REPORTED",
        metadata={"decision_id": decision.decision_id},
    )
    counted_after = _outcome_count(ctx, served)
    escalating = ctx.claims("ROUTER_CAPABILITY_ESCALATION")
    level = walk.route().policy.escalation_level if escalating else walk.level
    for requirement, what in (
        ("RM-OUT-005", "the replay"),
        ("RM-OUT-006", "the reused key"),
        ("RM-OUT-007", "the second outcome"),
        ("RM-ERR-005", "the refused outcomes"),
    ):
        if escalating:
            ctx.expect(
                requirement,
                level == walk.level,
                f"one TASK_FAILED applied once: level {level}, expected {walk.level}; {what} changed nothing",
            )
        if counted_after != counted_before:
            ctx.expect(
                requirement,
                counted_after == counted_before + 1,
                f"'{served}' counts {counted_after - counted_before} more outcome(s) after one outcome, a replay, "
                f"a reused key and a second outcome; expected 1: {what} changed nothing",
            )


def _outcome_count(ctx: CheckContext, endpoint_id: str) -> int:
    """The outcomes the card says the endpoint has seen (0 for a router that does not publish them)."""
    return next((p.status.observed_outcomes for p in ctx.probe.card().endpoints if p.endpoint.id == endpoint_id), 0)


@check("outcomes", "The response states every effect, with the cost of the reported usage", ("RM-OUT-009",))
def effects(ctx: CheckContext) -> None:
    conversation = ctx.ids.conversation("effects")
    prompt = Prompt.of([4000])
    decision = route(
        ctx, conversation, prompt, hints_pb2.RoutingHints(role="code.edit", endpoint_choice=pin("fx-gpt5"))
    )
    used = usage(4000, 321, cache_read=1024)
    response = ctx.probe.report(outcome(decision.decision_id, "fx-gpt5", ctx.ids.key(), used=used))
    got = response.effects
    econ = ctx.fixture.economics("fx-gpt5")
    want = cost.to_proto(cost.cost_of_usage(econ, used), econ.currency)
    wrong = cost_differences(got.reported_cost, want, TURN_COST_FIELDS)
    ctx.expect("RM-OUT-009", not wrong, "reported_cost from the usage: " + ("; ".join(wrong) or "exact"))
    ctx.expect_equal("RM-OUT-009", "served_endpoint_id", got.served_endpoint_id, "fx-gpt5")
    ctx.expect_equal(
        "RM-OUT-009",
        "(level, successes) for code.edit after a success",
        (got.escalation_level, got.consecutive_successes),
        (0, 1),
    )
    if ctx.claims("ROUTER_CAPABILITY_CACHE_ACCOUNTING"):
        ctx.expect_equal("RM-OUT-009", "cached_prefix_tokens", got.cached_prefix_tokens, 4000)
    ctx.expect_equal("RM-OUT-009", "quota states of fx-gpt5 (it has none)", list(got.quota_states), [])


@check("outcomes", "Reported cache writes are priced by their TTL", ("RM-COST-005",))
def writes_by_ttl(ctx: CheckContext) -> None:
    """fx-opus writes at $10 (1 hour) and $6.25 (5 minutes) per million tokens."""
    prompt = Prompt.of([4000])
    econ = ctx.fixture.economics("fx-opus")
    cases = (("1,000 of 3,000 writes with the long TTL", 1000), ("no split reported", 0))
    for what, long_ttl in cases:
        decision = route(
            ctx,
            ctx.ids.conversation("ttl"),
            prompt,
            hints_pb2.RoutingHints(role="chat", endpoint_choice=pin("fx-opus")),
        )
        used = usage(4000, 100, cache_write=3000)
        used.cache_write_long_ttl_tokens = long_ttl
        got = ctx.probe.report(outcome(decision.decision_id, "fx-opus", ctx.ids.key(), used=used)).effects
        short = 3000 - long_ttl
        want = long_ttl * econ.write_price(long_ttl=True) + short * econ.write_price(long_ttl=False)
        ctx.expect(
            "RM-COST-005",
            got.reported_cost.cache_write_picos == want,
            f"{what}: cache_write_picos {got.reported_cost.cache_write_picos}, expected {want}",
        )


@check("outcomes", "Endpoints that failed on a turn are excluded from its retries", ("RM-OUT-010", "RM-OUT-011"))
def failed_this_turn(ctx: CheckContext) -> None:
    wait_until_healthy(ctx, "fx-flaky")
    conversation = ctx.ids.conversation("retry")
    routing = hints_pb2.RoutingHints(role="x-conformance.health")
    prompt = Prompt.of([300])
    first = route(ctx, conversation, prompt, routing, turn=3)
    if first.chosen_endpoint_id != "fx-flaky":
        ctx.not_testable("RM-OUT-010", f"x-conformance.health chose '{first.chosen_endpoint_id}', not fx-flaky")
        return
    ctx.probe.report(outcome(first.decision_id, "fx-flaky", ctx.ids.key(), outcome_class=OC.OUTCOME_CLASS_SERVER_ERROR))
    retry = route(ctx, conversation, prompt, routing, turn=3)
    flaky = next((c for c in retry.candidates if c.endpoint_id == "fx-flaky"), None)
    codes = {e.code for e in flaky.exclusions} if flaky else set()
    ctx.expect(
        "RM-OUT-010",
        D.EXCLUSION_CODE_FAILED_THIS_TURN in codes and retry.chosen_endpoint_id != "fx-flaky",
        f"retry of turn 3 after fx-flaky failed: fx-flaky excluded FAILED_THIS_TURN; chosen "
        f"'{retry.chosen_endpoint_id}'",
    )
    ctx.expect("RM-OUT-011", "RETRY_EXCLUDES_FAILED" in reasons(retry), f"RETRY_EXCLUDES_FAILED: {reasons(retry)}")
    later = route(ctx, conversation, prompt, routing, turn=4)
    ctx.expect(
        "RM-OUT-010",
        later.chosen_endpoint_id == "fx-flaky",
        f"on turn 4 fx-flaky is eligible again: chosen '{later.chosen_endpoint_id}'",
    )
    for failure_class, excluded in ((OC.OUTCOME_CLASS_TIMEOUT, True), (OC.OUTCOME_CLASS_TASK_FAILED, False)):
        hinted = hints_pb2.RoutingHints(role="x-conformance.health")
        hinted.escalation.previous_decision_id = later.decision_id
        hinted.escalation.failure_class = failure_class
        hinted.escalation.attempt = 2
        try:
            again = route(ctx, conversation, prompt, hinted, turn=4)
            chosen_flaky = again.chosen_endpoint_id == "fx-flaky"
        except RouterRefusal as refusal:
            ctx.failed("RM-OUT-010", f"retry with previous_decision_id was refused: {refusal}")
            continue
        name = OC.OutcomeClass.Name(failure_class)
        ctx.expect(
            "RM-OUT-010",
            chosen_flaky != excluded,
            f"previous_decision_id on fx-flaky with failure_class {name}: fx-flaky "
            f"{'excluded' if excluded else 'still eligible'} expected; chosen '{again.chosen_endpoint_id}'",
        )
    ctx.probe.report(outcome(later.decision_id, "fx-flaky", ctx.ids.key(), used=usage(300, 5), ttft_ms=120))
