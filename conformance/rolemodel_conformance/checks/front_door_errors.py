"""The HTTP front door's errors (spec 14.2, 14.7): each dialect's shape, the status, the reason, x-should-retry.

Every error is provoked through the official client of its dialect, with
retries off, and read from the response the client raised with: the body in
full, the headers. Refusals cover a role nobody names, an unknown role, a body
that is not valid, an unsupported protocol version, and (retryable) every
attempt failing before its first token; a stream that fails after its first
event must end with the dialect's error event and nothing after it.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from rolemodel_conformance.checks import check
from rolemodel_conformance.checks.execute_support import fault, reply, settle
from rolemodel_conformance.checks.front_door_support import (
    HttpError,
    anthropic_client,
    api_errors,
    error_of,
    openai_client,
    shape_problems,
    should_retry,
)
from rolemodel_conformance.context import CheckContext, NotObservable
from rolemodel_conformance.registry import error_specs

#: A role with one endpoint, so that one scripted failure is the failure of every attempt.
LONE_ROLE, LONE_ENDPOINT = "x-conformance.tail", "fx-local"
UNKNOWN_ROLE = "x-conformance.nowhere"
#: A model name no alias and no client model rule of the fixture gives a role.
UNMAPPED_MODEL = "rmc-unmapped-model"
#: The scripted backend's mid-stream failure, after two deltas.
CUT_AFTER = 2
HTTP_BAD_REQUEST = 400
#: How long a router may take to close the endpoint call of a client gone away, and how often to look.
NOTICE_S, POLL_S = 3.0, 0.05


def _chat(ctx: CheckContext, model: str, **more: Any) -> Callable[[], object]:
    def call() -> object:
        with openai_client(ctx) as oai:
            messages: Any = more.pop("messages", [{"role": "user", "content": f"Hello. {ctx.canary()}"}])
            return oai.chat.completions.create(model=model, messages=messages, **more)

    return call


def _messages(ctx: CheckContext, model: str, **more: Any) -> Callable[[], object]:
    def call() -> object:
        with anthropic_client(ctx) as ant:
            messages: Any = [{"role": "user", "content": f"Hello. {ctx.canary()}"}]
            return ant.messages.create(model=model, max_tokens=32, messages=messages, **more)

    return call


def _judge(ctx: CheckContext, what: str, got: HttpError | None, reason: str, dialect: str) -> HttpError | None:
    """RM-HTTP-060 for one error, and RM-HTTP-061's x-should-retry from the registry's retryability."""
    problems = ["the request succeeded"] if got is None else shape_problems(got, reason, dialect)
    detail = got.summary() if got is not None else "no error"
    said = "; ".join(problems) or detail
    ctx.expect("RM-HTTP-060", not problems, f"{what}: {reason} in the {dialect} shape: {said}")
    if got is not None:
        want = "true" if error_specs()[reason].retryable else "false"
        ctx.expect(
            "RM-HTTP-061",
            should_retry(got) == want,
            f"{what}: x-should-retry {want} for {reason}, got {should_retry(got)!r}",
            should_part=True,
        )
    return got


@check(
    "front-door",
    "Refusals in each dialect's shape, with the reason, the ErrorInfo and x-should-retry",
    ("RM-HTTP-003", "RM-HTTP-005", "RM-HTTP-011", "RM-HTTP-060", "RM-HTTP-061"),
)
def refusals(ctx: CheckContext) -> None:
    alias = f"rolemodel/{UNKNOWN_ROLE}"
    _judge(ctx, "OpenAI client, unknown role", error_of(_chat(ctx, alias)), "UNKNOWN_ROLE", "openai")
    _judge(ctx, "Anthropic client, unknown role", error_of(_messages(ctx, alias)), "UNKNOWN_ROLE", "anthropic")
    nameless = _judge(ctx, "no role anywhere", error_of(_chat(ctx, UNMAPPED_MODEL)), "REQUEST_INVALID", "openai")
    ctx.expect(
        "RM-HTTP-011",
        nameless is not None and nameless.status == HTTP_BAD_REQUEST and "hints.role" in nameless.fields,
        f"model {UNMAPPED_MODEL!r}, no hint header, no rule: REQUEST_INVALID naming hints.role: "
        + (f"{nameless.summary()}, fields {nameless.fields}" if nameless else "served"),
    )
    broken = error_of(_chat(ctx, "rolemodel/chat", messages="not a list of messages"))
    _judge(ctx, "messages is a string", broken, "REQUEST_INVALID", "openai")
    fields = broken.fields if broken is not None else []
    named = any(f == "messages" or f.startswith(("messages.", "messages[")) for f in fields)
    ctx.expect(
        "RM-HTTP-003",
        named,
        "a body whose messages is a string: REQUEST_INVALID with a field violation for messages: "
        + (f"fields {broken.fields}" if broken else "served"),
    )
    version = error_of(_chat(ctx, "rolemodel/chat", extra_headers={"rolemodel-version": "9.9"}))
    problems = ["served"] if version is None else shape_problems(version, "UNSUPPORTED_PROTOCOL_VERSION", "openai")
    ctx.expect(
        "RM-HTTP-005",
        not problems,
        "rolemodel-version: 9.9 on the front door: UNSUPPORTED_PROTOCOL_VERSION as chapter 2 says: "
        + ("; ".join(problems) or "yes"),
    )


@check("front-door", "A body larger than max_request_bytes is REQUEST_TOO_LARGE, as 413", ("RM-HTTP-004",))
def too_large(ctx: CheckContext) -> None:
    limit = ctx.card.limits.max_request_bytes
    if not limit:
        raise NotObservable("the card states no max_request_bytes")
    words = "word " * (limit // 5 + 1)
    got = error_of(_chat(ctx, "rolemodel/chat", messages=[{"role": "user", "content": words}]))
    problems = ["it was served"] if got is None else shape_problems(got, "REQUEST_TOO_LARGE", "openai")
    ctx.expect(
        "RM-HTTP-004",
        not problems,
        f"a body of more than {limit} bytes: REQUEST_TOO_LARGE as 413 in the OpenAI shape: "
        + ("; ".join(problems) or "yes"),
    )


@check(
    "front-door",
    "Every attempt failing before its first token is a retryable error answer in each dialect",
    ("RM-HTTP-060", "RM-HTTP-061"),
)
def failed_attempts(ctx: CheckContext) -> None:
    backends = ctx.backends()
    backends.script({LONE_ENDPOINT: [fault("server_error", status=503), fault("server_error", status=503)]})
    try:
        alias = f"rolemodel/{LONE_ROLE}"
        failed = error_of(_chat(ctx, alias))
        _judge(ctx, "OpenAI client, the only endpoint answers 503", failed, "BACKEND_UNAVAILABLE", "openai")
        _judge(
            ctx,
            "Anthropic client, the only endpoint answers 503",
            error_of(_messages(ctx, alias)),
            "BACKEND_UNAVAILABLE",
            "anthropic",
        )
    finally:
        settle(ctx, {LONE_ENDPOINT: LONE_ROLE})


@check(
    "front-door",
    "A stream that fails after its first event ends with the dialect's error event and nothing after it",
    ("RM-HTTP-062",),
)
def failed_streams(ctx: CheckContext) -> None:
    backends = ctx.backends()
    cut = fault("stream_error", after_deltas=CUT_AFTER, status=529, reply=reply("one two three four five six"))
    backends.script({LONE_ENDPOINT: [cut, dict(cut)]})
    alias = f"rolemodel/{LONE_ROLE}"
    try:
        with (
            openai_client(ctx) as oai,
            oai.chat.completions.with_streaming_response.create(
                model=alias, messages=[{"role": "user", "content": f"Count. {ctx.canary()}"}], stream=True
            ) as response,
        ):
            data = [line.removeprefix("data:").strip() for line in response.iter_lines() if line.startswith("data:")]
        last = data[-1] if data else ""
        ctx.expect(
            "RM-HTTP-062",
            len(data) > 1 and '"error"' in last and "[DONE]" not in data,
            f"OpenAI: chunks, then a chunk with an error member last, no [DONE]: {len(data)} events, "
            f"last {last[:200]!r}",
        )
        with anthropic_client(ctx) as ant:
            kinds: list[str] = []
            raised: str | None = None
            try:
                with ant.messages.create(
                    model=alias, max_tokens=32, stream=True, messages=[{"role": "user", "content": "Count."}]
                ) as stream:
                    kinds.extend(event.type for event in stream)
            except api_errors() as error:
                raised = type(error).__name__
        ctx.expect(
            "RM-HTTP-062",
            raised is not None and "message_stop" not in kinds,
            f"Anthropic: an error event after message_start, which the client raises, and no message_stop: "
            f"events {kinds}, raised {raised}",
        )
    finally:
        settle(ctx, {LONE_ENDPOINT: LONE_ROLE})


@check(
    "front-door",
    "A client that closes the connection mid-answer: the router cancels the endpoint call, as Execute does",
    ("RM-HTTP-063",),
)
def closed_connection(ctx: CheckContext) -> None:
    backends = ctx.backends()
    backends.script({LONE_ENDPOINT: [fault("hang", after_deltas=1, reply=reply("One. Two. Three.", chunk_chars=5))]})
    try:
        with (
            openai_client(ctx) as oai,
            oai.chat.completions.with_streaming_response.create(
                model=f"rolemodel/{LONE_ROLE}",
                messages=[{"role": "user", "content": f"Count slowly. {ctx.canary()}"}],
                stream=True,
            ) as response,
        ):
            first = next((line for line in response.iter_lines() if line.startswith("data:")), None)
        if first is None:
            raise NotObservable("the stream ended before its first chunk")
        deadline = time.monotonic() + NOTICE_S
        gave_up = False
        while not gave_up and time.monotonic() < deadline:
            gave_up = any(r.get("abandoned") for r in backends.received(LONE_ENDPOINT))
            time.sleep(0 if gave_up else POLL_S)
        ctx.expect(
            "RM-HTTP-063",
            gave_up,
            f"after the client closed the connection on the first chunk, {LONE_ENDPOINT}'s backend sees the router "
            f"give up its call within {NOTICE_S:g} s",
        )
    finally:
        settle(ctx, {LONE_ENDPOINT: LONE_ROLE})
