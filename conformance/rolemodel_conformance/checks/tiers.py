"""Difficulty, strategy and the required tier: declared or estimated, raised, downgraded (spec 5.5, 6.5)."""

from __future__ import annotations

import grpc

from rolemodel.v1 import common_pb2, decision_pb2, hints_pb2
from rolemodel_conformance.builders import Prompt, avoid, route_request
from rolemodel_conformance.checks import check
from rolemodel_conformance.checks.helpers import expect_refusal
from rolemodel_conformance.context import CheckContext
from rolemodel_conformance.expectations import candidate, difficulty_tier, exclusion_codes, reasons

#: The top tier of chat.
TOP = 2
DECLARED = 0.37


def _route(ctx: CheckContext, routing: hints_pb2.RoutingHints, tokens: int = 600) -> decision_pb2.Decision:
    return ctx.probe.route(route_request(Prompt.of([tokens]).ref(ctx.ids.conversation("tiers")), routing))


def _tier(ctx: CheckContext, decision: decision_pb2.Decision) -> int | None:
    return ctx.fixture.tier_of(decision.role, decision.chosen_endpoint_id)


@check("tiers", "Required tier = min(max(difficulty tier, level), top), recorded in the policy", ("RM-ROUTE-020",))
def required_tier(ctx: CheckContext) -> None:
    for difficulty in (0.0, 0.49, 0.5, 0.79, 0.8, 1.0):
        decision = _route(ctx, hints_pb2.RoutingHints(role="chat", difficulty=difficulty))
        tier = difficulty_tier(ctx.fixture, "chat", difficulty)
        policy = decision.policy
        got = (policy.difficulty_tier, policy.escalation_level, policy.required_tier)
        ctx.expect_equal(
            "RM-ROUTE-020", f"chat at difficulty {difficulty}: (difficulty tier, level, required)", got, (tier, 0, tier)
        )
    if not ctx.claims("ROUTER_CAPABILITY_ESCALATION"):
        return
    for level, difficulty in ((5, 0.2), (1, 0.9)):
        routing = hints_pb2.RoutingHints(role="chat", difficulty=difficulty)
        routing.escalation.force_level = level
        policy = _route(ctx, routing).policy
        tier = difficulty_tier(ctx.fixture, "chat", difficulty)
        want = (tier, level, min(max(tier, level), TOP))
        got = (policy.difficulty_tier, policy.escalation_level, policy.required_tier)
        ctx.expect_equal("RM-ROUTE-020", f"chat, difficulty {difficulty}, force_level {level}", got, want)


@check("tiers", "Nothing eligible on the required tier, something above: TIER_RAISED", ("RM-ROUTE-021",))
def tier_raised(ctx: CheckContext) -> None:
    decision = _route(
        ctx, hints_pb2.RoutingHints(role="chat", difficulty=0.5, endpoint_choice=avoid("fx-mini", "fx-deepseek"))
    )
    ctx.expect(
        "RM-ROUTE-021",
        "TIER_RAISED" in reasons(decision) and _tier(ctx, decision) == TOP,
        f"tier 1 avoided: reason TIER_RAISED and a tier-2 choice; got {reasons(decision)}, "
        f"'{decision.chosen_endpoint_id}'",
    )
    plain = _route(ctx, hints_pb2.RoutingHints(role="chat", difficulty=0.5))
    ctx.expect(
        "RM-ROUTE-021", "TIER_RAISED" not in reasons(plain), f"with tier 1 eligible, no TIER_RAISED: {reasons(plain)}"
    )


@check(
    "tiers",
    "Nothing at or above the required tier: downgrade when allowed, else BELOW_REQUIRED_TIER",
    ("RM-ROUTE-022",),
)
def downgrade(ctx: CheckContext) -> None:
    decision = _route(
        ctx, hints_pb2.RoutingHints(role="chat", difficulty=0.9, endpoint_choice=avoid("fx-gpt5", "fx-opus"))
    )
    ctx.expect(
        "RM-ROUTE-022",
        "DOWNGRADED" in reasons(decision) and _tier(ctx, decision) == 1,
        f"chat at 0.9 without tier 2: DOWNGRADED to the highest lower tier (1); got {reasons(decision)}, "
        f"'{decision.chosen_endpoint_id}' on tier {_tier(ctx, decision)}",
    )
    tiers = [ctx.fixture.tier_of("chat", e) for e in decision.fallback_endpoint_ids]
    ctx.expect(
        "RM-ROUTE-022",
        tiers == sorted(tiers, key=lambda t: -(t or 0)) and 0 in tiers,
        f"fallbacks continue to lower tiers, higher tiers first: {list(decision.fallback_endpoint_ids)}",
    )
    strict = hints_pb2.RoutingHints(
        role="x-conformance.strict", difficulty=0.6, endpoint_choice=avoid("fx-mini", "fx-opus")
    )
    request = route_request(Prompt.of([600]).ref(ctx.ids.conversation("tiers")), strict)
    refusal = expect_refusal(
        ctx,
        "RM-ROUTE-022",
        "x-conformance.strict (no downgrade) without its tier 1",
        lambda: ctx.probe.route(request),
        grpc.StatusCode.FAILED_PRECONDITION,
        "NO_ELIGIBLE_ENDPOINT",
    )
    if refusal is not None and refusal.decision is not None:
        local = candidate(refusal.decision, "fx-local")
        codes = exclusion_codes(local) if local else set()
        ctx.expect("RM-ROUTE-022", "BELOW_REQUIRED_TIER" in codes, f"fx-local is excluded BELOW_REQUIRED_TIER: {codes}")


@check("tiers", "A declared difficulty is used as declared", ("RM-HINT-030",))
def declared_difficulty(ctx: CheckContext) -> None:
    difficulty = _route(ctx, hints_pb2.RoutingHints(role="chat", difficulty=DECLARED)).difficulty
    ctx.expect(
        "RM-HINT-030",
        difficulty.value == DECLARED and difficulty.source == common_pb2.VALUE_SOURCE_DECLARED,
        f"difficulty {DECLARED} declared; got {difficulty.value} from {common_pb2.ValueSource.Name(difficulty.source)}",
    )


@check("tiers", "Without a difficulty the estimate is recorded with its estimator", ("RM-HINT-031",))
def estimated_difficulty(ctx: CheckContext) -> None:
    difficulty = _route(ctx, hints_pb2.RoutingHints(role="chat")).difficulty
    ctx.expect(
        "RM-HINT-031",
        difficulty.source == common_pb2.VALUE_SOURCE_ESTIMATED,
        f"source {common_pb2.ValueSource.Name(difficulty.source)}, expected VALUE_SOURCE_ESTIMATED",
    )
    ctx.expect(
        "RM-HINT-031",
        bool(difficulty.estimator) and bool(difficulty.estimator_version),
        f"estimator {difficulty.estimator!r} version {difficulty.estimator_version!r} are named",
    )
    ctx.expect("RM-HINT-031", 0.0 <= difficulty.value <= 1.0, f"the estimate {difficulty.value} is in [0, 1]")


@check("tiers", "A strategy in the hints replaces the role's default", ("RM-HINT-032",))
def strategy_hint(ctx: CheckContext) -> None:
    default = _route(ctx, hints_pb2.RoutingHints(role="chat", difficulty=0.6))
    ctx.expect_equal(
        "RM-HINT-032",
        "chat without a strategy hint uses its default",
        common_pb2.Strategy.Name(default.policy.strategy),
        "STRATEGY_COST",
    )
    for strategy in (common_pb2.STRATEGY_QUALITY, common_pb2.STRATEGY_LATENCY, common_pb2.STRATEGY_BALANCED):
        decision = _route(ctx, hints_pb2.RoutingHints(role="chat", difficulty=0.6, strategy=strategy))
        ctx.expect_equal(
            "RM-HINT-032",
            f"policy strategy with hint {common_pb2.Strategy.Name(strategy)}",
            common_pb2.Strategy.Name(decision.policy.strategy),
            common_pb2.Strategy.Name(strategy),
        )
