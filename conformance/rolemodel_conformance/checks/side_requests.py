"""Side requests: isolated ones are routed cheaply and leave the conversation alone; merged ones are main turns."""

from __future__ import annotations

from rolemodel.v1 import common_pb2, hints_pb2
from rolemodel_conformance.builders import Prompt, outcome, pin, usage
from rolemodel_conformance.checks import check
from rolemodel_conformance.checks.cache import view
from rolemodel_conformance.checks.helpers import probe_route, route
from rolemodel_conformance.context import CheckContext
from rolemodel_conformance.expectations import reasons

AFFINITY_REASONS = {"AFFINITY_KEPT", "AFFINITY_SWITCHED_SAVING", "AFFINITY_SWITCHED_QUALITY", "TOOL_LOOP_PINNED"}


def _side(
    role: str, merge_back: bool | None = None, base: hints_pb2.RoutingHints | None = None
) -> hints_pb2.RoutingHints:
    """A side request of ``role``; ``merge_back`` None leaves it to the role's default."""
    routing = hints_pb2.RoutingHints(role=role)
    if base is not None:
        routing.MergeFrom(base)
    routing.side_request.SetInParent()
    if merge_back is not None:
        routing.side_request.merge_back = merge_back
    return routing


@check(
    "side-requests",
    "An isolated side request: tier 0, cost strategy, horizon 1, no affinity",
    ("RM-SIDE-001", "RM-SIDE-005"),
)
def isolated_routing(ctx: CheckContext) -> None:
    conversation = ctx.ids.conversation("side")
    first = Prompt.of([3000])
    route(ctx, conversation, first, hints_pb2.RoutingHints(role="chat", endpoint_choice=pin("fx-gpt5")))
    routing = _side(
        "chat", False, hints_pb2.RoutingHints(difficulty=0.95, strategy=common_pb2.STRATEGY_QUALITY, horizon_turns=5)
    )
    decision = route(ctx, conversation, first.extend([300, 100]), routing, turn=1)
    policy = decision.policy
    ctx.expect(
        "RM-SIDE-001",
        policy.required_tier == 0 and policy.strategy == common_pb2.STRATEGY_COST,
        f"difficulty 0.95 and strategy QUALITY asked: required tier {policy.required_tier}, strategy "
        f"{common_pb2.Strategy.Name(policy.strategy)}; expected tier 0 and STRATEGY_COST",
    )
    horizons = {c.cost.horizon_turns for c in decision.candidates if c.HasField("cost")}
    ctx.expect(
        "RM-SIDE-001", horizons == {1}, f"horizon 5 asked: costs use horizons {sorted(horizons)}, expected {{1}}"
    )
    ctx.expect(
        "RM-SIDE-001",
        "SIDE_REQUEST_ISOLATED" in reasons(decision) and not AFFINITY_REASONS & set(reasons(decision)),
        f"reason SIDE_REQUEST_ISOLATED and no affinity rule: {reasons(decision)}",
    )
    ctx.expect(
        "RM-SIDE-005",
        decision.side_request and not decision.merge_back,
        f"side_request {decision.side_request}, merge_back {decision.merge_back}; expected True, False",
    )
    for role, merge_back, want in (("summarize", None, False), ("chat", None, False), ("code.edit", True, True)):
        d = route(ctx, ctx.ids.conversation("side"), Prompt.of([400]), _side(role, merge_back))
        ctx.expect(
            "RM-SIDE-005",
            d.side_request and d.merge_back == want,
            f"side request on {role} with merge_back {merge_back}: decision side_request {d.side_request}, "
            f"merge_back {d.merge_back}; expected True, {want}",
        )


@check("side-requests", "An isolated side request and its outcome leave the conversation's state", ("RM-SIDE-002",))
def isolated_leaves_state(ctx: CheckContext) -> None:
    conversation = ctx.ids.conversation("side-state")
    first = Prompt.of([3000])
    route(ctx, conversation, first, hints_pb2.RoutingHints(role="code.edit", endpoint_choice=pin("fx-gpt5")))
    follow = first.extend([400, 300])
    main = hints_pb2.RoutingHints(role="code.edit")
    before = probe_route(ctx, conversation, follow, main, turn=1)
    side = route(ctx, conversation, follow, _side("summarize"), turn=1)
    ctx.probe.report(outcome(side.decision_id, side.chosen_endpoint_id, ctx.ids.key(), used=usage(follow.tokens, 200)))
    after = probe_route(ctx, conversation, follow, main, turn=1)
    ctx.expect(
        "RM-SIDE-002",
        after.policy.current_endpoint_id == "fx-gpt5",
        f"the current endpoint stays fx-gpt5 after a side request served by '{side.chosen_endpoint_id}'; "
        f"got {after.policy.current_endpoint_id!r}",
    )
    for endpoint_id in ("fx-gpt5", "fx-mini", "fx-deepseek"):
        was, now = view(before, endpoint_id), view(after, endpoint_id)
        ctx.expect(
            "RM-SIDE-002",
            (was.held, was.matched, was.source) == (now.held, now.matched, now.source),
            f"'{endpoint_id}' holds the same prefix after the side request and its outcome: before "
            f"{was.held}/{was.source or 'none'}, after {now.held}/{now.source or 'none'}",
        )
    ctx.expect(
        "RM-SIDE-002",
        after.policy.escalation_level == before.policy.escalation_level,
        f"escalation level {before.policy.escalation_level} -> {after.policy.escalation_level}",
    )


@check("side-requests", "A merged side request is a main turn", ("RM-SIDE-004",))
def merged_is_main(ctx: CheckContext) -> None:
    conversation = ctx.ids.conversation("merged")
    first = Prompt.of([3000])
    route(ctx, conversation, first, hints_pb2.RoutingHints(role="code.edit", endpoint_choice=pin("fx-gpt5")))
    follow = first.extend([400, 300])
    merged = route(
        ctx,
        conversation,
        follow,
        _side("code.edit", True, hints_pb2.RoutingHints(endpoint_choice=pin("fx-mini"))),
        turn=1,
    )
    ctx.expect(
        "RM-SIDE-004", "SIDE_REQUEST_MERGED" in reasons(merged), f"reason SIDE_REQUEST_MERGED: {reasons(merged)}"
    )
    after = probe_route(ctx, conversation, follow.extend([100, 50]), hints_pb2.RoutingHints(role="code.edit"), turn=2)
    ctx.expect(
        "RM-SIDE-004",
        after.policy.current_endpoint_id == "fx-mini",
        f"the merged side request on fx-mini became the current endpoint: {after.policy.current_endpoint_id!r}",
    )
    if ctx.claims("ROUTER_CAPABILITY_CACHE_ACCOUNTING"):
        ctx.expect(
            "RM-SIDE-004",
            view(after, "fx-mini").held == follow.tokens,
            f"and fx-mini holds its prompt of {follow.tokens} tokens: {view(after, 'fx-mini').held}",
        )
