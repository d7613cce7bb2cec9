"""The observed profile and cooldowns of fx-flaky (spec 9.5).

The card publishes each endpoint's observed time to first token, failure
rate and outcome count, and its cooldown. The check reads them before and
after each outcome and compares with the decay ``v <- v + 0.2 (x - v)``,
started at the first observation. Three consecutive failures should put the
endpoint into a cooldown of 5 s (RM-OUT-021), which must be shown in the card
and enforced with UNHEALTHY (RM-OUT-022); a success at the end clears the
count, so that the next run starts clean.

A router that claims authentication must not let failures a client reports
start a cooldown (RM-AUTH-013), and RM-OUT-021 counts only the failures that
rule lets count; so there the same three reports must leave the endpoint
eligible, and a cooldown is a violation of RM-AUTH-013, not a pass.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass

from rolemodel.v1 import common_pb2, decision_pb2, hints_pb2
from rolemodel_conformance.builders import Prompt, outcome, usage
from rolemodel_conformance.checks import check
from rolemodel_conformance.checks.helpers import route
from rolemodel_conformance.context import CheckContext, NotObservable
from rolemodel_conformance.expectations import candidate, exclusion_codes

DECAY = 0.2
ENDPOINT = "fx-flaky"
LONGEST_WAIT_S = 12.0
COOLDOWN_S = 5.0


@dataclass(frozen=True)
class Status:
    outcomes: int
    failure_rate: float
    ttft_ms: float
    cooldown_until_ms: int


def status(ctx: CheckContext, endpoint_id: str) -> Status:
    for profile in ctx.probe.card().endpoints:
        if profile.endpoint.id == endpoint_id:
            s = profile.status
            until = s.cooldown_until.ToMilliseconds() if s.HasField("cooldown_until") else 0
            return Status(s.observed_outcomes, s.observed_failure_rate, s.observed_ttft_ms, until)
    raise NotObservable(f"the card does not list {endpoint_id}")


def wait_until_healthy(ctx: CheckContext, endpoint_id: str) -> None:
    """Wait out a cooldown left by an earlier run, or give up as not observable."""
    until = status(ctx, endpoint_id).cooldown_until_ms
    delay = until / 1000 - time.time()
    if delay > LONGEST_WAIT_S:
        raise NotObservable(f"{endpoint_id} is cooling down for {delay:.0f} s more (left by an earlier run)")
    if delay > 0:
        time.sleep(delay + 0.1)


def _decayed(previous: float, sample: float, started: bool) -> float:
    return previous + DECAY * (sample - previous) if started else sample


def _flaky_decision(ctx: CheckContext) -> decision_pb2.Decision:
    decision = route(
        ctx, ctx.ids.conversation("health"), Prompt.of([200]), hints_pb2.RoutingHints(role="x-conformance.health")
    )
    if decision.chosen_endpoint_id != ENDPOINT:
        raise NotObservable(f"x-conformance.health chose '{decision.chosen_endpoint_id}', not {ENDPOINT}")
    return decision


def _report_and_compare(
    ctx: CheckContext, decision: decision_pb2.Decision, outcome_class: common_pb2.OutcomeClass.ValueType, ttft_ms: int
) -> None:
    before = status(ctx, ENDPOINT)
    failed = outcome_class != common_pb2.OUTCOME_CLASS_SUCCESS
    used = usage(0, 0) if failed else usage(200, 10)
    ctx.probe.report(
        outcome(decision.decision_id, ENDPOINT, ctx.ids.key(), outcome_class=outcome_class, used=used, ttft_ms=ttft_ms)
    )
    after = status(ctx, ENDPOINT)
    rate = _decayed(before.failure_rate, 1.0 if failed else 0.0, before.outcomes > 0)
    ttft = before.ttft_ms if failed or not ttft_ms else _decayed(before.ttft_ms, ttft_ms, before.ttft_ms > 0)
    name = common_pb2.OutcomeClass.Name(outcome_class)
    ok = (
        after.outcomes == before.outcomes + 1
        and math.isclose(after.failure_rate, rate, abs_tol=1e-9)
        and math.isclose(after.ttft_ms, ttft, abs_tol=1e-6)
    )
    ctx.expect(
        "RM-OUT-020",
        ok,
        f"after {name} (ttft {ttft_ms} ms): outcomes {before.outcomes}->{after.outcomes}, failure rate "
        f"{before.failure_rate:.6f}->{after.failure_rate:.6f} (expected {rate:.6f}), ttft "
        f"{before.ttft_ms:.3f}->{after.ttft_ms:.3f} (expected {ttft:.3f})",
    )


@check(
    "outcomes",
    "Observed profile decays per outcome; three failures start a cooldown shown and enforced",
    ("RM-OUT-020", "RM-OUT-021", "RM-OUT-022", "RM-AUTH-013"),
)
def observed_profile(ctx: CheckContext) -> None:
    wait_until_healthy(ctx, ENDPOINT)
    first, last, *failing = [_flaky_decision(ctx) for _ in range(5)]
    _report_and_compare(ctx, first, common_pb2.OUTCOME_CLASS_SUCCESS, 150)
    for decision in failing:
        _report_and_compare(ctx, decision, common_pb2.OUTCOME_CLASS_SERVER_ERROR, 0)
    reported_at = time.time()
    shown = status(ctx, ENDPOINT).cooldown_until_ms > time.time() * 1000
    decision = route(
        ctx, ctx.ids.conversation("health"), Prompt.of([200]), hints_pb2.RoutingHints(role="x-conformance.health")
    )
    flaky = candidate(decision, ENDPOINT)
    unhealthy = "UNHEALTHY" in (exclusion_codes(flaky) if flaky else set())
    if ctx.claims("ROUTER_CAPABILITY_AUTH"):
        _reported_failures_start_no_cooldown(ctx, shown, unhealthy)
    elif not shown and not unhealthy:
        ctx.failed("RM-OUT-021", f"three consecutive failures put {ENDPOINT} into no cooldown")
        ctx.passed("RM-OUT-022", f"{ENDPOINT} is not cooling down: the card shows no cooldown, and it is eligible")
    else:
        ctx.expect(
            "RM-OUT-022",
            shown and unhealthy,
            f"a cooldown is shown in the card ({shown}) and enforced with UNHEALTHY ({unhealthy}); chosen "
            f"'{decision.chosen_endpoint_id}'",
        )
    if shown and not ctx.claims("ROUTER_CAPABILITY_AUTH"):
        length = status(ctx, ENDPOINT).cooldown_until_ms / 1000 - reported_at
        ctx.expect(
            "RM-OUT-021",
            abs(length - COOLDOWN_S) <= 1.0,
            f"the first cooldown lasts {COOLDOWN_S:g} s: {length:.2f} s",
        )
    _report_and_compare(ctx, last, common_pb2.OUTCOME_CLASS_SUCCESS, 90)


def _reported_failures_start_no_cooldown(ctx: CheckContext, shown: bool, unhealthy: bool) -> None:
    """Score the three reported failures on a router that claims authentication (RM-AUTH-013)."""
    cooled = shown or unhealthy
    detail = f"the card shows a cooldown ({shown}), decisions exclude {ENDPOINT} as UNHEALTHY ({unhealthy})"
    ctx.expect("RM-AUTH-013", not cooled, f"three failures reported with ReportOutcome under a token: {detail}")
    ctx.expect("RM-OUT-021", not cooled, f"with authentication on, reported failures start no cooldown: {detail}")
    ctx.expect("RM-OUT-022", shown == unhealthy, f"cooldown shown and enforced agree: {detail}")
