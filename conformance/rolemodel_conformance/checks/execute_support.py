"""What the Execute checks share: scripted steps, one Execute call read to its end, the planned decision.

A check scripts the fixture endpoints' models (``ctx.backends()``, reset for
each check), calls Execute, and judges the stream, the status it ended with,
and what each backend received. Two rules keep the checks independent:

* A check that needs the order of attempts learns it first, from the same
  request in a fresh conversation (a dry run when the router claims it), and
  gives up as NOT_TESTABLE if the Execute call then decided otherwise.
* A check that made an endpoint fail ends with one successful call to it
  (``settle``), so that no endpoint drifts towards a cooldown (RM-OUT-021)
  across checks or repeated runs.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import grpc

from rolemodel.v1 import conversation_pb2, decision_pb2, hints_pb2, router_service_pb2
from rolemodel_conformance.backends import API_KEY, API_KEY_ENV, ScriptedBackends
from rolemodel_conformance.builders import ContentPrompt, avoid, pin, route_request, system, user
from rolemodel_conformance.context import CheckContext, NotObservable
from rolemodel_conformance.probe import RouterRefusal

E = router_service_pb2
Step = dict[str, Any]
#: Long enough that an automatic cache of 64-token granularity holds part of it.
LONG_SYSTEM = "You answer in short sentences and never invent facts. " * 40


def reply(words: str, **more: Any) -> Step:
    return {"text": words, **more}


def fault(kind: str, **more: Any) -> Step:
    return {"fault": kind, **more}


def messages(ctx: CheckContext, question: str) -> tuple[conversation_pb2.Message, ...]:
    return (system(LONG_SYSTEM), user(f"{question} {ctx.canary()}"))


def request(
    ctx: CheckContext,
    role: str,
    sent: Sequence[conversation_pb2.Message],
    *,
    conversation_id: str | None = None,
    turn: int = 0,
    pinned: str = "",
    avoided: Iterable[str] = (),
    budget_picos: int = 0,
) -> E.ExecuteRequest:
    hints = hints_pb2.RoutingHints(role=role)
    if pinned:
        hints.endpoint_choice.CopyFrom(pin(pinned))
    elif avoided:
        hints.endpoint_choice.CopyFrom(avoid(*avoided))
    if budget_picos:
        hints.limits.max_cost_picos = budget_picos
    conversation = ContentPrompt(tuple(sent)).ref(conversation_id or ctx.ids.conversation("execute"), turn)
    return E.ExecuteRequest(conversation=conversation, hints=hints)


@dataclass
class Stream:
    """One Execute call as the client saw it."""

    events: list[E.ExecuteResponse]
    refusal: RouterRefusal | None
    duration_s: float
    kinds: list[str] = field(init=False)

    def __post_init__(self) -> None:
        self.kinds = [str(e.WhichOneof("event")) for e in self.events]

    @property
    def decision(self) -> decision_pb2.Decision | None:
        return self.events[0].started.decision if self.kinds[:1] == ["started"] else None

    @property
    def attempts(self) -> list[E.AttemptFailed]:
        return [e.attempt_failed for e in self.events if e.HasField("attempt_failed")]

    @property
    def announced(self) -> list[str]:
        """The endpoints of the ``attempt_started`` events, in order."""
        return [e.attempt_started.endpoint_id for e in self.events if e.HasField("attempt_started")]

    def announcement_problems(self) -> list[str]:
        """How the stream breaks RM-EXEC-008's order, in words; empty when each event sits in its attempt.

        Every delta and ``attempt_failed`` must follow the ``attempt_started`` of its attempt, numbers
        count from 1, an attempt ends by failing or by serving, and the last event names the endpoint
        of the latest ``attempt_started`` (or none when nothing was attempted).
        """
        problems: list[str] = []
        current: E.AttemptStarted | None = None  # the attempt under way
        latest = ""
        number = 0
        for event in self.events[1:]:
            kind = event.WhichOneof("event")
            if kind == "attempt_started":
                started = event.attempt_started
                number += 1
                if current is not None:
                    problems.append(f"attempt {_named(current)} neither failed nor served")
                if started.attempt != number:
                    problems.append(f"attempt {_named(started)} is not numbered in order from 1")
                current, latest = started, started.endpoint_id
            elif kind == "delta" and current is None:
                problems.append("a delta with no attempt_started before it")
            elif kind == "attempt_failed":
                failed = event.attempt_failed
                if current is None or (failed.attempt, failed.endpoint_id) != (current.attempt, current.endpoint_id):
                    under_way = _named(current) if current is not None else "none"
                    problems.append(f"attempt_failed {_named(failed)} while the attempt under way is {under_way}")
                current = None
            elif kind in ("completed", "failed"):
                ending = event.completed if kind == "completed" else event.failed
                if ending.served_endpoint_id != latest:
                    problems.append(
                        f"{kind} names '{ending.served_endpoint_id}', the latest attempt_started '{latest}'"
                    )
        return problems

    @property
    def deltas(self) -> list[E.ContentDelta]:
        return [e.delta for e in self.events if e.HasField("delta")]

    @property
    def text(self) -> str:
        return "".join(d.text for d in self.deltas)

    @property
    def completed(self) -> E.ExecuteCompleted | None:
        return next((e.completed for e in self.events if e.HasField("completed")), None)

    @property
    def failed(self) -> E.ExecuteFailed | None:
        return next((e.failed for e in self.events if e.HasField("failed")), None)

    def well_formed(self) -> bool:
        """RM-EXEC-001: started first, then exactly one completed or failed, and it is the last event."""
        endings = [k for k in self.kinds if k in ("completed", "failed")]
        return self.kinds[:1] == ["started"] and len(endings) == 1 and self.kinds[-1] == endings[0]

    def ended_with(self, reason: str, code: grpc.StatusCode) -> bool:
        """A failed event with ``reason`` and a final status ``code`` with the same reason."""
        failed = self.failed
        refusal = self.refusal
        return (
            failed is not None
            and failed.reason == reason
            and refusal is not None
            and refusal.code == code
            and refusal.reason == reason
        )

    def ending(self) -> str:
        """How the stream ended, for messages."""
        status = (
            f"status {self.refusal.code.name}/{self.refusal.reason or 'no reason'}" if self.refusal else "status OK"
        )
        if self.failed is not None:
            return f"failed {self.failed.reason} ({self.failed.detail[:160]}), {status}"
        if self.completed is not None:
            return f"completed by '{self.completed.served_endpoint_id}', {status}"
        return f"events {self.kinds}, {status}"


def _named(attempt: E.AttemptStarted | E.AttemptFailed) -> str:
    return f"{attempt.attempt} on '{attempt.endpoint_id}'"


def execute(
    ctx: CheckContext, call: E.ExecuteRequest, *, timeout_s: float = 10.0, credential: Mapping[str, str] | None = None
) -> Stream:
    started = time.monotonic()
    events, refusal = ctx.probe.execute(call, timeout_s=timeout_s, credential=credential)
    stream = Stream(events, refusal, time.monotonic() - started)
    problem = missing_key_problem(ctx, stream)
    if problem is not None and problem not in ctx.run.setup_problems:
        ctx.run.setup_problems.append(problem)
    return stream


def missing_key_problem(ctx: CheckContext, stream: Stream) -> str | None:
    """The fix, when Execute skipped an endpoint of the test key because the router was started without it.

    The profile gives the router ``ROLEMODEL_CONFORMANCE_API_KEY``; without it the router rightly excludes
    the fixture's Anthropic endpoints (NOT_CONFIGURED), and every check that scripts a fallback to them
    cannot observe what it wants. Said once, at the top of the summary, instead of in each check's line.
    """
    decision = stream.decision or (stream.refusal.decision if stream.refusal is not None else None)
    if decision is None:
        return None
    skipped = sorted(
        c.endpoint_id
        for c in decision.candidates
        if any(e.code == decision_pb2.EXCLUSION_CODE_NOT_CONFIGURED for e in c.exclusions)
        and c.endpoint_id in ctx.fixture.endpoints
        and ctx.fixture.endpoints[c.endpoint_id].connection.api_key_env == API_KEY_ENV
    )
    if not skipped:
        return None
    return (
        f"the router was started without {API_KEY_ENV}, so Execute skips {', '.join(skipped)} (NOT_CONFIGURED) and "
        f"the checks that fall back to them cannot run: start it with {API_KEY_ENV}={API_KEY} "
        "(a test value; see docs/conformance.md)"
    )


def plan(ctx: CheckContext, call: E.ExecuteRequest) -> decision_pb2.Decision:
    """The decision the same request gets in a fresh conversation: the order the attempts will follow."""
    conversation = conversation_pb2.ConversationRef()
    conversation.CopyFrom(call.conversation)
    conversation.conversation_id = ctx.ids.conversation("plan")
    dry = ctx.claims("ROUTER_CAPABILITY_DRY_RUN")
    return ctx.probe.route(route_request(conversation, call.hints, dry_run=dry))


def order(decision: decision_pb2.Decision) -> list[str]:
    return [decision.chosen_endpoint_id, *decision.fallback_endpoint_ids]


def expect_order(planned: decision_pb2.Decision, wanted: Sequence[str]) -> None:
    """NotObservable unless the attempts start with ``wanted`` (the fixture's order for the check's role)."""
    got = order(planned)
    if got[: len(wanted)] != list(wanted):
        missing = [endpoint for endpoint in wanted if endpoint not in got]
        why = "; ".join(_why_not(planned, endpoint) for endpoint in missing) or f"the order is {got}"
        raise NotObservable(
            f"the check needs the attempts to start with {', '.join(wanted)}, but the router would skip {why}"
        )


def _why_not(planned: decision_pb2.Decision, endpoint_id: str) -> str:
    """``endpoint_id`` and the exclusions the planned decision gives it, in words."""
    for candidate in planned.candidates:
        if candidate.endpoint_id == endpoint_id and candidate.exclusions:
            reasons = ", ".join(
                e.detail or decision_pb2.ExclusionCode.Name(e.code).removeprefix("EXCLUSION_CODE_").lower()
                for e in candidate.exclusions
            )
            return f"{endpoint_id} ({reasons})"
    return f"{endpoint_id} (ranked below the others)"


def same_plan(stream: Stream, planned: decision_pb2.Decision) -> None:
    """NotObservable when Execute decided differently from the plan the check scripted for."""
    decision = stream.decision
    if decision is None:
        raise NotObservable(f"the Execute stream did not start with a decision: {stream.ending()}")
    if order(decision) != order(planned):
        raise NotObservable(f"Execute chose {order(decision)}, the planning route {order(planned)}")


def requests_to(backends: ScriptedBackends, *endpoint_ids: str) -> dict[str, int]:
    """How many requests each endpoint's model received since the check began."""
    return {e: len(backends.received(e)) for e in endpoint_ids}


def settle(ctx: CheckContext, failed: Mapping[str, str]) -> None:
    """One successful call to each endpoint (endpoint id → role) this check made fail; best effort, never judged."""
    backends = ctx.backends(reset=False)
    for endpoint_id, role in failed.items():
        backends.script({endpoint_id: [reply("Settled.")]})
        try:
            execute(ctx, request(ctx, role, messages(ctx, "Settle."), pinned=endpoint_id))
        except RouterRefusal:
            continue


def describe_received(recorded: Sequence[Mapping[str, Any]]) -> str:
    """The backend's summary of what an endpoint received, for messages."""
    return ", ".join(f"{r.get('status')} {r.get('outcome')}" for r in recorded) or "no request"
