"""Execute's failures (spec 10.2): fallbacks before the first token, none after it, rejections, budgets, waits,
and the ``attempt_started`` events that say which endpoint each attempt calls (spec 10.1).

All use the role x-conformance.execute, whose attempts follow a fixed order
(fx-short-ttl, then fx-local with a smaller context window, then fx-deepseek
with a larger one), so each check scripts what every attempt meets and then
reads from the backends which endpoints were called, and how often.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Sequence
from typing import Any

import grpc

from rolemodel.v1 import router_service_pb2
from rolemodel_conformance.checks import check
from rolemodel_conformance.checks.execute_support import (
    Stream,
    execute,
    expect_order,
    fault,
    messages,
    plan,
    reply,
    request,
    requests_to,
    same_plan,
    settle,
)
from rolemodel_conformance.checks.health import status
from rolemodel_conformance.context import CheckContext, NotObservable
from rolemodel_conformance.expectations import candidate

ROLE = "x-conformance.execute"
FIRST, SMALL, LARGE = "fx-short-ttl", "fx-local", "fx-deepseek"
ORDER = (FIRST, SMALL, LARGE)
EVERY = {FIRST: ROLE, SMALL: ROLE, LARGE: ROLE}
#: The longest cooldown a check waits out before it goes on (a 429 without Retry-After sets a short one).
MAX_COOLDOWN_WAIT_S = 5.0
#: A router may bound its attempts, but one failure must lead to at least one more attempt (RM-EXEC-010).
MIN_TRIED = 2
RETRY_AFTER_S = 1.0
#: How far the cooldown shown in the card may be from the Retry-After the backend sent, in seconds.
COOLDOWN_TOLERANCE_S = 0.5
LONG_ANSWER = {"text": "This answer is long enough to be cut after its first pieces.", "chunk_chars": 8}
Steps = dict[str, list[dict[str, Any]]]


def _call(ctx: CheckContext, question: str, avoided: Sequence[str] = ()) -> router_service_pb2.ExecuteRequest:
    return request(ctx, ROLE, messages(ctx, question), avoided=avoided)


def _run(ctx: CheckContext, call: router_service_pb2.ExecuteRequest, steps: Steps) -> tuple[Stream, dict[str, int]]:
    """One scripted scenario, after confirming the attempts' order: the stream, and the requests per endpoint."""
    backends = ctx.backends()
    planned = plan(ctx, call)
    avoided = set(call.hints.endpoint_choice.avoid_endpoint_ids)
    expect_order(planned, [e for e in ORDER if e not in avoided])
    backends.script(steps)
    stream = execute(ctx, call)
    same_plan(stream, planned)
    return stream, requests_to(backends, *ORDER)


@check(
    "execute",
    "Failures before the first token fall back in order; when every attempt fails, one failed event",
    ("RM-EXEC-001", "RM-EXEC-010", "RM-EXEC-012"),
)
def fallbacks(ctx: CheckContext) -> None:
    steps: Steps = {FIRST: [fault("server_error", status=503)], SMALL: [reply("Hello from the fallback.")]}
    stream, calls = _run(ctx, _call(ctx, "Say hello."), steps)
    ctx.expect("RM-EXEC-001", stream.well_formed(), f"a fallback that answers: {stream.kinds}")
    tried = [a.endpoint_id for a in stream.attempts]
    served = stream.completed.served_endpoint_id if stream.completed else None
    ctx.expect(
        "RM-EXEC-010",
        tried == [FIRST] and served == SMALL and stream.text == "Hello from the fallback." and calls[LARGE] == 0,
        f"{FIRST} answers 503, {SMALL} answers: attempt_failed for {tried}, {stream.ending()}, requests {calls}",
    )
    steps = {
        FIRST: [fault("server_error", status=500)],
        SMALL: [fault("rate_limited", retry_after=0)],
        LARGE: [fault("server_error", status=502)],
    }
    stream, calls = _run(ctx, _call(ctx, "Say hello again."), steps)
    ctx.expect("RM-EXEC-001", stream.well_formed(), f"every attempt fails: {stream.kinds}")
    tried = [a.endpoint_id for a in stream.attempts]
    called = [e for e in ORDER if calls[e]]
    ctx.expect(
        "RM-EXEC-010",
        len(tried) >= MIN_TRIED and tried == called[: len(tried)] and all(calls[e] <= 1 for e in ORDER),
        f"500, 429 and 502 in turn: attempt_failed for {tried}, in order and each endpoint at most once: {calls}",
    )
    ctx.expect(
        "RM-EXEC-012",
        stream.ended_with("BACKEND_UNAVAILABLE", grpc.StatusCode.UNAVAILABLE),
        f"every attempt failed before its first token: expected failed BACKEND_UNAVAILABLE and the status "
        f"UNAVAILABLE/BACKEND_UNAVAILABLE, got {stream.ending()}",
    )
    settle(ctx, EVERY)


@check(
    "execute",
    "Each attempt is announced with the endpoint it calls, and only attempts are",
    ("RM-EXEC-007", "RM-EXEC-008"),
)
def announced_attempts(ctx: CheckContext) -> None:
    scenarios: tuple[tuple[str, Steps], ...] = (
        (
            f"{FIRST} answers 503, {SMALL} answers",
            {FIRST: [fault("server_error", status=503)], SMALL: [reply("Hello from the fallback.")]},
        ),
        (
            f"{FIRST} overflows its context window, then the fallbacks answer",
            {FIRST: [fault("context_overflow")], SMALL: [reply("A small window.")], LARGE: [reply("A large one.")]},
        ),
        (
            "every attempt fails",
            {
                FIRST: [fault("server_error", status=500)],
                SMALL: [fault("rate_limited", retry_after=0)],
                LARGE: [fault("server_error", status=502)],
            },
        ),
    )
    sends_them = False
    for what, steps in scenarios:
        stream, calls = _run(ctx, _call(ctx, "Say hello."), steps)
        # one success after each scenario, so that three failures in a row never cool an endpoint down
        settle(ctx, {e: ROLE for e, scripted in steps.items() if calls[e] and "fault" in scripted[0]})
        announced = stream.announced
        seen = f"{what}: attempt_started for {announced}, requests {calls}, {stream.ending()}"
        ctx.expect("RM-EXEC-007", bool(announced), seen)
        if not announced:
            continue
        sends_them = True
        problems = stream.announcement_problems()
        if Counter(announced) != Counter({e: n for e, n in calls.items() if n}):
            problems.append("the endpoints announced are not the endpoints called")
        ctx.expect("RM-EXEC-008", not problems, f"{seen}: {'; '.join(problems) or 'each event in its attempt'}")
    if not sends_them:
        ctx.passed(
            "RM-EXEC-008",
            "the router sends no attempt_started events, so none names an endpoint it did not attempt "
            "(RM-EXEC-008 binds a router that sends them)",
        )


@check("execute", "A failure after the first token ends the stream and is not retried", ("RM-EXEC-011",))
def interrupted(ctx: CheckContext) -> None:
    for broken in (fault("cut", after_deltas=2, reply=LONG_ANSWER), fault("stream_error", after_deltas=1, status=529)):
        steps = {FIRST: [broken], SMALL: [reply("A second answer.")], LARGE: [reply("A third answer.")]}
        stream, calls = _run(ctx, _call(ctx, "Tell me a story."), steps)
        first_delta = stream.kinds.index("delta") if "delta" in stream.kinds else len(stream.kinds)
        late = [k for k in stream.kinds[first_delta:] if k == "attempt_failed"]
        failed = stream.failed
        ctx.expect(
            "RM-EXEC-011",
            bool(stream.deltas)
            and stream.ended_with("BACKEND_STREAM_INTERRUPTED", grpc.StatusCode.UNAVAILABLE)
            and failed is not None
            and failed.after_first_token
            and not late
            and calls[SMALL] == calls[LARGE] == 0,
            f"{broken['fault']} after the first deltas: expected failed BACKEND_STREAM_INTERRUPTED after_first_token, "
            f"the status UNAVAILABLE/BACKEND_STREAM_INTERRUPTED and no other attempt: {len(stream.deltas)} deltas, "
            f"{stream.ending()}, requests {calls}",
        )
    settle(ctx, {FIRST: ROLE})


@check("execute", "A request the endpoint rejects ends the stream without a fallback", ("RM-EXEC-015",))
def rejected(ctx: CheckContext) -> None:
    for code in (400, 422):
        steps = {FIRST: [fault("rejected", status=code)], SMALL: [reply("Fallback.")], LARGE: [reply("Fallback.")]}
        stream, calls = _run(ctx, _call(ctx, "Answer this."), steps)
        ctx.expect(
            "RM-EXEC-015",
            stream.ended_with("BACKEND_REJECTED", grpc.StatusCode.INVALID_ARGUMENT)
            and calls[SMALL] == calls[LARGE] == 0,
            f"{FIRST} answers {code}: expected failed BACKEND_REJECTED, the status INVALID_ARGUMENT/BACKEND_REJECTED "
            f"and no fallback: {stream.ending()}, requests {calls}",
        )
    settle(ctx, {FIRST: ROLE})


@check("execute", "After a context overflow only fallbacks with a larger window are tried", ("RM-EXEC-016",))
def overflow(ctx: CheckContext) -> None:
    windows = {e: ctx.fixture.endpoints[e].context_window_tokens for e in ORDER}
    steps = {FIRST: [fault("context_overflow")], SMALL: [reply("Too small a window.")], LARGE: [reply("Large enough.")]}
    stream, calls = _run(ctx, _call(ctx, "Summarise everything."), steps)
    ctx.expect(
        "RM-EXEC-016",
        calls[SMALL] == 0,
        f"{FIRST} ({windows[FIRST]} tokens) overflows: {SMALL} ({windows[SMALL]}) is not worth trying, {LARGE} "
        f"({windows[LARGE]}) is: requests {calls}, {stream.ending()}",
    )
    settle(ctx, {FIRST: ROLE, **({SMALL: ROLE} if calls[SMALL] else {})})


@check(
    "execute",
    "An attempt that may have been billed counts against the turn budget",
    ("RM-EXEC-010", "RM-EXEC-017"),
)
def budget(ctx: CheckContext) -> None:
    unbudgeted = _call(ctx, "Write a poem.", avoided=(SMALL,))
    planned = plan(ctx, unbudgeted)
    first, fallback = candidate(planned, FIRST), candidate(planned, LARGE)
    if first is None or fallback is None or not first.cost.total_picos or not fallback.cost.total_picos:
        raise NotObservable(f"no cost estimates for {FIRST} and {LARGE} in the planning decision")
    a, b = first.cost.total_picos, fallback.cost.total_picos
    budget_picos = max(a, b) + min(a, b) // 2  # each attempt fits, both together do not
    cases = (
        ("a 200 whose stream breaks before any token", fault("cut", after_deltas=0, reply=LONG_ANSWER), True),
        ("a 500 before anything was processed", fault("server_error", status=500), False),
        ("a 429 rate limit, which nothing processed either", fault("rate_limited"), False),
    )
    for what, broken, billed in cases:
        call = request(ctx, ROLE, messages(ctx, "Write a poem."), avoided=(SMALL,), budget_picos=budget_picos)
        stream, calls = _run(ctx, call, {FIRST: [broken], LARGE: [reply("A short poem.")]})
        if billed:
            ctx.expect(
                "RM-EXEC-017",
                stream.ended_with("BUDGET_EXHAUSTED", grpc.StatusCode.FAILED_PRECONDITION) and calls[LARGE] == 0,
                f"budget {budget_picos} picounits, {FIRST} estimated {a}, {LARGE} {b}; after {what} on {FIRST}: "
                f"expected failed BUDGET_EXHAUSTED, the status FAILED_PRECONDITION/BUDGET_EXHAUSTED and no call to "
                f"{LARGE}: {stream.ending()}, requests {calls}",
            )
        else:
            served = stream.completed.served_endpoint_id if stream.completed else None
            ctx.expect(
                "RM-EXEC-010",
                served == LARGE and calls[LARGE] == 1,
                f"budget {budget_picos}: after {what} on {FIRST} the budget still allows {LARGE} ({b}): "
                f"{stream.ending()}, requests {calls}",
            )
        _after_cooldown(ctx, FIRST)
        settle(ctx, {FIRST: ROLE})  # one failure at a time: three in a row would cool the endpoint down


def _after_cooldown(ctx: CheckContext, endpoint_id: str) -> None:
    """Wait out a short cooldown the card shows (a 429 may set one), so that the next scenario starts clean."""
    left = status(ctx, endpoint_id).cooldown_until_ms / 1000 - time.time()
    if 0 < left <= MAX_COOLDOWN_WAIT_S:
        time.sleep(left + 0.05)


@check("execute", "Retry-After: the next fallback at once, and the endpoint left alone until then", ("RM-EXEC-014",))
def retry_after(ctx: CheckContext) -> None:
    steps = {FIRST: [fault("rate_limited", retry_after=RETRY_AFTER_S)], SMALL: [reply("Served meanwhile.")]}
    began = time.time()
    stream, _ = _run(ctx, _call(ctx, "Quick question."), steps)
    ended = time.time()
    served = stream.completed.served_endpoint_id if stream.completed else None
    ctx.expect(
        "RM-EXEC-014",
        served == SMALL and stream.duration_s < RETRY_AFTER_S,
        f"{FIRST} answers 429 with Retry-After {RETRY_AFTER_S:g} s: {SMALL} serves at once: {stream.ending()} "
        f"after {stream.duration_s:.2f} s",
    )
    until = status(ctx, FIRST).cooldown_until_ms / 1000
    ctx.expect(
        "RM-EXEC-014",
        began + RETRY_AFTER_S - COOLDOWN_TOLERANCE_S <= until <= ended + RETRY_AFTER_S + COOLDOWN_TOLERANCE_S,
        f"the card shows {FIRST} cooling down until the Retry-After has passed: "
        f"{until - began:+.2f} s from the call's start, expected about {RETRY_AFTER_S:g} s",
    )
    backends = ctx.backends()
    backends.script({FIRST: [reply("Too early.")], SMALL: [reply("Served again.")], LARGE: [reply("Served again.")]})
    again = execute(ctx, _call(ctx, "Another quick question."))
    early = requests_to(backends, FIRST)[FIRST]
    ctx.expect(
        "RM-EXEC-014",
        early == 0 or time.time() - began >= RETRY_AFTER_S,
        f"a new call {time.time() - began:.2f} s after the 429 sends {FIRST} {early} request(s): {again.ending()}",
    )
    time.sleep(min(max(0.0, until - time.time()), RETRY_AFTER_S + COOLDOWN_TOLERANCE_S) + 0.05)
    settle(ctx, {FIRST: ROLE})
