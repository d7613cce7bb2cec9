"""Quotas on fx-quota: 3 requests per rolling 4 s window, then fx-deepseek; reconciled by outcomes (spec 9.6).

x-conformance.quota prefers fx-quota (quality strategy). Each route uses a new
conversation, so affinity plays no part. The check waits until the window is
empty, fills it, watches the fourth request go elsewhere, frees a request with
a failure outcome, and finally waits for the window to free capacity.
"""

from __future__ import annotations

import time

from rolemodel import cost as cost_model
from rolemodel.v1 import common_pb2, decision_pb2, hints_pb2
from rolemodel_conformance.builders import Prompt, avoid, outcome, usage
from rolemodel_conformance.checks import check
from rolemodel_conformance.checks.helpers import route
from rolemodel_conformance.context import CheckContext, NotObservable
from rolemodel_conformance.expectations import candidate, estimate, exclusion_codes

ROLE = "x-conformance.quota"
QUOTA = "fx-quota-window"
ENDPOINT = "fx-quota"
PROMPT_TOKENS = 1000
OUTPUT = 100
LONGEST_WAIT_S = 10.0


def _route(ctx: CheckContext, *, elsewhere: bool = False) -> decision_pb2.Decision:
    """A request of the quota role; ``elsewhere`` avoids fx-quota, to read the window without using it."""
    routing = hints_pb2.RoutingHints(role=ROLE, expected_output_tokens=OUTPUT)
    if elsewhere:
        routing.endpoint_choice.CopyFrom(avoid(ENDPOINT))
    return route(ctx, ctx.ids.conversation("quota"), Prompt.of([PROMPT_TOKENS]), routing)


def state(decision: decision_pb2.Decision) -> decision_pb2.QuotaState | None:
    return next((s for s in decision.quota_states if s.quota_id == QUOTA), None)


def _wait_for_empty_window(ctx: CheckContext, *, judge: bool = False) -> None:
    """Until fx-quota's window counts nothing; ``judge`` checks the empty window's state (RM-QUOTA-003)."""
    give_up = time.monotonic() + LONGEST_WAIT_S
    while time.monotonic() < give_up:
        probe = _route(ctx, elsewhere=True)
        current = state(probe)
        if current is None:
            raise NotObservable(f"decisions of {ROLE} report no state for {QUOTA}")
        if current.used.requests == 0:
            if judge:
                _judge_empty(ctx, probe, current)
            return
        time.sleep(max(0.05, current.resets_at.ToMilliseconds() / 1000 - time.time() + 0.05))
    raise NotObservable(f"{QUOTA} did not empty within {LONGEST_WAIT_S:g} s")


def _judge_empty(ctx: CheckContext, probe: decision_pb2.Decision, empty: decision_pb2.QuotaState) -> None:
    """An empty rolling window frees capacity a window's length after the decision, and is not exhausted."""
    quota = next(q for q in ctx.fixture.catalog.policies.quotas if q.id == QUOTA)
    window_ms = quota.window_seconds * 1000
    want = probe.created_at.ToMilliseconds() + window_ms
    ctx.expect(
        "RM-QUOTA-003",
        empty.resets_at.ToMilliseconds() == want
        and not empty.exhausted
        and empty.remaining.requests == quota.max_requests,
        f"a rolling window that counts nothing: resets_at is the decision time + {window_ms} ms "
        f"({empty.resets_at.ToMilliseconds() - want:+d} ms off), exhausted {empty.exhausted}, remaining "
        f"{empty.remaining.requests} of {quota.max_requests}",
    )


def _reservation(ctx: CheckContext) -> tuple[int, int, int]:
    myopic = estimate(ctx.fixture, ENDPOINT, Prompt.of([PROMPT_TOKENS]), output_hint=OUTPUT).total_picos
    return 1, PROMPT_TOKENS + OUTPUT, myopic


def _usage_tuple(u: decision_pb2.QuotaUsage) -> tuple[int, int, int]:
    return u.requests, u.tokens, u.cost_picos


@check(
    "quota",
    "A full window excludes the endpoint, reports its state, and frees capacity again",
    ("RM-QUOTA-001", "RM-QUOTA-003", "RM-QUOTA-005"),
)
def window(ctx: CheckContext) -> None:
    _wait_for_empty_window(ctx, judge=True)
    need = _reservation(ctx)
    admitted = []
    for i in range(1, 4):
        decision = _route(ctx)
        admitted.append(decision)
        got = state(decision)
        ctx.expect(
            "RM-QUOTA-001",
            decision.chosen_endpoint_id == ENDPOINT,
            f"request {i} of 3 goes to {ENDPOINT}: '{decision.chosen_endpoint_id}'",
        )
        if got is None:
            ctx.failed("RM-QUOTA-003", f"decision {i} reports no state for {QUOTA}")
            continue
        resets = admitted[0].created_at.ToMilliseconds() + 4000
        ctx.expect(
            "RM-QUOTA-003",
            (
                _usage_tuple(got.limit)[0],
                got.used.requests,
                got.remaining.requests,
                _usage_tuple(got.reserved),
                got.resets_at.ToMilliseconds(),
                got.exhausted,
            )
            == (3, i, 3 - i, need, resets, False),
            f"request {i}: limit {got.limit.requests}, used {got.used.requests}, remaining "
            f"{got.remaining.requests}, reserved {_usage_tuple(got.reserved)} (expected {need}), resets "
            f"{got.resets_at.ToMilliseconds() - resets:+d} ms from the first request + 4 s",
        )
    fourth = _route(ctx)
    quota_candidate = candidate(fourth, ENDPOINT)
    codes = exclusion_codes(quota_candidate) if quota_candidate else set()
    ctx.expect(
        "RM-QUOTA-001",
        fourth.chosen_endpoint_id != ENDPOINT and "QUOTA_EXHAUSTED" in codes,
        f"request 4 in the window: {ENDPOINT} excluded QUOTA_EXHAUSTED, served elsewhere; got "
        f"{sorted(codes)}, '{fourth.chosen_endpoint_id}'",
    )
    full = state(fourth)
    if full is not None:
        ctx.expect(
            "RM-QUOTA-003",
            full.exhausted and full.remaining.requests == 0 and full.reserved.requests == 0,
            f"request 4: exhausted {full.exhausted}, remaining {full.remaining.requests}, reserved "
            f"{full.reserved.requests}",
        )
        delay = full.resets_at.ToMilliseconds() / 1000 - time.time()
        if delay < LONGEST_WAIT_S:
            time.sleep(max(0.0, delay) + 0.15)
        again = _route(ctx)
        ctx.expect(
            "RM-QUOTA-005",
            again.chosen_endpoint_id == ENDPOINT,
            f"after resets_at the window admits {ENDPOINT} again: '{again.chosen_endpoint_id}'",
        )
        admitted.append(again)
    for decision in admitted:
        ctx.probe.report(outcome(decision.decision_id, ENDPOINT, ctx.ids.key(), used=usage(PROMPT_TOKENS, 10)))


@check(
    "quota",
    "Outcomes replace reservations: a failure frees its request; replays count once",
    ("RM-QUOTA-004", "RM-OUT-009", "RM-OUT-005"),
)
def reconciliation(ctx: CheckContext) -> None:
    ctx.require_capability("ROUTER_CAPABILITY_QUOTA", "a quota window's reconciliation")
    _wait_for_empty_window(ctx)
    _, tokens, cost = _reservation(ctx)
    d1, d2, d3 = _route(ctx), _route(ctx), _route(ctx)
    if {d.chosen_endpoint_id for d in (d1, d2, d3)} != {ENDPOINT}:
        raise NotObservable(f"the three requests did not all go to {ENDPOINT}")
    failed = ctx.probe.report(
        outcome(d2.decision_id, ENDPOINT, ctx.ids.key(), outcome_class=common_pb2.OUTCOME_CLASS_RATE_LIMITED)
    )
    after_failure = next((s for s in failed.effects.quota_states if s.quota_id == QUOTA), None)
    ctx.expect("RM-OUT-009", after_failure is not None, f"the effects list the served endpoint's quota {QUOTA}")
    if after_failure is not None:
        ctx.expect(
            "RM-QUOTA-004",
            _usage_tuple(after_failure.used) == (2, 2 * tokens, 2 * cost),
            f"a RATE_LIMITED outcome counts no request and no usage: used {_usage_tuple(after_failure.used)}, "
            f"expected {(2, 2 * tokens, 2 * cost)}",
        )
    d4 = _route(ctx)
    ctx.expect(
        "RM-QUOTA-004",
        d4.chosen_endpoint_id == ENDPOINT,
        f"the freed request admits {ENDPOINT} again: '{d4.chosen_endpoint_id}'",
    )
    used = usage(PROMPT_TOKENS, 20, cache_read=200, cache_write=300)
    report = outcome(d1.decision_id, ENDPOINT, ctx.ids.key(), used=used)
    served = ctx.probe.report(report)
    econ = ctx.fixture.economics(ENDPOINT)
    used_cost = cost_model.cost_of_usage(econ, used).total_picos
    extra = 2 if d4.chosen_endpoint_id == ENDPOINT else 1
    want = (1 + extra, PROMPT_TOKENS + 20 + extra * tokens, used_cost + extra * cost)
    got = next((s for s in served.effects.quota_states if s.quota_id == QUOTA), None)
    ctx.expect(
        "RM-QUOTA-004",
        got is not None and _usage_tuple(got.used) == want,
        f"a SUCCESS with usage replaces the reservation: used {_usage_tuple(got.used) if got else None}, "
        f"expected {want}",
    )
    replay = ctx.probe.report(report)
    again = next((s for s in replay.effects.quota_states if s.quota_id == QUOTA), None)
    ctx.expect("RM-OUT-005", replay.replayed and again == got, "a replayed outcome answers with the first effects")
    probe = _route(ctx, elsewhere=True)
    now = state(probe)
    ctx.expect(
        "RM-OUT-005",
        now is not None and _usage_tuple(now.used) == want,
        f"after the replay the window still counts {want}: {_usage_tuple(now.used) if now else None}",
    )
    for decision in (d3, d4):
        if decision.chosen_endpoint_id == ENDPOINT:
            ctx.probe.report(outcome(decision.decision_id, ENDPOINT, ctx.ids.key(), used=usage(PROMPT_TOKENS, 10)))
