"""How the front door reads a request (spec 14.2 to 14.4, 14.11, 14.12), through the official clients.

Each rule is checked both ways: what the router must take from a request (a
parsed hint, a rule's role, a derived conversation id and turn index), and what
it must refuse by name (a hint it cannot parse or that breaks a gRPC rule, a
field no table lists, a hosted tool no endpoint runs). The router's own reading
shows in the decision headers and, with ``x-rolemodel-explain: 1``, in the
decision the answer carries.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from google.protobuf import json_format

from rolemodel.digest import digest_chain
from rolemodel.v1 import decision_pb2
from rolemodel_conformance.builders import user
from rolemodel_conformance.checks import check
from rolemodel_conformance.checks.execute_support import reply
from rolemodel_conformance.checks.front_door_support import (
    HttpError,
    anthropic_client,
    error_of,
    openai_client,
    refusal_problem,
)
from rolemodel_conformance.context import CheckContext

#: Every endpoint of the roles chat and chore, so that whichever the router picks has a scripted answer.
CHAT_AND_CHORE = ("fx-local", "fx-mini", "fx-deepseek", "fx-gpt5", "fx-opus")
EXPLAIN = {"x-rolemodel-explain": "1"}
#: The fixture's client model rules (spec 14.3): "rmc-rule-?-*" is chore, then "rmc-rule-*" is chat.
RULED_MODELS = (("rmc-rule-1-x", "chore"), ("rmc-rule-1-", "chore"), ("rmc-rule-12-x", "chat"))
UNRULED_MODEL = "RMC-RULE-1-x"
UNLISTED = "rmc_unlisted_field"
#: Where the system entry of RM-HTTP-006 sits among the messages, from 0.
SYSTEM_PLACE = 2
#: Exact in binary, so that a parsed header and a mapped field compare equal.
HINTED, TEMPERATURE = 0.5, 0.25


def _script(ctx: CheckContext, answers: int) -> None:
    ctx.backends().script({e: [reply("Done.") for _ in range(answers)] for e in CHAT_AND_CHORE})


def _chat(
    ctx: CheckContext, model: str, messages: list[Any], headers: Mapping[str, str] | None = None
) -> tuple[Mapping[str, str], decision_pb2.Decision]:
    """A served Chat Completions turn: its headers and the decision its explained body carries."""
    with openai_client(ctx) as oai:
        raw = oai.chat.completions.with_raw_response.create(
            model=model, messages=messages, extra_headers={**EXPLAIN, **(headers or {})}
        )
        member = raw.http_response.json().get("rolemodel") or {}
    decision = decision_pb2.Decision()
    if isinstance(member.get("decision"), dict):
        json_format.ParseDict(member["decision"], decision, ignore_unknown_fields=True)
    return raw.headers, decision


def _chat_error(ctx: CheckContext, model: str, **more: Any) -> HttpError | None:
    def call() -> object:
        with openai_client(ctx) as oai:
            return oai.chat.completions.create(
                model=model, messages=[{"role": "user", "content": f"Hello. {ctx.canary()}"}], **more
            )

    return error_of(call)


@check(
    "front-door",
    "Hint headers: a parsed value is used, one that cannot be parsed or breaks a gRPC rule is refused by name",
    ("RM-HTTP-012",),
)
def hint_headers(ctx: CheckContext) -> None:
    _script(ctx, 1)
    hinted = {"x-rolemodel-difficulty": str(HINTED)}
    headers, decision = _chat(ctx, "rolemodel/chat", [{"role": "user", "content": f"Hi. {ctx.canary()}"}], hinted)
    ctx.expect(
        "RM-HTTP-012",
        decision.decision_id == headers.get("x-rolemodel-decision-id") and decision.difficulty.value == HINTED,
        f"x-rolemodel-difficulty: {HINTED} is the decision's difficulty: got {decision.difficulty.value} "
        f"(decision {decision.decision_id or 'not explained'})",
    )
    for value, why in (("hard", "cannot be parsed"), ("3", "is outside [0, 1], as a gRPC request's would be")):
        got = _chat_error(ctx, "rolemodel/chat", extra_headers={"x-rolemodel-difficulty": value})
        problem = refusal_problem(got, "REQUEST_INVALID", "openai", "hints.difficulty")
        ctx.expect(
            "RM-HTTP-012",
            not problem,
            f"x-rolemodel-difficulty: {value} ({why}): REQUEST_INVALID naming hints.difficulty: {problem or 'yes'}",
        )


@check(
    "front-door",
    "Client model rules: the first matching rule in catalog order gives the role; a name no rule matches has none",
    ("RM-HTTP-020",),
)
def model_rules(ctx: CheckContext) -> None:
    _script(ctx, len(RULED_MODELS))
    for model, role in RULED_MODELS:
        headers, _ = _chat(ctx, model, [{"role": "user", "content": f"Tidy up. {ctx.canary()}"}])
        got = (headers.get("x-rolemodel-role"), headers.get("x-rolemodel-role-source"))
        ctx.expect(
            "RM-HTTP-020",
            got == (role, "rule"),
            f"model {model!r} takes role {role} from the first matching rule: got {got}",
        )
    unruled = _chat_error(ctx, UNRULED_MODEL)
    problem = refusal_problem(unruled, "REQUEST_INVALID", "openai", "hints.role")
    ctx.expect(
        "RM-HTTP-020",
        not problem,
        f"model {UNRULED_MODEL!r} matches no rule (patterns are case-sensitive): no role, REQUEST_INVALID naming "
        f"hints.role: {problem or 'yes'}",
    )


@check(
    "front-door",
    "The conversation: derived from the opening, or the client's header or prompt_cache_key; the turn counted",
    ("RM-HTTP-030", "RM-HTTP-031", "RM-HTTP-032"),
)
def conversation_ids(ctx: CheckContext) -> None:
    _script(ctx, 4)
    first = f"Plan the trip. {ctx.canary()}"
    derived = "derived:" + digest_chain([user(first)])[-1].hex()[:32]
    later: list[Any] = [
        {"role": "user", "content": first},
        {"role": "assistant", "content": "Where to?"},
        {"role": "user", "content": "Lisbon."},
        {"role": "assistant", "content": "When?"},
        {"role": "user", "content": "In May."},
    ]
    opening_headers, opening = _chat(ctx, "rolemodel/chat", later[:1])
    headers, decision = _chat(ctx, "rolemodel/chat", later)
    ids = [h.get("x-rolemodel-conversation-id") for h in (opening_headers, headers)]
    ctx.expect(
        "RM-HTTP-030",
        ids == [derived, derived],
        f"no header, no key: the first turn and the third are both {derived} (the opening's digest): got {ids}",
    )
    turns = [opening.turn_index, decision.turn_index]
    ctx.expect(
        "RM-HTTP-031",
        bool(opening.decision_id and decision.decision_id) and turns == [0, 2],
        f"the turn index is the number of assistant messages, 0 then 2: got {turns}",
    )
    own = ctx.ids.conversation("front-door")
    named, _ = _chat(ctx, "rolemodel/chat", later, {"x-rolemodel-conversation": own})
    ctx.expect(
        "RM-HTTP-030",
        named.get("x-rolemodel-conversation-id") == own,
        f"with x-rolemodel-conversation: {own} the conversation is the client's, not derived: "
        f"got {named.get('x-rolemodel-conversation-id')}",
    )
    thread = ctx.ids.conversation("thread")
    with openai_client(ctx) as oai:
        raw = oai.responses.with_raw_response.create(
            model="rolemodel/chat", input=[{"role": "user", "content": first}], store=False, prompt_cache_key=thread
        )
    ctx.expect(
        "RM-HTTP-032",
        raw.headers.get("x-rolemodel-conversation-id") == thread,
        f"a Responses request with prompt_cache_key {thread} is that conversation: "
        f"got {raw.headers.get('x-rolemodel-conversation-id')}",
    )


@check(
    "front-door",
    "Request fields: a mapped one is used, a refused one and one no table lists are REQUEST_INVALID naming it",
    ("RM-HTTP-007", "RM-HTTP-080"),
)
def request_fields(ctx: CheckContext) -> None:
    backends = ctx.backends()
    backends.script({"fx-deepseek": [reply("Done.")]})
    with openai_client(ctx) as oai:
        oai.chat.completions.create(
            model="rolemodel/chat@fx-deepseek",
            messages=[{"role": "user", "content": f"Hi. {ctx.canary()}"}],
            temperature=TEMPERATURE,
        )
    received = backends.received("fx-deepseek")
    body = received[-1].get("body") if received else None
    sent = body.get("temperature") if isinstance(body, dict) else None
    ctx.expect(
        "RM-HTTP-007",
        sent == TEMPERATURE,
        f"Chat Completions temperature {TEMPERATURE} is mapped and reaches the endpoint: it received {sent!r}",
    )
    cases: list[tuple[str, str, HttpError | None, str]] = [
        (
            "RM-HTTP-007",
            "Chat Completions store: true (refused)",
            _chat_error(ctx, "rolemodel/chat", store=True),
            "store",
        ),
        (
            "RM-HTTP-007",
            f"Chat Completions {UNLISTED} (no table lists it)",
            _chat_error(ctx, "rolemodel/chat", extra_body={UNLISTED: 1}),
            UNLISTED,
        ),
    ]

    def messages_call() -> object:
        with anthropic_client(ctx) as ant:
            content = f"Hi. {ctx.canary()}"
            return ant.messages.create(
                model="rolemodel/chat",
                max_tokens=16,
                messages=[{"role": "user", "content": content}],
                extra_body={UNLISTED: 1},
            )

    def responses_call() -> object:
        with openai_client(ctx) as oai:
            return oai.responses.create(
                model="rolemodel/chat", input=f"Hi. {ctx.canary()}", store=False, extra_body={UNLISTED: 1}
            )

    cases.append(("RM-HTTP-007", f"Messages {UNLISTED}", error_of(messages_call), UNLISTED))
    cases.append(("RM-HTTP-080", f"Responses {UNLISTED}", error_of(responses_call), UNLISTED))
    for requirement, what, got, field in cases:
        dialect = "anthropic" if what.startswith("Messages") else "openai"
        problem = refusal_problem(got, "REQUEST_INVALID", dialect, field)
        if requirement == "RM-HTTP-080" and got is not None and got.error.get("param") != field:
            problem += f"; error.param is {got.error.get('param')!r}"
        ctx.expect(requirement, not problem, f"{what}: REQUEST_INVALID naming {field}: {problem or 'yes'}")


@check(
    "front-door",
    "A hosted tool no eligible endpoint runs: the decision's error, naming the tool, in each dialect",
    ("RM-HTTP-009", "RM-HTTP-084"),
)
def hosted_tool_refusals(ctx: CheckContext) -> None:
    runs = {e.id for e in ctx.fixture.endpoints.values() if e.hosted_tools}
    search = {"type": "web_search_20250305", "name": "web_search"}

    def messages_call(model: str) -> object:
        with anthropic_client(ctx) as ant:
            content = f"Search. {ctx.canary()}"
            tools: Any = [search]
            return ant.messages.create(
                model=model, max_tokens=16, messages=[{"role": "user", "content": content}], tools=tools
            )

    def responses_call() -> object:
        with openai_client(ctx) as oai:
            tools: Any = [{"type": "web_search"}]
            return oai.responses.create(model="rolemodel/chat", input="Search.", store=False, tools=tools)

    cases = (
        ("RM-HTTP-009", "Messages", lambda: messages_call("rolemodel/chat"), "NO_ELIGIBLE_ENDPOINT", "web_search"),
        (
            "RM-HTTP-009",
            "Messages pinned to fx-opus",
            lambda: messages_call("rolemodel/chat@fx-opus"),
            "PINNED_ENDPOINT_INELIGIBLE",
            "web_search",
        ),
        ("RM-HTTP-084", "Responses", responses_call, "NO_ELIGIBLE_ENDPOINT", "web_search"),
    )
    for requirement, what, call, reason, tool in cases:
        got = error_of(call)
        dialect = "anthropic" if what.startswith("Messages") else "openai"
        problem = refusal_problem(got, reason, dialect, "")
        message = str(got.error.get("message", "")) if got is not None else ""
        if got is not None and tool not in message:
            problem += f"; the message does not name {tool}: {message[:160]!r}"
        ctx.expect(
            requirement,
            not problem,
            f"{what} with the hosted tool {tool}, which no fixture endpoint runs ({sorted(runs) or 'none'}): "
            f"{reason} naming it: {problem or 'yes'}",
        )


@check(
    "front-door",
    "A system entry inside a Messages request's messages is accepted and kept at its place for either dialect",
    ("RM-HTTP-006",),
)
def system_inside_messages(ctx: CheckContext) -> None:
    backends = ctx.backends()
    endpoints = ("fx-opus", "fx-deepseek")  # Anthropic Messages, OpenAI Chat Completions
    backends.script({e: [reply("D'accord.")] for e in endpoints})
    marker = f"From now on answer in French. {ctx.canary()}"
    sent: Any = [
        {"role": "user", "content": f"Hello. {ctx.canary()}"},
        {"role": "assistant", "content": "Hello."},
        {"role": "system", "content": marker},
        {"role": "user", "content": "How are you?"},
    ]
    with anthropic_client(ctx) as ant:
        counted = error_of(lambda: ant.messages.count_tokens(model="rolemodel/chat", messages=sent))
        ctx.expect(
            "RM-HTTP-006",
            counted is None,
            f"count_tokens accepts the system entry: {counted.summary() if counted else 'yes'}",
        )
        for endpoint_id in endpoints:
            ant.messages.create(model=f"rolemodel/chat@{endpoint_id}", max_tokens=16, messages=sent)
            received = backends.received(endpoint_id)
            body = received[-1].get("body") if received else None
            entries = body.get("messages", []) if isinstance(body, dict) else []
            roles = [str(m.get("role")) for m in entries if isinstance(m, dict)]
            third = json.dumps(entries[SYSTEM_PLACE]) if len(entries) > SYSTEM_PLACE else ""
            ctx.expect(
                "RM-HTTP-006",
                roles == ["user", "assistant", "system", "user"] and marker in third,
                f"{endpoint_id} receives the system message third, where the client put it: roles {roles}",
            )
