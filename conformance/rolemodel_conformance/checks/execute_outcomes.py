"""What Execute records (spec 10.1, 10.2): a client's verdict on an executed answer, and calls the client abandons.

The outcome an executed call was recorded with is not on the wire, so the
checks read it from what it changes: the escalation level of a role that
escalates on exactly one class, the cache entry and observed profile of the
served endpoint, and the answer ReportOutcome gives to a further outcome.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence

import grpc

from rolemodel.v1 import common_pb2, conversation_pb2, decision_pb2, hints_pb2
from rolemodel.v1.router_service_pb2 import ReportOutcomeResponse
from rolemodel_conformance.builders import ContentPrompt, outcome, route_request, usage, user
from rolemodel_conformance.checks import check
from rolemodel_conformance.checks.execute_support import (
    Stream,
    execute,
    fault,
    messages,
    reply,
    request,
    settle,
)
from rolemodel_conformance.checks.health import status
from rolemodel_conformance.checks.helpers import expect_refusal
from rolemodel_conformance.context import CheckContext, NotObservable
from rolemodel_conformance.expectations import candidate, reason

C = conversation_pb2
SERVED = "fx-deepseek"
HANGING = "fx-local"
#: How long a router may take to cancel the backend call and record the outcome, in seconds.
NOTICE_S = 3.0
DEADLINE_S = 1.0
DEADLINE_REASON = "STREAM_DEADLINE_EXCEEDED"
SLOW_ANSWER = {"text": "One. Two. Three. Four. Five. Six.", "chunk_chars": 5}


def _next_decision(ctx: CheckContext, role: str, conversation: str, sent: Sequence[C.Message]) -> decision_pb2.Decision:
    """The decision the conversation's next turn would get: a dry run when claimed."""
    dry = ctx.claims("ROUTER_CAPABILITY_DRY_RUN")
    next_turn = ContentPrompt((*sent, user("Once more."))).ref(conversation, 1)
    return ctx.probe.route(route_request(next_turn, hints_pb2.RoutingHints(role=role), dry_run=dry))


def _cache(decision: decision_pb2.Decision, endpoint_id: str) -> str:
    c = candidate(decision, endpoint_id)
    if c is None or not c.HasField("cache"):
        return "no entry"
    source = decision_pb2.CacheStateSource.Name(c.cache.source)
    return f"{c.cache.held_tokens} tokens until {c.cache.expires_at.ToMilliseconds()} ms ({source})"


def _escalation(decision: decision_pb2.Decision) -> tuple[int, str]:
    escalated = reason(decision, "ESCALATED")
    return decision.policy.escalation_level, escalated.attributes.get("triggering_decision_id", "") if escalated else ""


@check(
    "execute",
    "A client's verdict on an executed answer escalates, and changes neither cache nor health",
    ("RM-EXEC-005",),
)
def verdict(ctx: CheckContext) -> None:
    role, conversation = "chore", ctx.ids.conversation("verdict")
    ctx.backends().script({SERVED: [reply("Here is the patch.")]})
    sent = messages(ctx, "Fix the failing test.")
    stream = execute(ctx, request(ctx, role, sent, conversation_id=conversation, pinned=SERVED))
    done = stream.completed
    if done is None:
        raise NotObservable(f"the executed answer did not complete: {stream.ending()}")
    answered = (*sent, done.message)
    before, health_before = _next_decision(ctx, role, conversation, answered), status(ctx, SERVED)

    def report(outcome_class: common_pb2.OutcomeClass.ValueType) -> ReportOutcomeResponse:
        tiny = usage(7, 3)  # a verdict's usage must not replace what Execute recorded
        return ctx.probe.report(
            outcome(done.decision_id, SERVED, ctx.ids.key("verdict"), outcome_class=outcome_class, used=tiny)
        )

    already = (grpc.StatusCode.ALREADY_EXISTS, "OUTCOME_ALREADY_REPORTED")
    success = common_pb2.OUTCOME_CLASS_SUCCESS
    expect_refusal(ctx, "RM-EXEC-005", "a further SUCCESS", lambda: report(success), *already)
    effects = report(common_pb2.OUTCOME_CLASS_TASK_FAILED).effects
    after, health_after = _next_decision(ctx, role, conversation, answered), status(ctx, SERVED)
    if ctx.claims("ROUTER_CAPABILITY_ESCALATION"):
        got = _escalation(after)
        ctx.expect(
            "RM-EXEC-005",
            got == (1, done.decision_id) and effects.escalation_level == 1,
            f"a TASK_FAILED verdict raises chore's level as a reported TASK_FAILED would: (level, trigger) "
            f"expected {(1, done.decision_id)}, got {got}",
        )
    ctx.expect(
        "RM-EXEC-005",
        _cache(after, SERVED) == _cache(before, SERVED),
        f"the verdict leaves {SERVED}'s cache entry as Execute recorded it: {_cache(before, SERVED)} before, "
        f"{_cache(after, SERVED)} after",
    )
    counted = (health_before.outcomes, health_before.failure_rate) == (health_after.outcomes, health_after.failure_rate)
    ctx.expect(
        "RM-EXEC-005",
        counted,
        f"the verdict does not count in {SERVED}'s observed profile: outcomes {health_before.outcomes} -> "
        f"{health_after.outcomes}, failure rate {health_before.failure_rate:.4f} -> {health_after.failure_rate:.4f}",
    )
    rejected = common_pb2.OUTCOME_CLASS_QUALITY_REJECTED
    expect_refusal(ctx, "RM-EXEC-005", "a second verdict", lambda: report(rejected), *already)


def _wait_for(condition: Callable[[], bool]) -> bool:
    deadline = time.monotonic() + NOTICE_S
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True


def _abandon(ctx: CheckContext, role: str, how: str) -> tuple[str, list[C.Message], Stream]:
    """A call that hangs after its first token, then cancelled or timed out: conversation, messages, stream."""
    conversation = ctx.ids.conversation("abandoned")
    ctx.backends().script({HANGING: [fault("hang", after_deltas=1, reply=SLOW_ANSWER)]})
    sent = list(messages(ctx, "Count slowly."))
    call = request(ctx, role, sent, conversation_id=conversation)
    if how == "cancel":
        events, cancelled, refusal = ctx.probe.execute_then_cancel(call, lambda e: e.HasField("delta"))
        stream = Stream(events, refusal, 0.0)
        if not cancelled:
            raise NotObservable(f"the stream ended before its first token: {stream.ending()}")
    else:
        stream = execute(ctx, call, timeout_s=DEADLINE_S)
        if stream.refusal is None or stream.refusal.code != grpc.StatusCode.DEADLINE_EXCEEDED:
            raise NotObservable(f"the call did not run into its {DEADLINE_S:g} s deadline: {stream.ending()}")
    decision = stream.decision
    if decision is None or decision.chosen_endpoint_id != HANGING or not stream.deltas:
        raise NotObservable(f"{role} did not stream from {HANGING} before the {how}: {stream.ending()}")
    return conversation, sent, stream


def _router_ended(ctx: CheckContext, stream: Stream) -> None:
    """RM-EXEC-018: the deadline's end is the router's failed event and status (so RM-ERR-001 binds it), not the
    client library's own DEADLINE_EXCEEDED, which carries no ErrorInfo and which the error audit leaves out."""
    last = stream.events[-1] if stream.events else None
    failed = last.failed if last is not None and last.HasField("failed") else None
    ctx.expect(
        "RM-EXEC-018",
        failed is not None
        and (failed.reason, failed.outcome_class, failed.after_first_token, failed.served_endpoint_id)
        == (DEADLINE_REASON, common_pb2.OUTCOME_CLASS_TIMEOUT, True, HANGING),
        f"a stream from {HANGING} that runs into its {DEADLINE_S:g} s deadline after its first token ends with a "
        f"failed event ({DEADLINE_REASON}, OUTCOME_CLASS_TIMEOUT, after the first token, served by {HANGING}): "
        f"got {stream.ending()}",
    )
    refusal = stream.refusal
    ctx.expect(
        "RM-EXEC-018",
        refusal is not None
        and (refusal.code, refusal.reason) == (grpc.StatusCode.DEADLINE_EXCEEDED, DEADLINE_REASON)
        and refusal.info is not None,
        f"the status that ends it is the router's, with the ErrorInfo of {DEADLINE_REASON}, not the client library's "
        f"own DEADLINE_EXCEEDED without details: got {refusal}",
    )


def _judge_abandoned(ctx: CheckContext, role: str, how: str, recorded: str) -> None:
    conversation, sent, stream = _abandon(ctx, role, how)
    decision_id = stream.decision.decision_id if stream.decision is not None else ""
    if how == "deadline":
        _router_ended(ctx, stream)
    backends = ctx.backends(reset=False)
    gave_up = _wait_for(lambda: any(r.get("abandoned") for r in backends.received(HANGING)))
    ctx.expect(
        "RM-EXEC-013",
        gave_up,
        f"after the client's {how}, {HANGING}'s backend sees the router give up its call within {NOTICE_S:g} s",
    )
    if not ctx.claims("ROUTER_CAPABILITY_ESCALATION"):
        return  # the recorded class shows only in the escalation its role's ladder follows
    seen: list[tuple[int, str]] = []

    def escalated() -> bool:
        seen.append(_escalation(_next_decision(ctx, role, conversation, sent)))
        return seen[-1] == (1, decision_id)

    ctx.expect(
        "RM-EXEC-013",
        _wait_for(escalated),
        f"{role} escalates only on {recorded}: after the {how}, the next decision has (level, trigger) "
        f"{seen[-1] if seen else None}, expected {(1, decision_id)}",
    )


def _broken_within_deadline(ctx: CheckContext) -> None:
    """RM-EXEC-018's other side: a stream that breaks well before its deadline keeps its own reason."""
    ctx.backends().script({HANGING: [fault("cut", after_deltas=1, reply=SLOW_ANSWER)]})
    call = request(ctx, "x-conformance.timeout", list(messages(ctx, "Count quickly.")))
    stream = execute(ctx, call, timeout_s=DEADLINE_S * 10)
    reasons = [e.failed.reason for e in stream.events if e.HasField("failed")]
    ctx.expect(
        "RM-EXEC-018",
        reasons == ["BACKEND_STREAM_INTERRUPTED"],
        f"a stream cut after its first token, {DEADLINE_S * 10:g} s before its deadline, ends with "
        f"BACKEND_STREAM_INTERRUPTED, not {DEADLINE_REASON}: got {stream.ending()}",
    )


@check(
    "execute",
    "A cancelled call and a call past its deadline cancel the backend call and are recorded as such; "
    "the router, not the client's library, ends a stream at its deadline",
    ("RM-EXEC-013", "RM-EXEC-018"),
)
def abandoned(ctx: CheckContext) -> None:
    _judge_abandoned(ctx, "x-conformance.cancelled", "cancel", "OUTCOME_CLASS_CANCELLED")
    _judge_abandoned(ctx, "x-conformance.timeout", "deadline", "OUTCOME_CLASS_TIMEOUT")
    _broken_within_deadline(ctx)
    settle(ctx, {HANGING: "x-conformance.execute"})
