"""Execute (capability ROUTER_CAPABILITY_EXECUTE): the answer, its usage and cost, the recorded outcome, handoffs, keys.

The suite's scripted backends answer behind the fixture's endpoints
(``backends.py``), so every expectation follows from the script: the words and
tool calls of the answer, the usage the backend reported (its simulated cache
included), and the price list of the fixture. What each backend received is
read back from the backend itself.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

import grpc

from rolemodel import cost
from rolemodel.dialects import anthropic_messages, openai_chat
from rolemodel.dialects.errors import DialectError
from rolemodel.v1 import catalog_pb2, common_pb2, conversation_pb2, decision_pb2, router_service_pb2
from rolemodel_conformance.backends import API_KEY, API_KEY_ENV, UNSET_KEY_ENV
from rolemodel_conformance.builders import Prompt, outcome, system, user
from rolemodel_conformance.checks import check
from rolemodel_conformance.checks.execute_support import (
    Stream,
    describe_received,
    execute,
    expect_order,
    fault,
    messages,
    missing_key_problem,
    plan,
    reply,
    request,
    same_plan,
    settle,
)
from rolemodel_conformance.checks.health import wait_until_healthy
from rolemodel_conformance.checks.helpers import expect_refusal
from rolemodel_conformance.context import CheckContext, NotObservable, SetupProblem
from rolemodel_conformance.expectations import TURN_COST_FIELDS, candidate, cost_differences
from rolemodel_conformance.handoff_rules import expected_handoff

C = conversation_pb2
USAGE_FIELDS = ("input_tokens", "output_tokens", "cache_read_tokens", "cache_write_tokens")
SIGNATURE = "sig-conformance-anthropic-execute"
HTTP_OK = 200
#: 41 characters: OpenAI rejects it, Anthropic accepts it.
LONG_ID = "toolu_" + "0123456789abcdefghijklmnopqrstuvwxyz"[:35]


def _answer_view(message: C.Message) -> tuple[str, list[tuple[str, Any]]]:
    words = "".join(p.text.text for p in message.parts if p.WhichOneof("kind") == "text")
    calls = [
        (p.tool_call.name, json.loads(p.tool_call.arguments_json or "{}"))
        for p in message.parts
        if p.HasField("tool_call")
    ]
    return words, calls


def _judge_answer(
    ctx: CheckContext,
    stream: Stream,
    received: Sequence[Mapping[str, Any]],
    what: str,
    scripted: tuple[str, list[tuple[str, Any]]],
) -> router_service_pb2.ExecuteCompleted:
    completed = stream.completed
    if completed is None:
        raise NotObservable(f"{what}: the scripted answer did not complete: {stream.ending()}")
    words, calls = _answer_view(completed.message)
    ctx.expect(
        "RM-EXEC-002",
        completed.message.role == C.MESSAGE_ROLE_ASSISTANT and (words, calls) == scripted and stream.text == words,
        f"{what}: one assistant message with the scripted words and tool calls {scripted}, streamed as deltas: "
        f"got {(words, calls)}, deltas {stream.text!r}",
    )
    reported = received[-1].get("usage") if received else None
    got_usage = {f: getattr(completed.usage, f) for f in USAGE_FIELDS}
    ctx.expect(
        "RM-EXEC-002",
        reported is not None and got_usage == {f: reported[f] for f in USAGE_FIELDS},
        f"{what}: the usage the backend reported {reported}, got {got_usage}",
    )
    econ = ctx.fixture.economics(completed.served_endpoint_id)
    want = cost.to_proto(cost.cost_of_usage(econ, completed.usage), econ.currency)
    wrong = cost_differences(completed.reported_cost, want, TURN_COST_FIELDS)
    ctx.expect("RM-EXEC-002", not wrong, f"{what}: the cost of that usage: " + ("; ".join(wrong) or "exact"))
    return completed


@check(
    "execute",
    "A streamed answer: the whole message, the provider's usage with cache tokens and its cost, recorded as an outcome",
    ("RM-EXEC-001", "RM-EXEC-002", "RM-EXEC-003"),
)
def answer(ctx: CheckContext) -> None:
    backends = ctx.backends()
    served, conversation = "fx-deepseek", ctx.ids.conversation("execute")
    call = {"id": "call_weather_1", "name": "weather", "arguments": {"city": "Paris"}}
    backends.script({served: [reply("Let me look.", tool_calls=[call]), reply("It is sunny in Paris.", chunk_chars=5)]})
    first = messages(ctx, "What is the weather in Paris?")
    stream = execute(ctx, request(ctx, "chat", first, conversation_id=conversation, pinned=served))
    ctx.expect("RM-EXEC-001", stream.well_formed(), f"turn 1: started first, one ending last: {stream.kinds}")
    done = _judge_answer(
        ctx, stream, backends.received(served), "turn 1", ("Let me look.", [("weather", {"city": "Paris"})])
    )
    verdict = outcome(done.decision_id, served, ctx.ids.key("execute"), used=done.usage)
    expect_refusal(
        ctx,
        "RM-EXEC-003",
        "a client's own SUCCESS for the executed decision",
        lambda: ctx.probe.report(verdict),
        grpc.StatusCode.ALREADY_EXISTS,
        "OUTCOME_ALREADY_REPORTED",
    )
    result = C.Message(
        role=C.MESSAGE_ROLE_TOOL,
        parts=[C.ContentPart(tool_result=C.ToolResultPart(tool_call_id="call_weather_1", content=[_text("sunny")]))],
    )
    second = [*first, done.message, result, user("Thanks. And tomorrow?")]
    again = execute(ctx, request(ctx, "chat", second, conversation_id=conversation, turn=1, pinned=served))
    ctx.expect("RM-EXEC-001", again.well_formed(), f"turn 2: started first, one ending last: {again.kinds}")
    _judge_answer(ctx, again, backends.received(served), "turn 2 (a cache hit)", ("It is sunny in Paris.", []))
    entry = candidate(again.decision, served) if again.decision is not None else None
    if ctx.claims("ROUTER_CAPABILITY_CACHE_ACCOUNTING") and entry is not None:
        got = (entry.cache.held_tokens, decision_pb2.CacheStateSource.Name(entry.cache.source))
        want = (done.usage.input_tokens, "CACHE_STATE_SOURCE_REPORTED")
        ctx.expect(
            "RM-EXEC-003",
            entry.HasField("cache") and got == want,
            f"turn 2 sees what turn 1's recorded outcome left on {served}: (held tokens, source) expected {want}, "
            f"got {got if entry.HasField('cache') else 'no cache entry'}",
        )


def _text(words: str) -> C.ToolResultContent:
    return C.ToolResultContent(text=C.TextPart(text=words))


def _decoded(endpoint: catalog_pb2.Endpoint, body: object) -> list[C.Message]:
    if not isinstance(body, dict):
        raise NotObservable(f"the backend recorded no JSON body for {endpoint.id}")
    anthropic = endpoint.connection.api_dialect == common_pb2.API_DIALECT_ANTHROPIC_MESSAGES
    try:
        decoded = anthropic_messages.decode_request(body) if anthropic else openai_chat.decode_request(body)
    except DialectError as error:
        raise NotObservable(f"the request {endpoint.id} received does not decode: {error}") from None
    return list(decoded.messages)


def _wire_view(sent: Sequence[C.Message]) -> dict[str, object]:
    """What a dialect can carry of the handoff rules: tool ids, signatures, reasoning kept as text, breakpoints."""
    parts = [p for m in sent for p in m.parts]
    results = [p.tool_result.tool_call_id for p in parts if p.WhichOneof("kind") == "tool_result"]
    return {
        "tool ids": [p.tool_call.id for p in parts if p.WhichOneof("kind") == "tool_call"] + results,
        "signatures": sorted(p.reasoning.signature for p in parts if p.WhichOneof("kind") == "reasoning"),
        "reasoning as text": any("Weigh both." in p.text.text for p in parts if p.WhichOneof("kind") == "text"),
        "breakpoint ttls": sorted(p.cache_breakpoint.ttl_seconds for p in parts if p.HasField("cache_breakpoint")),
    }


@check("execute", "Each attempt is sent the handoff for its own endpoint", ("RM-EXEC-006",))
def handoff_per_attempt(ctx: CheckContext) -> None:
    backends = ctx.backends()
    role, first, fallback = "x-conformance.fallback", "fx-short-ttl", "fx-opus"
    thinking = C.ReasoningPart(text="Weigh both.", provider="anthropic", signature=SIGNATURE)
    tool_call = C.ToolCallPart(id=LONG_ID, name="search", arguments_json='{"q":"x"}')
    calling = C.Message(
        role=C.MESSAGE_ROLE_ASSISTANT,
        origin_endpoint_id="fx-opus",
        parts=[C.ContentPart(reasoning=thinking), C.ContentPart(tool_call=tool_call)],
    )
    answered = C.Message(
        role=C.MESSAGE_ROLE_TOOL,
        parts=[C.ContentPart(tool_result=C.ToolResultPart(tool_call_id=LONG_ID, content=[_text("two results")]))],
    )
    prompt = [system(f"Be careful. {ctx.canary()}"), user("Search for x."), calling, answered, user("Go on.")]
    call = request(ctx, role, prompt)
    planned = plan(ctx, call)
    expect_order(planned, [first, fallback])
    backends.script({first: [fault("server_error", status=500)], fallback: [reply("Continuing.")]})
    stream = execute(ctx, call)
    same_plan(stream, planned)
    for endpoint_id in (first, fallback):
        received = backends.received(endpoint_id)
        if not received:
            raise NotObservable(f"{endpoint_id} received no request ({stream.ending()}); see RM-EXEC-020 for keys")
        endpoint = ctx.fixture.endpoints[endpoint_id]
        want = _wire_view(expected_handoff(prompt, endpoint, ctx.fixture.roles[role].handoff).messages)
        got = _wire_view(_decoded(endpoint, received[-1].get("body")))
        ctx.expect(
            "RM-EXEC-006",
            got == want,
            f"the attempt on {endpoint_id} ({common_pb2.ProviderKind.Name(endpoint.provider_kind)}) gets its own "
            f"handoff: expected {want}, received {got}",
        )
    settle(ctx, {first: "x-conformance.execute"})


def _everything_seen(ctx: CheckContext, stream: Stream) -> bytes:
    seen = [e.SerializeToString() for e in stream.events]
    seen += [d.SerializeToString() for d, _ in ctx.run.decisions]
    seen += [f"{r.message} {r.metadata}".encode() for r in ctx.run.refusals]
    seen.append(ctx.probe.card().SerializeToString())
    return b"\n".join(seen)


@check("execute", "API keys come from the variable the catalog names and never reach a client", ("RM-EXEC-020",))
def api_key(ctx: CheckContext) -> None:
    backends = ctx.backends()
    backends.script({"fx-opus": [reply("An answer that needed the key.")]})
    stream = execute(ctx, request(ctx, "x-conformance.handoff", messages(ctx, "Hello?"), pinned="fx-opus"))
    received = backends.received("fx-opus")
    details = " ".join([a.detail for a in stream.attempts] + ([stream.failed.detail] if stream.failed else []))
    problem = missing_key_problem(ctx, stream)
    if not received and problem is not None:
        raise SetupProblem(problem)
    if not received and API_KEY_ENV in details:
        raise SetupProblem(
            f"the router says {API_KEY_ENV} is not set; start it with {API_KEY_ENV}={API_KEY} (docs/conformance.md)"
        )
    keyed = bool(received) and all(r.get("status") == HTTP_OK for r in received)
    ctx.expect(
        "RM-EXEC-020",
        keyed and stream.completed is not None,
        f"fx-opus's backend accepts only the key in {API_KEY_ENV}: it received {describe_received(received)}; "
        f"{stream.ending()}",
    )
    ctx.expect(
        "RM-EXEC-020",
        API_KEY.encode() not in _everything_seen(ctx, stream),
        "the key appears in no event, decision, error or card the suite received",
    )


@check(
    "execute", "An endpoint whose key variable is not set is never called, nor failed", ("RM-EXEC-021", "RM-EXEC-022")
)
def unset_key(ctx: CheckContext) -> None:
    backends = ctx.backends()
    wait_until_healthy(ctx, "fx-flaky")
    backends.script({"fx-flaky": [reply("fx-flaky must not be called.")]})
    stream = execute(ctx, request(ctx, "x-conformance.health", messages(ctx, "Hello?"), pinned="fx-flaky"))
    received = backends.received("fx-flaky")
    ctx.expect(
        "RM-EXEC-021",
        not received and stream.completed is None,
        f"fx-flaky names {UNSET_KEY_ENV}, which the conformance profile leaves unset: it received "
        f"{describe_received(received)}; {stream.ending()}",
    )
    decision = stream.decision or (stream.refusal.decision if stream.refusal else None)
    exclusions = [
        x
        for c in (decision.candidates if decision else [])
        if c.endpoint_id == "fx-flaky"
        for x in c.exclusions
        if x.code == decision_pb2.EXCLUSION_CODE_NOT_CONFIGURED
    ]
    ctx.expect(
        "RM-EXEC-021",
        bool(exclusions) and UNSET_KEY_ENV in exclusions[0].detail,
        f"fx-flaky is excluded with NOT_CONFIGURED, naming the variable {UNSET_KEY_ENV}: "
        f"{[x.detail for x in exclusions] or 'no such exclusion'}",
        should_part=True,
    )
    tried = [a.endpoint_id for a in stream.attempts]
    ctx.expect(
        "RM-EXEC-022",
        "fx-flaky" not in tried and (stream.failed is None or stream.failed.served_endpoint_id != "fx-flaky"),
        f"no attempt on fx-flaky failed: the failed attempts were on {tried}; {stream.ending()}",
    )


@check("execute", "Execute needs the content of every message", ("RM-EXEC-004",))
def needs_content(ctx: CheckContext) -> None:
    call = router_service_pb2.ExecuteRequest(
        conversation=Prompt.of([100]).ref(ctx.ids.conversation("execute")),
        hints=request(ctx, "chat", messages(ctx, "x")).hints,
    )
    expect_refusal(
        ctx,
        "RM-EXEC-004",
        "Execute with a digest-only message",
        lambda: ctx.probe.execute_or_raise(call),
        grpc.StatusCode.INVALID_ARGUMENT,
        "REQUEST_INVALID",
        fields=("conversation.messages[0]",),
    )
