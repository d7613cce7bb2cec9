"""Usage windows of a subscription (spec 9.8): reported shares, the hard stop, the paced target, the headers.

``fx-subscription`` has a reported quota per window (``fx-subscription-5h``, ``-7d``), and the role
``x-conformance.paced`` sends its hardest turns there as the windows allow. The suite plays a client
that calls the subscription itself and reports the windows in ``Outcome.usage_windows``, with resets
a few seconds ahead so that every state it causes is gone when the check ends. The Execute check
has the suite's scripted backend play the subscription: it reports its windows in Codex's headers.
"""

from __future__ import annotations

import time

import grpc

from rolemodel.v1 import catalog_pb2, decision_pb2, hints_pb2, outcome_pb2
from rolemodel_conformance.builders import Prompt, outcome, usage
from rolemodel_conformance.checks import check
from rolemodel_conformance.checks.execute_support import execute, messages, reply, request
from rolemodel_conformance.checks.helpers import names_field, probe_route, route
from rolemodel_conformance.context import CheckContext, NotObservable
from rolemodel_conformance.probe import RouterRefusal

ROLE = "x-conformance.paced"
ENDPOINT = "fx-subscription"
SHORT, LONG = "fx-subscription-5h", "fx-subscription-7d"
RESET_S = 4.0
EXHAUSTED = "EXCLUSION_CODE_QUOTA_EXHAUSTED"
#: Whole percents are what Codex sends; a router may round nothing, so allow half a point either way.
TOLERANCE = 0.006


def _route(ctx: CheckContext, *, probe: bool = False) -> decision_pb2.Decision:
    hints = hints_pb2.RoutingHints(role=ROLE, difficulty=0.95, expected_output_tokens=100)
    prompt, conversation = Prompt.of([800]), ctx.ids.conversation("paced")
    return probe_route(ctx, conversation, prompt, hints) if probe else route(ctx, conversation, prompt, hints)


def _state(decision: decision_pb2.Decision | outcome_pb2.OutcomeEffects, quota_id: str) -> decision_pb2.QuotaState:
    state = next((s for s in decision.quota_states if s.quota_id == quota_id), None)
    if state is None:
        raise NotObservable(f"no quota state for {quota_id} in {type(decision).__name__}")
    return state


def _codes(decision: decision_pb2.Decision) -> list[str]:
    """fx-subscription's exclusion codes, by name."""
    names = decision_pb2.ExclusionCode.Name
    return [names(e.code) for c in decision.candidates if c.endpoint_id == ENDPOINT for e in c.exclusions]


def _report(
    decision_id: str, key: str, windows: list[tuple[catalog_pb2.UsageWindow.ValueType, float, float]]
) -> outcome_pb2.Outcome:
    """A served outcome on fx-subscription carrying ``(window, share, reset at)`` reports."""
    sent = outcome(decision_id, ENDPOINT, key, used=usage(800, 0, 0, 100))
    for window, share, reset_at in windows:
        item = sent.usage_windows.add(window=window, used_share=share)
        item.resets_at.FromMilliseconds(round(reset_at * 1000))
    return sent


def _subscription_decision(ctx: CheckContext) -> decision_pb2.Decision:
    """A recorded decision that chose fx-subscription, waiting out a stop left by an earlier run."""
    give_up = time.monotonic() + RESET_S + 2
    while True:
        decision = _route(ctx)
        if decision.chosen_endpoint_id == ENDPOINT:
            return decision
        if time.monotonic() > give_up:
            raise NotObservable(f"{ROLE} keeps choosing {decision.chosen_endpoint_id}, not {ENDPOINT}")
        time.sleep(0.5)


@check("quota", "Reported usage windows: malformed reports are refused", ("RM-OUT-012",))
def malformed_reports(ctx: CheckContext) -> None:
    decision = _subscription_decision(ctx)
    later = time.time() + 60
    cases = [
        ("outcome.usage_windows[0].window", [(catalog_pb2.USAGE_WINDOW_UNSPECIFIED, 0.1, later)]),
        ("outcome.usage_windows[1].window", [(catalog_pb2.USAGE_WINDOW_SHORT, 0.1, later)] * 2),
        ("outcome.usage_windows[0].used_share", [(catalog_pb2.USAGE_WINDOW_SHORT, float("nan"), later)]),
        ("outcome.usage_windows[0].used_share", [(catalog_pb2.USAGE_WINDOW_LONG, -0.1, later)]),
    ]
    for path, windows in cases:
        try:
            ctx.probe.report(_report(decision.decision_id, ctx.ids.key("bad-window"), windows))
        except RouterRefusal as refusal:
            ctx.expect(
                "RM-OUT-012",
                refusal.code == grpc.StatusCode.INVALID_ARGUMENT and names_field(refusal, path),
                f"a report with a bad {path} is a field violation at that path: got {refusal.code.name} "
                f"{[v.field for v in refusal.violations]}",
            )
            continue
        ctx.failed("RM-OUT-012", f"a report with a bad {path} was accepted")
        return
    missing_reset = _report(decision.decision_id, ctx.ids.key("no-reset"), [])
    missing_reset.usage_windows.add(window=catalog_pb2.USAGE_WINDOW_SHORT, used_share=0.1)
    try:
        ctx.probe.report(missing_reset)
    except RouterRefusal as refusal:
        ctx.expect(
            "RM-OUT-012",
            names_field(refusal, "outcome.usage_windows[0].resets_at"),
            f"a report without a reset time is a field violation: {[v.field for v in refusal.violations]}",
        )
    else:
        ctx.failed("RM-OUT-012", "a report without a reset time was accepted")


@check(
    "quota",
    "Reported usage windows: the shares a client reports, the hard stop at the target, the paced target share",
    ("RM-QUOTA-010", "RM-QUOTA-011", "RM-QUOTA-012", "RM-SHARE-003"),
)
def reported_windows(ctx: CheckContext) -> None:
    decision = _subscription_decision(ctx)
    reset_at = time.time() + RESET_S
    sent = [(catalog_pb2.USAGE_WINDOW_SHORT, 0.30, reset_at), (catalog_pb2.USAGE_WINDOW_LONG, 0.20, reset_at)]
    effects = ctx.probe.report(_report(decision.decision_id, ctx.ids.key("windows"), sent)).effects
    for quota_id, share in ((SHORT, 0.30), (LONG, 0.20)):
        got = _state(effects, quota_id).usage_pace.reported_share
        ctx.expect(
            "RM-QUOTA-010",
            abs(got - share) < TOLERANCE,
            f"{quota_id} records the reported share {share}: the outcome's effects say {got}",
        )
    shown = _route(ctx, probe=True)
    short = _state(shown, SHORT)
    ctx.expect(
        "RM-QUOTA-012",
        abs(short.usage_pace.reported_share - 0.30) < TOLERANCE
        and abs(short.resets_at.ToMilliseconds() / 1000 - reset_at) < 1
        and 0 < short.usage_pace.share_per_request <= 1
        and short.usage_pace.estimated_share >= short.usage_pace.reported_share,
        f"the next decision shows {SHORT}'s pacing and reset: {short.usage_pace}, resets at "
        f"{short.resets_at.ToMilliseconds() / 1000:.0f} (sent {reset_at:.0f})",
    )

    full = _subscription_decision(ctx)
    stop = [(catalog_pb2.USAGE_WINDOW_SHORT, 0.97, reset_at)]
    ctx.probe.report(_report(full.decision_id, ctx.ids.key("full"), stop))
    # An isolated side request (the probe without dry runs) has no share controller to show; a real route in
    # a fresh conversation changes nothing this check looks at afterwards.
    stopped = _route(ctx, probe=ctx.claims("ROUTER_CAPABILITY_DRY_RUN"))
    ctx.expect(
        "RM-QUOTA-011",
        EXHAUSTED in _codes(stopped) and stopped.chosen_endpoint_id != ENDPOINT,
        f"at 97% of a window whose target is 95% {ENDPOINT} is excluded with QUOTA_EXHAUSTED: codes "
        f"{_codes(stopped)}, chosen {stopped.chosen_endpoint_id}",
    )
    ctx.expect(
        "RM-SHARE-003",
        stopped.policy.HasField("share_controller") and stopped.policy.share_controller.target_share == 0,
        f"the paced target share is 0 while a window is at its target: {stopped.policy.share_controller}",
    )
    time.sleep(max(0.0, reset_at - time.time()) + 0.3)
    after = _route(ctx, probe=True)
    ctx.expect(
        "RM-QUOTA-011",
        EXHAUSTED not in _codes(after),
        f"after the reported reset {ENDPOINT} is no longer excluded: codes {_codes(after)}",
    )


@check("execute", "Execute reads a subscription's usage windows from the answer's headers", ("RM-QUOTA-010",))
def windows_from_headers(ctx: CheckContext) -> None:
    if not ctx.claims("ROUTER_CAPABILITY_EXECUTE"):
        return
    backends = ctx.backends()
    plan = {"family": "codex", "short_capacity": 1e9, "long_capacity": 1e10, "short_used": 0.41, "long_used": 0.17}
    backends.set_up({ENDPOINT: {"subscription": plan}})
    backends.script({ENDPOINT: [reply("An answer on the subscription.")]})
    account = ctx.canary().replace(" ", "-")
    credential = {"authorization": f"Bearer sub-{account}", "x-conformance-account": account}
    stream = execute(ctx, request(ctx, ROLE, messages(ctx, "Plan it."), pinned=ENDPOINT), credential=credential)
    if stream.completed is None:
        raise NotObservable(f"the subscription did not answer: {stream.ending()}")
    shown = _route(ctx, probe=True)
    for quota_id, share in ((SHORT, 0.41), (LONG, 0.17)):
        got = _state(shown, quota_id).usage_pace.reported_share
        ctx.expect(
            "RM-QUOTA-010",
            abs(got - share) < TOLERANCE,
            f"the backend reported {share:.0%} of {quota_id}'s window in x-codex-* headers: the router shows {got}",
        )
