"""The HTTP front door's answers (spec chapter 14), driven by the official OpenAI and Anthropic clients.

Scored for a router whose card advertises the front door (``http_front_door``).
Each generation request pins a fixture endpoint through the model alias
(``rolemodel/<role>@<endpoint>``), the endpoint's scripted backend says what
the model answers, and so the words, the usage and the cost every answer must
carry follow from the script and the fixture's prices alone.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Any, TypeVar

import grpc
from google.protobuf import json_format
from google.protobuf.message import Message

from rolemodel import cost
from rolemodel.v1 import card_pb2, decision_pb2, outcome_pb2, router_service_pb2
from rolemodel_conformance.builders import Prompt, outcome
from rolemodel_conformance.checks import check
from rolemodel_conformance.checks.execute_support import reply
from rolemodel_conformance.checks.front_door_support import (
    anthropic_client,
    base_url,
    openai_client,
    plain_client,
    plain_error,
    shape_problems,
)
from rolemodel_conformance.checks.helpers import expect_refusal, fresh_route
from rolemodel_conformance.context import CheckContext, NotObservable

E = router_service_pb2
M = TypeVar("M", bound=Message)
DECISION_HEADERS = (
    "x-rolemodel-decision-id",
    "x-rolemodel-conversation-id",
    "x-rolemodel-role",
    "x-rolemodel-role-source",
    "x-rolemodel-endpoint",
    "x-rolemodel-currency",
    "x-rolemodel-estimated-cost",
    "x-rolemodel-estimated-cached-tokens",
)
USAGE_HEADERS = ("x-rolemodel-reported-cost", "x-rolemodel-cached-tokens", "x-rolemodel-cache-write-tokens")
AMOUNT_HEADERS = ("x-rolemodel-estimated-cost", "x-rolemodel-reported-cost")
EXACT_DECIMAL = re.compile(r"^[0-9]+(\.[0-9]+)?$")
#: Spec 14.1: Anthropic's stream, one or more content blocks between the start and the end.
ANTHROPIC_ORDER = re.compile(
    r"^message_start (content_block_start (content_block_delta )*content_block_stop )+message_delta message_stop$"
)
OPENAI_ENDPOINT, ANTHROPIC_ENDPOINT, ROLE = "fx-deepseek", "fx-opus", "chat"
#: Chat Completions, Responses and Messages (spec 14.1).
FRONT_DOOR_DIALECTS = 3
USAGE_FIELDS = ("input_tokens", "output_tokens", "cache_read_tokens", "cache_write_tokens")


def _alias(endpoint_id: str) -> str:
    return f"rolemodel/{ROLE}@{endpoint_id}"


def _header_problems(headers: Mapping[str, str], served: str, *, usage: bool) -> list[str]:
    """RM-HTTP-040: every decision header (and, for a whole answer, the usage headers), amounts exact."""
    wanted = DECISION_HEADERS + (USAGE_HEADERS if usage else ())
    problems = [f"no {name}" for name in wanted if not headers.get(name)]
    problems += [
        f"{name} {headers[name]!r} is not an exact decimal"
        for name in AMOUNT_HEADERS
        if headers.get(name) and not EXACT_DECIMAL.match(headers[name])
    ]
    if headers.get("x-rolemodel-endpoint") not in (None, served):
        problems.append(f"x-rolemodel-endpoint {headers['x-rolemodel-endpoint']!r}, expected {served!r}")
    return problems


def _expected_cost(ctx: CheckContext, endpoint_id: str) -> Decimal | None:
    """The cost of the usage the endpoint's backend reported last, in currency units; None if it reported none."""
    received = ctx.backends(reset=False).received(endpoint_id)
    reported = received[-1].get("usage") if received else None
    if not reported:
        return None
    used = outcome_pb2.Usage(**{f: int(reported[f]) for f in USAGE_FIELDS})
    picos = cost.cost_of_usage(ctx.fixture.economics(endpoint_id), used).total_picos
    return Decimal(picos) / Decimal(10**12)


def _member_problems(ctx: CheckContext, member: object, served: str) -> list[str]:
    """RM-HTTP-041: the ``rolemodel`` member names the served endpoint and the reported cost and cache tokens."""
    if not isinstance(member, Mapping):
        return [f"no rolemodel member (got {member!r})"]
    problems = []
    if member.get("served_endpoint_id") != served:
        problems.append(f"served_endpoint_id {member.get('served_endpoint_id')!r}, expected {served!r}")
    missing = [k for k in ("reported_cost", "cached_tokens", "cache_write_tokens") if k not in member]
    if missing:
        problems.append(f"no {', '.join(missing)}")
    want = _expected_cost(ctx, served)
    got = str(member.get("reported_cost", ""))
    if want is not None and EXACT_DECIMAL.match(got) and Decimal(got) != want:
        problems.append(f"reported_cost {got}, expected {want} for the usage the backend reported")
    return problems


def _parsed(document: object, message: M) -> M:
    """A proto3 JSON document as ``message`` (either field naming; unknown fields ignored); empty if it is not one."""
    if not isinstance(document, dict):
        return message
    try:
        json_format.ParseDict(document, message, ignore_unknown_fields=True)
    except (json_format.ParseError, TypeError, AttributeError):
        message.Clear()
    return message


def _user_turn(ctx: CheckContext, question: str) -> str:
    return f"{question} {ctx.canary()}"


def _received_words(ctx: CheckContext, endpoint_id: str, words: str) -> bool:
    """Whether the endpoint's model was sent the client's words (the request became an Execute call)."""
    received = ctx.backends(reset=False).received(endpoint_id)
    return bool(received) and words in json.dumps(received[-1].get("body", received[-1]))


@check(
    "front-door",
    "The card's front door answers at its base URL, and GET /v1/models lists every role's alias",
    ("RM-HTTP-008", "RM-HTTP-013"),
)
def advertised(ctx: CheckContext) -> None:
    url = base_url(ctx)
    with plain_client(ctx) as client:
        card = client.get(url + "/v1/rolemodel/card")
    digest = _parsed(card.json(), card_pb2.RouterCard()).catalog_digest if card.is_success else None
    ctx.expect(
        "RM-HTTP-008",
        digest == ctx.card.catalog_digest and len(ctx.card.http_front_door.dialects) == FRONT_DOOR_DIALECTS,
        f"GET {url}/v1/rolemodel/card answers this router's card (catalog digest {ctx.card.catalog_digest[:12]}…), "
        f"and the card lists the three dialects the front door serves: HTTP {card.status_code}, digest "
        f"{str(digest)[:12]}…, dialects {list(ctx.card.http_front_door.dialects)}",
    )
    with openai_client(ctx) as oai:
        listed = {model.id for model in oai.models.list()}
    wanted = {f"rolemodel/{role.name}" for role in ctx.card.roles}
    ctx.expect(
        "RM-HTTP-013",
        wanted <= listed,
        f"the OpenAI client's models.list() has rolemodel/<role> for all {len(wanted)} roles: "
        f"missing {sorted(wanted - listed)[:5]}",
    )


@check(
    "front-door",
    "Chat Completions through the OpenAI client: the answer, the headers, the rolemodel member, the stream",
    ("RM-HTTP-002", "RM-HTTP-005", "RM-HTTP-040", "RM-HTTP-041"),
)
def chat_completions(ctx: CheckContext) -> None:
    backends = ctx.backends()
    words, streamed = "Paris is the capital.", "It has been since 987."
    backends.script({OPENAI_ENDPOINT: [reply(words), reply(streamed, chunk_chars=4)]})
    question = _user_turn(ctx, "What is the capital of France?")
    messages: list[Any] = [{"role": "user", "content": question}]
    with openai_client(ctx) as oai:
        raw = oai.chat.completions.with_raw_response.create(model=_alias(OPENAI_ENDPOINT), messages=messages)
        completion = raw.parse()
        body = raw.http_response.json()
        content = completion.choices[0].message.content if completion.choices else None
        ctx.expect(
            "RM-HTTP-002",
            content == words and _received_words(ctx, OPENAI_ENDPOINT, question),
            f"a chat.completion with the scripted words {words!r}, the client's message sent to the endpoint: "
            f"got {content!r}",
        )
        ctx.passed("RM-HTTP-005", "a request without rolemodel-version was served (the OpenAI client sends none)")
        problems = _header_problems(raw.headers, OPENAI_ENDPOINT, usage=True)
        ctx.expect("RM-HTTP-040", not problems, "a whole answer's headers: " + ("; ".join(problems) or "all present"))
        problems = _member_problems(ctx, body.get("rolemodel"), OPENAI_ENDPOINT)
        ctx.expect("RM-HTTP-041", not problems, "the answer's rolemodel member: " + ("; ".join(problems) or "right"))
        with oai.chat.completions.with_streaming_response.create(
            model=_alias(OPENAI_ENDPOINT), messages=messages, stream=True
        ) as response:
            headers = response.headers
            lines = [line for line in response.iter_lines() if line.startswith("data:")]
    _judge_chat_stream(ctx, [line.removeprefix("data:").strip() for line in lines], streamed)
    problems = _header_problems(headers, OPENAI_ENDPOINT, usage=False)
    ctx.expect("RM-HTTP-040", not problems, "a stream's headers: " + ("; ".join(problems) or "all present"))


def _judge_chat_stream(ctx: CheckContext, data: Sequence[str], words: str) -> None:
    """Chunks, then ``[DONE]`` last; the deltas spell the words; the last chunk carries the rolemodel member."""
    chunks = [json.loads(d) for d in data if d != "[DONE]"]
    text = "".join(
        str(choice.get("delta", {}).get("content") or "") for chunk in chunks for choice in chunk.get("choices", [])
    )
    ordered = bool(chunks) and data[-1:] == ["[DONE]"] and data.count("[DONE]") == 1
    kinds = {chunk.get("object") for chunk in chunks}
    ctx.expect(
        "RM-HTTP-002",
        ordered and kinds == {"chat.completion.chunk"} and text == words,
        f"a stream of chat.completion.chunk objects spelling {words!r}, then data: [DONE] once, last: "
        f"{len(chunks)} chunks of {sorted(map(str, kinds))}, text {text!r}, ends {data[-1:]}",
    )
    last = chunks[-1] if chunks else {}
    problems = _member_problems(ctx, last.get("rolemodel"), OPENAI_ENDPOINT)
    ctx.expect(
        "RM-HTTP-041",
        not problems,
        "the last chunk before [DONE] carries the rolemodel member: " + ("; ".join(problems) or "yes"),
    )


@check(
    "front-door",
    "Messages through the Anthropic client: the answer, the headers, and the stream's event order",
    ("RM-HTTP-002", "RM-HTTP-040", "RM-HTTP-041"),
)
def anthropic_messages(ctx: CheckContext) -> None:
    backends = ctx.backends()
    words, streamed = "Bonjour.", "Au revoir, et merci."
    backends.script({ANTHROPIC_ENDPOINT: [reply(words), reply(streamed, chunk_chars=5)]})
    question = _user_turn(ctx, "Say hello in French.")
    messages: list[Any] = [{"role": "user", "content": question}]
    with anthropic_client(ctx) as ant:
        raw = ant.messages.with_raw_response.create(model=_alias(ANTHROPIC_ENDPOINT), max_tokens=64, messages=messages)
        message = raw.parse()
        body = raw.http_response.json()
        said = "".join(block.text for block in message.content if block.type == "text")
        ctx.expect(
            "RM-HTTP-002",
            said == words and message.role == "assistant" and _received_words(ctx, ANTHROPIC_ENDPOINT, question),
            f"a message with the scripted words {words!r}: got {said!r}",
        )
        problems = _header_problems(raw.headers, ANTHROPIC_ENDPOINT, usage=True)
        ctx.expect("RM-HTTP-040", not problems, "a whole message's headers: " + ("; ".join(problems) or "all present"))
        problems = _member_problems(ctx, body.get("rolemodel"), ANTHROPIC_ENDPOINT)
        ctx.expect("RM-HTTP-041", not problems, "the message's rolemodel member: " + ("; ".join(problems) or "right"))
        with ant.messages.create(
            model=_alias(ANTHROPIC_ENDPOINT), max_tokens=64, messages=messages, stream=True
        ) as stream:
            events = list(stream)
    kinds = " ".join(event.type for event in events)
    text = "".join(
        event.delta.text for event in events if event.type == "content_block_delta" and event.delta.type == "text_delta"
    )
    ctx.expect(
        "RM-HTTP-002",
        bool(ANTHROPIC_ORDER.match(kinds)) and text == streamed,
        f"message_start, content blocks, message_delta, message_stop, spelling {streamed!r}: got [{kinds}], {text!r}",
    )
    deltas = [event for event in events if event.type == "message_delta"]
    member = (deltas[-1].model_extra or {}).get("rolemodel") if deltas else None
    problems = _member_problems(ctx, member, ANTHROPIC_ENDPOINT)
    ctx.expect("RM-HTTP-041", not problems, "message_delta's rolemodel member: " + ("; ".join(problems) or "right"))


@check(
    "front-door",
    "Responses through the OpenAI client: the event sequence numbered from 0, the usage in the final event",
    ("RM-HTTP-002", "RM-HTTP-082"),
)
def responses_stream(ctx: CheckContext) -> None:
    backends = ctx.backends()
    words = "Three plus four is seven."
    backends.script({OPENAI_ENDPOINT: [reply(words, chunk_chars=6)]})
    question = _user_turn(ctx, "What is three plus four?")
    with openai_client(ctx) as oai:
        stream = oai.responses.create(
            model=_alias(OPENAI_ENDPOINT), input=[{"role": "user", "content": question}], store=False, stream=True
        )
        events = list(stream)
    numbers = [event.sequence_number for event in events]
    kinds = [event.type for event in events]
    text = "".join(event.delta for event in events if event.type == "response.output_text.delta")
    final = events[-1] if events else None
    usage = final.response.usage if final is not None and final.type == "response.completed" else None
    ctx.expect(
        "RM-HTTP-082",
        numbers == list(range(len(events))) and kinds[:1] == ["response.created"] and usage is not None,
        f"events numbered 0, 1, 2, … from response.created to response.completed with the usage: numbers "
        f"{numbers[:4]}…{numbers[-2:]}, first {kinds[:1]}, last {kinds[-1:]}, usage {usage is not None}",
    )
    ctx.expect(
        "RM-HTTP-002",
        text == words and _received_words(ctx, OPENAI_ENDPOINT, question),
        f"the Responses stream spells the scripted {words!r}: got {text!r}",
    )


@check(
    "front-door",
    "The front door and gRPC share decisions and outcomes; /v1/rolemodel/outcomes is ReportOutcome",
    ("RM-HTTP-001", "RM-HTTP-050"),
)
def shared_state(ctx: CheckContext) -> None:
    backends = ctx.backends()
    backends.script({OPENAI_ENDPOINT: [reply("Noted.")]})
    messages: list[Any] = [{"role": "user", "content": _user_turn(ctx, "Note this.")}]
    with openai_client(ctx) as oai:
        raw = oai.chat.completions.with_raw_response.create(model=_alias(OPENAI_ENDPOINT), messages=messages)
    decision_id = raw.headers.get("x-rolemodel-decision-id", "")
    if not decision_id:
        raise NotObservable("the front door's answer named no decision (x-rolemodel-decision-id)")
    client_says = outcome(decision_id, OPENAI_ENDPOINT, ctx.ids.key("front-door"))
    expect_refusal(
        ctx,
        "RM-HTTP-001",
        "ReportOutcome over gRPC for a decision the front door executed (and recorded)",
        lambda: ctx.probe.report(client_says),
        grpc.StatusCode.ALREADY_EXISTS,
        "OUTCOME_ALREADY_REPORTED",
    )
    _, decision = fresh_route(ctx, "chat", Prompt.of([40, 12]), label="front-door")
    report = outcome(decision.decision_id, decision.chosen_endpoint_id, ctx.ids.key("front-door"))
    posted = json_format.MessageToDict(report)
    with plain_client(ctx) as client:
        answered = client.post(base_url(ctx) + "/v1/rolemodel/outcomes", json=posted)
        replayed = ctx.probe.report(report)
        first = answered.json() if answered.is_success else {}
        ctx.expect(
            "RM-HTTP-001",
            replayed.replayed and replayed.effects == _parsed(first, E.ReportOutcomeResponse()).effects,
            f"an outcome posted to the front door for a gRPC decision, then sent again over gRPC with its key, is a "
            f"replay with the first report's effects: HTTP {answered.status_code} {answered.text[:200]}, gRPC "
            f"{json_format.MessageToDict(replayed)}",
        )
        unknown = dict(posted, decisionId="0" * 28, idempotencyKey=ctx.ids.key("front-door"))
        refused = plain_error(client.post(base_url(ctx) + "/v1/rolemodel/outcomes", json=unknown))
    problems = ["it was accepted"] if refused is None else shape_problems(refused, "DECISION_NOT_FOUND", "status")
    ctx.expect(
        "RM-HTTP-050",
        not problems,
        "an outcome for a decision nobody made: DECISION_NOT_FOUND as 404 in the google.rpc.Status shape: "
        + ("; ".join(problems) or "yes"),
    )
    ctx.expect(
        "RM-HTTP-050",
        answered.is_success and first.get("replayed") is not True,
        f"a first outcome posted is answered with its ReportOutcomeResponse (effects, not replayed): "
        f"HTTP {answered.status_code} {answered.text[:200]}",
    )


#: Every endpoint of the roles chat and chore, so that whichever the router picks has a scripted answer.
CHAT_AND_CHORE = ("fx-local", "fx-mini", "fx-deepseek", "fx-gpt5", "fx-opus")


@check(
    "front-door",
    "Hints: a role header wins over the model alias; x-rolemodel-explain puts the decision in the answer",
    ("RM-HTTP-010", "RM-HTTP-042"),
)
def hints_and_explain(ctx: CheckContext) -> None:
    backends = ctx.backends()
    backends.script({e: [reply("Done."), reply("Done.")] for e in CHAT_AND_CHORE})
    seen = []
    with openai_client(ctx) as oai:
        for headers in ({"x-rolemodel-explain": "1"}, {"x-rolemodel-role": "chore"}):
            messages: list[Any] = [{"role": "user", "content": _user_turn(ctx, "Tidy the imports.")}]
            raw = oai.chat.completions.with_raw_response.create(
                model="rolemodel/chat", messages=messages, extra_headers=headers
            )
            seen.append((raw.headers, raw.http_response.json()))
    (alias_headers, explained), (header_headers, plain) = seen
    got = [(h.get("x-rolemodel-role"), h.get("x-rolemodel-role-source")) for h in (alias_headers, header_headers)]
    ctx.expect(
        "RM-HTTP-010",
        got == [("chat", "alias"), ("chore", "header")],
        f"model rolemodel/chat alone is role chat from the alias; with x-rolemodel-role: chore it is chore from the "
        f"header: got {got}",
    )
    member = explained.get("rolemodel") if isinstance(explained.get("rolemodel"), dict) else {}
    decision = _parsed(member.get("decision"), decision_pb2.Decision())
    wanted = alias_headers.get("x-rolemodel-decision-id")
    quiet = "decision" not in (plain.get("rolemodel") or {})
    listed = [c.endpoint_id for c in decision.candidates]
    whole = listed == list(ctx.fixture.endpoints) and not decision.omitted_candidates
    ctx.expect(
        "RM-HTTP-042",
        bool(wanted) and decision.decision_id == wanted and decision.role == "chat" and whole and quiet,
        f"with x-rolemodel-explain: 1 the body's rolemodel.decision is decision {wanted!r} (got "
        f"{decision.decision_id!r}, role {decision.role!r}) with every catalog endpoint as a candidate (got "
        f"{len(listed)} of {len(ctx.fixture.endpoints)}, {len(decision.omitted_candidates)} omitted); "
        f"without it no decision ({'none' if quiet else 'one'})",
    )
