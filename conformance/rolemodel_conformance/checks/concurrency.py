"""Concurrency: 50 parallel routes against a 10-request window, and parallel routes in one conversation.

Both checks judge from what the router recorded, not from timing guesses:
admitted decisions are grouped by the fixed window their ``created_at`` falls
in, and parallel decisions in one conversation must form a single chain, each
seeing exactly the state its predecessor left (RM-ROUTE-050).
"""

from __future__ import annotations

import math
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from rolemodel.v1 import decision_pb2, hints_pb2
from rolemodel_conformance.builders import Prompt, pin
from rolemodel_conformance.checks import check
from rolemodel_conformance.checks.cache import view
from rolemodel_conformance.checks.helpers import probe_route, route
from rolemodel_conformance.context import CheckContext
from rolemodel_conformance.expectations import candidate, exclusion_codes
from rolemodel_conformance.probe import RouterRefusal

BURST_ROLE = "x-conformance.burst"
BURST_ENDPOINT = "fx-burst"
PARALLEL = 50


def _burst_quota(ctx: CheckContext) -> tuple[int, int]:
    quota = ctx.fixture.quotas_of(BURST_ENDPOINT)[0]
    return quota.window_seconds * 1000, quota.max_requests


@check("concurrency", "50 parallel routes never over-admit a 10-request window", ("RM-QUOTA-002", "RM-QUOTA-001"))
def burst(ctx: CheckContext) -> None:
    window_ms, limit = _burst_quota(ctx)
    now_ms = time.time() * 1000
    start = math.ceil(now_ms / window_ms) * window_ms
    time.sleep((start - now_ms) / 1000 + 0.05)

    def one(i: int) -> decision_pb2.Decision | RouterRefusal:
        try:
            return route(
                ctx, ctx.ids.conversation(f"burst-{i}"), Prompt.of([100]), hints_pb2.RoutingHints(role=BURST_ROLE)
            )
        except RouterRefusal as refusal:
            return refusal

    with ThreadPoolExecutor(max_workers=PARALLEL) as pool:
        answers = list(pool.map(one, range(PARALLEL)))
    admitted = [a for a in answers if isinstance(a, decision_pb2.Decision)]
    refused = [a for a in answers if isinstance(a, RouterRefusal)]
    per_window: dict[int, int] = {}
    for decision in admitted:
        slot = decision.created_at.ToMilliseconds() // window_ms
        per_window[slot] = per_window.get(slot, 0) + 1
    for requirement in ("RM-QUOTA-002", "RM-QUOTA-001"):
        ctx.expect(
            requirement,
            all(n <= limit for n in per_window.values()),
            f"{PARALLEL} parallel routes: admitted per {window_ms // 1000} s window {sorted(per_window.values())}, "
            f"at most {limit} each",
        )
    wrong = [r for r in refused if r.reason != "NO_ELIGIBLE_ENDPOINT"]
    ctx.expect("RM-QUOTA-002", not wrong, f"every refusal is NO_ELIGIBLE_ENDPOINT: {[str(r) for r in wrong[:2]]}")
    exhausted = [
        r
        for r in refused
        if r.decision is not None
        and "QUOTA_EXHAUSTED" in exclusion_codes(candidate(r.decision, BURST_ENDPOINT) or decision_pb2.Candidate())
    ]
    if not refused:
        ctx.not_testable("RM-QUOTA-002", "no request was refused: the burst did not fill one window")
    else:
        ctx.expect(
            "RM-QUOTA-002",
            len(exhausted) == len(refused),
            f"{len(exhausted)} of {len(refused)} refusals exclude {BURST_ENDPOINT} with QUOTA_EXHAUSTED",
        )


@dataclass(frozen=True)
class Parallel:
    prompt: Prompt
    decision: decision_pb2.Decision


@check(
    "concurrency", "Parallel routes in one conversation see each other's effects whole or not at all", ("RM-ROUTE-050",)
)
def one_conversation(ctx: CheckContext) -> None:
    """One START among the first turns on every router; with cache accounting, also the chain of entries seen."""
    conversation = ctx.ids.conversation("parallel")
    prompts = [Prompt.of([2001 + i]) for i in range(8)]
    routing = hints_pb2.RoutingHints(role="code.edit", endpoint_choice=pin("fx-gpt5"))
    with ThreadPoolExecutor(max_workers=len(prompts)) as pool:
        decisions = list(pool.map(lambda p: route(ctx, conversation, p, routing), prompts))
    runs = [Parallel(p, d) for p, d in zip(prompts, decisions, strict=True)]
    starts = [r for r in runs if r.decision.handoff.action == decision_pb2.HANDOFF_ACTION_START]
    ctx.expect(
        "RM-ROUTE-050",
        len(starts) == 1,
        f"exactly one of {len(runs)} parallel first turns saw an empty conversation: {len(starts)} did",
    )
    if not ctx.claims("ROUTER_CAPABILITY_CACHE_ACCOUNTING"):
        final = probe_route(ctx, conversation, Prompt.of([100]), hints_pb2.RoutingHints(role="code.edit"), turn=1)
        ctx.expect(
            "RM-ROUTE-050",
            final.policy.current_endpoint_id == "fx-gpt5" and final.handoff.action != decision_pb2.HANDOFF_ACTION_START,
            f"afterwards the conversation continues on fx-gpt5: current '{final.policy.current_endpoint_id}', "
            f"handoff {decision_pb2.HandoffAction.Name(final.handoff.action)}",
        )
        return
    seen = [view(r.decision, "fx-gpt5").held for r in runs]
    own = {r.prompt.tokens for r in runs}
    predecessors = [s for s in seen if s]
    ctx.expect(
        "RM-ROUTE-050",
        sorted(predecessors) == sorted(set(predecessors))
        and set(predecessors) <= own
        and len(predecessors) == len(runs) - 1,
        f"each decision saw the whole entry of exactly one other (a chain): held {seen}, prompts {sorted(own)}",
    )
    last = (own - set(predecessors)) if len(predecessors) == len(runs) - 1 else set()
    final = probe_route(ctx, conversation, Prompt.of([100]), hints_pb2.RoutingHints(role="code.edit"), turn=1)
    held = view(final, "fx-gpt5").held
    ctx.expect(
        "RM-ROUTE-050",
        {held} == last and final.policy.current_endpoint_id == "fx-gpt5",
        f"the state afterwards is the last decision's: fx-gpt5 holds {held}, expected {sorted(last)}",
    )
