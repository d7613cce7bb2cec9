"""The endpoint a front-door response names (spec 14.5, RM-HTTP-043): one the call attempted, in each dialect.

The role x-conformance.execute tries fx-short-ttl, then fx-local, then
fx-deepseek. The backends script the attempts, and afterwards say which
endpoints were called; the endpoint the response names must be the last of
them: the fallback that serves, or, when every allowed attempt fails, the
last one that failed, never a fallback the router did not try (a router may
bound its attempts) and never the decision's choice by default.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from rolemodel_conformance.checks import check
from rolemodel_conformance.checks.execute_support import (
    expect_order,
    fault,
    messages,
    plan,
    reply,
    request,
    requests_to,
    settle,
)
from rolemodel_conformance.checks.front_door_support import anthropic_client, openai_client, status_errors
from rolemodel_conformance.context import CheckContext

ROLE = "x-conformance.execute"
ORDER = ("fx-short-ttl", "fx-local", "fx-deepseek")
DIALECTS = ("chat_completions", "responses", "messages")
ENDPOINT = "x-rolemodel-endpoint"
Steps = dict[str, list[dict[str, Any]]]


def _turn(ctx: CheckContext, dialect: str) -> Mapping[str, str]:
    """One streamed turn through the dialect's official client: the headers of its answer, or of its error."""
    alias, words = f"rolemodel/{ROLE}", f"Say hello. {ctx.canary()}"
    try:
        if dialect == "messages":
            with (
                anthropic_client(ctx) as ant,
                ant.messages.with_streaming_response.create(
                    model=alias, max_tokens=32, messages=[{"role": "user", "content": words}], stream=True
                ) as answer,
            ):
                list(answer.iter_lines())
                return answer.headers
        with openai_client(ctx) as oai:
            if dialect == "responses":
                with oai.responses.with_streaming_response.create(model=alias, input=words, stream=True) as response:
                    list(response.iter_lines())
                    return response.headers
            with oai.chat.completions.with_streaming_response.create(
                model=alias, messages=[{"role": "user", "content": words}], stream=True
            ) as chunks:
                list(chunks.iter_lines())
                return chunks.headers
    except status_errors() as error:
        return error.response.headers


@check(
    "front-door",
    "x-rolemodel-endpoint names the fallback that serves, or the last endpoint attempted, never one not tried",
    ("RM-HTTP-043",),
)
def attempted_endpoint(ctx: CheckContext) -> None:
    expect_order(plan(ctx, request(ctx, ROLE, messages(ctx, "Say hello."))), ORDER)
    first, small, large = ORDER
    scenarios: tuple[tuple[str, Steps], ...] = (
        (f"{first} answers 503, {small} answers", {first: [fault("server_error", status=503)], small: [reply("Hi.")]}),
        (
            "every attempt fails",
            {
                first: [fault("server_error", status=500)],
                small: [fault("server_error", status=502)],
                large: [fault("server_error", status=503)],
            },
        ),
    )
    for what, steps in scenarios:
        for dialect in DIALECTS:
            backends = ctx.backends()
            backends.script(steps)
            headers = _turn(ctx, dialect)
            calls = requests_to(backends, *ORDER)
            called = [e for e in ORDER if calls[e]]
            # one success for each endpoint that failed, so that no endpoint drifts into a cooldown
            settle(ctx, {e: ROLE for e in called if "fault" in steps[e][0]})
            named = headers.get(ENDPOINT)
            ctx.expect(
                "RM-HTTP-043",
                bool(called) and named == called[-1],
                f"{dialect}, {what}: requests {calls}, so {ENDPOINT} {called[-1] if called else None!r}; got {named!r}",
            )
