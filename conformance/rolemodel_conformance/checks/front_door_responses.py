"""What the front door keeps and hands back of a Responses answer (spec 14.10), through the official OpenAI client.

Both checks use the fixture's Responses endpoint, fx-responses, alone in the
role x-conformance.responses, so that no other check's candidates change. Its
scripted backend records the body each call carried, ``store`` and ``include``
included, and answers with reasoning, carrying its ``encrypted_content`` only
when the call's ``include`` asks for it, as OpenAI does.

Each rule is checked both ways. A response answered with ``store: false`` is
kept by nobody: the endpoint was called with ``store: false``, and a later
``previous_response_id`` naming it is refused by name, while the same turn sent
whole is served. Whether a response was kept is read from the answer's own
``store``, so no card field is needed: a request that sets ``store: false`` must
be answered so, and a request that leaves ``store`` out (which OpenAI reads as
true) binds a router only if it answers ``store: false``, as one that keeps no
responses does. Encrypted reasoning reaches the client when its ``include``
asks for it, unchanged (so the endpoint must have been asked for it too), and
not otherwise, while the reasoning item itself still does; streamed and not.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from typing import Any

from rolemodel_conformance.backends import ScriptedBackends
from rolemodel_conformance.checks import check
from rolemodel_conformance.checks.execute_support import reply
from rolemodel_conformance.checks.front_door_support import error_of, openai_client, refusal_problem
from rolemodel_conformance.context import CheckContext

ENDPOINT = "fx-responses"
ALIAS = "rolemodel/x-conformance.responses"
ENCRYPTED = "reasoning.encrypted_content"
#: An id no router issued: a router that keeps no responses has nothing it could name.
NEVER_ISSUED = "resp_rmc0never0issued"
#: Answers for every request of a check, refused ones included, so that a router that serves one by mistake
#: still meets a scripted answer and the check can say what went wrong.
SPARE_ANSWERS = 8


def _answer(ctx: CheckContext, **fields: Any) -> Mapping[str, Any]:
    """A served Responses request to fx-responses: the answer's JSON as the client received it."""
    with openai_client(ctx) as oai:
        raw = oai.responses.with_raw_response.create(model=ALIAS, **fields)
        body = raw.http_response.json()
    return body if isinstance(body, Mapping) else {}


def _store_sent(backends: ScriptedBackends) -> list[object]:
    """The ``store`` of every call fx-responses received so far; ``"left out"`` where a call had none."""
    bodies = [r.get("body") for r in backends.received(ENDPOINT)]
    return [b.get("store", "left out") if isinstance(b, dict) else "no JSON body" for b in bodies]


def _include_sent(backends: ScriptedBackends) -> list[object]:
    """The ``include`` of every call fx-responses received so far; ``"left out"`` where a call had none."""
    bodies = [r.get("body") for r in backends.received(ENDPOINT)]
    return [b.get("include", "left out") if isinstance(b, dict) else "no JSON body" for b in bodies]


def _refusal(ctx: CheckContext, previous: str, follow_up: list[Any]) -> str:
    """What is wrong with the answer to a follow-up naming ``previous``; empty when it is refused as 14.10 says."""

    def call() -> object:
        with openai_client(ctx) as oai:
            return oai.responses.create(model=ALIAS, input=follow_up, previous_response_id=previous, store=False)

    got = error_of(call)
    problem = refusal_problem(got, "REQUEST_INVALID", "openai", "previous_response_id")
    if got is not None and got.error.get("param") != "previous_response_id":
        problem += f"; error.param is {got.error.get('param')!r}"
    return problem


@check(
    "front-door",
    "Responses answered with store: false are kept by nobody: the endpoint is told so, previous_response_id is refused",
    ("RM-HTTP-081",),
)
def unstored_responses(ctx: CheckContext) -> None:
    backends = ctx.backends()
    backends.script({ENDPOINT: [reply("Noted.") for _ in range(SPARE_ANSWERS)]})
    opening = [{"role": "user", "content": f"Remember the number seven. {ctx.canary()}"}]
    follow_up = [{"role": "user", "content": "Which number was it?"}]

    unstored = _answer(ctx, input=opening, store=False)
    sent = _store_sent(backends)
    ctx.expect(
        "RM-HTTP-081",
        unstored.get("store") is False and sent == [False],
        f"a request with store: false is answered with store: false and fx-responses is called with store: false: "
        f"the answer says {json.dumps(unstored.get('store'))}, the endpoint received {json.dumps(sent)}",
    )
    names = [(str(unstored.get("id", "")), "a response answered with store: false")]

    # The client leaves store out, which OpenAI reads as true: a router that keeps no responses still says false.
    default = _answer(ctx, input=opening)
    sent = _store_sent(backends)
    if default.get("store") is False:
        ctx.expect(
            "RM-HTTP-081",
            sent[1:] == [False],
            f"a request without store was answered with store: false, so fx-responses must be called with "
            f"store: false, not left to the API's default (true): it received {json.dumps(sent[1:])}",
        )
        names.append((str(default.get("id", "")), "a response to a request without store, answered store: false"))
    names.append((NEVER_ISSUED, "an id the router never issued"))

    for previous, what in names:
        calls_before = len(backends.received(ENDPOINT))
        problem = _refusal(ctx, previous, follow_up)
        reached = len(backends.received(ENDPOINT)) - calls_before
        if reached:
            problem += f"; fx-responses was called {reached} time(s)"
        ctx.expect(
            "RM-HTTP-081",
            not problem,
            f"previous_response_id {previous!r} ({what}): REQUEST_INVALID naming previous_response_id in the field "
            f"violation and error.param, the endpoint not called: {problem or 'yes'}",
        )

    # The refusal is about the field: the same turn, the whole conversation sent, is served.
    whole = [*opening, {"role": "assistant", "content": "Noted."}, *follow_up]
    calls_before = len(backends.received(ENDPOINT))
    served = error_of(lambda: _answer(ctx, input=whole, store=False))
    sent = _store_sent(backends)[calls_before:]
    ctx.expect(
        "RM-HTTP-081",
        served is None and sent == [False],
        f"the same follow-up with the whole conversation instead of previous_response_id is served, with "
        f"fx-responses called with store: false: {served.summary() if served else 'served'}, it received "
        f"{json.dumps(sent)}",
    )


def _encrypted(found: object) -> Iterator[object]:
    """Every non-null ``encrypted_content`` anywhere in a JSON value."""
    if isinstance(found, Mapping):
        for key, value in found.items():
            if key == "encrypted_content" and value is not None:
                yield value
            else:
                yield from _encrypted(value)
    elif isinstance(found, list):
        for value in found:
            yield from _encrypted(value)


def _reasoning_items(documents: list[Mapping[str, Any]]) -> list[Mapping[str, Any]]:
    """The reasoning items of an answer: its output, or a stream's finished items and its final response's output."""
    items: list[Any] = []
    for document in documents:
        final = document.get("response")
        if document.get("object") == "response":
            items += document.get("output") or []
        elif document.get("type") == "response.output_item.done":
            items.append(document.get("item"))
        elif document.get("type") in ("response.completed", "response.incomplete") and isinstance(final, Mapping):
            items += final.get("output") or []
    return [i for i in items if isinstance(i, Mapping) and i.get("type") == "reasoning"]


def _documents(ctx: CheckContext, *, stream: bool, include: bool, question: str) -> list[Mapping[str, Any]]:
    """The answer as JSON documents: the response object, or every event of the stream."""
    fields: dict[str, Any] = {"input": [{"role": "user", "content": question}], "store": False}
    if include:
        fields["include"] = [ENCRYPTED]
    if not stream:
        return [_answer(ctx, **fields)]
    with openai_client(ctx) as oai:
        return [event.model_dump(mode="json") for event in oai.responses.create(model=ALIAS, stream=True, **fields)]


@check(
    "front-door",
    "Encrypted reasoning reaches the client unchanged when include asks for it, and not otherwise, streamed or not",
    ("RM-HTTP-083",),
)
def encrypted_reasoning(ctx: CheckContext) -> None:
    backends = ctx.backends()
    cases = [(stream, include) for stream in (False, True) for include in (True, False)]
    signatures = [f"enc_{ctx.ids.key('reasoning')}" for _ in cases]
    backends.script({ENDPOINT: [reply("Seven.", reasoning="Three plus four.", signature=s) for s in signatures]})
    for (stream, include), signature in zip(cases, signatures, strict=True):
        calls_before = len(backends.received(ENDPOINT))
        documents = _documents(ctx, stream=stream, include=include, question=f"Three plus four? {ctx.canary()}")
        items = _reasoning_items(documents)
        carried = list(_encrypted(documents))
        asked = _include_sent(backends)[calls_before:]
        how = "a stream" if stream else "an answer"
        if include:
            ok = bool(asked) and all(isinstance(a, list) and ENCRYPTED in a for a in asked)
            ok = ok and bool(items) and all(i.get("encrypted_content") == signature for i in items)
            want = (
                f"include lists {ENCRYPTED}: fx-responses is asked for it too, and every reasoning item of {how} "
                f"carries its {signature!r}"
            )
        else:
            ok = bool(items) and not carried
            want = f"no include: {how} still has its reasoning item, and nothing in it carries encrypted_content"
        ctx.expect(
            "RM-HTTP-083",
            ok,
            f"{want}: fx-responses was called with include {asked}, reasoning items {len(items)}, "
            f"encrypted_content {carried[:3]}",
        )
