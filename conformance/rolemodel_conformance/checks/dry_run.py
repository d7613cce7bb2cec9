"""Dry runs: marked, explained, and without any effect; their decisions cannot be reported on (spec 6.10)."""

from __future__ import annotations

import grpc

from rolemodel.v1 import hints_pb2
from rolemodel_conformance.builders import Prompt, outcome, pin, usage
from rolemodel_conformance.checks import check
from rolemodel_conformance.checks.cache import view
from rolemodel_conformance.checks.helpers import expect_refusal, route
from rolemodel_conformance.context import CheckContext
from rolemodel_conformance.expectations import reasons


def _quota_used(ctx: CheckContext) -> int:
    decision = route(
        ctx,
        ctx.ids.conversation("dry-quota"),
        Prompt.of([100]),
        hints_pb2.RoutingHints(role="x-conformance.quota"),
        dry_run=True,
    )
    return sum(s.used.requests for s in decision.quota_states if s.quota_id == "fx-quota-window")


@check("dry-run", "A dry run is marked, explained, and changes nothing", ("RM-DRY-001",))
def dry_run_changes_nothing(ctx: CheckContext) -> None:
    conversation = ctx.ids.conversation("dry")
    prompt = Prompt.of([3000])
    routing = hints_pb2.RoutingHints(role="code.edit", endpoint_choice=pin("fx-gpt5"))
    decision = route(ctx, conversation, prompt, routing, dry_run=True)
    ctx.expect(
        "RM-DRY-001",
        decision.dry_run and "DRY_RUN" in reasons(decision),
        f"dry_run {decision.dry_run} and reasons {reasons(decision)}",
    )
    before = _quota_used(ctx) if ctx.claims("ROUTER_CAPABILITY_QUOTA") else 0
    for _ in range(2):
        route(
            ctx,
            ctx.ids.conversation("dry-quota"),
            Prompt.of([100]),
            hints_pb2.RoutingHints(role="x-conformance.quota", endpoint_choice=pin("fx-quota")),
            dry_run=True,
        )
    if ctx.claims("ROUTER_CAPABILITY_QUOTA"):
        after = _quota_used(ctx)
        ctx.expect("RM-DRY-001", after <= before, f"dry runs on fx-quota reserve nothing: used {before} -> {after}")
    real = route(ctx, conversation, prompt.extend([100, 100]), hints_pb2.RoutingHints(role="code.edit"), turn=1)
    ctx.expect(
        "RM-DRY-001",
        not real.policy.current_endpoint_id and view(real, "fx-gpt5").held == 0,
        f"after a dry run the conversation has no current endpoint and fx-gpt5 holds nothing; got "
        f"{real.policy.current_endpoint_id!r}, {view(real, 'fx-gpt5').held}",
    )


@check("dry-run", "An outcome on a dry-run decision is DECISION_NOT_FOUND", ("RM-DRY-002",))
def dry_run_outcome(ctx: CheckContext) -> None:
    decision = route(
        ctx, ctx.ids.conversation("dry"), Prompt.of([300]), hints_pb2.RoutingHints(role="chat"), dry_run=True
    )
    report = outcome(decision.decision_id, decision.chosen_endpoint_id, ctx.ids.key(), used=usage(300, 10))
    expect_refusal(
        ctx,
        "RM-DRY-002",
        "an outcome on a dry-run decision",
        lambda: ctx.probe.report(report),
        grpc.StatusCode.NOT_FOUND,
        "DECISION_NOT_FOUND",
        metadata={"decision_id": decision.decision_id},
    )
