"""Tokens on the front door (spec 14.8), for a router that claims ROUTER_CAPABILITY_AUTH.

Both sides of each rule: the model list and the card answer without a token,
every other endpoint refuses a request without one (or with a token the router
never issued) with UNAUTHENTICATED in its dialect's shape; a token limited to
the role chat is served for chat and refused with ROLE_NOT_PERMITTED for chore,
as over gRPC (RM-AUTH-002).
"""

from __future__ import annotations

from typing import Any

import httpx

from rolemodel_conformance.checks import check
from rolemodel_conformance.checks.execute_support import reply
from rolemodel_conformance.checks.front_door_support import (
    TIMEOUT_S,
    base_url,
    plain_error,
    shape_problems,
    verify,
)
from rolemodel_conformance.context import CheckContext, NotObservable

HTTP_OK = 200
WRONG_TOKEN = "rmc-never-issued-token"  # noqa: S105 - a token the router never issued, not a secret
CHAT_ENDPOINT = "fx-deepseek"


def _bodies(ctx: CheckContext) -> list[tuple[str, str, dict[str, Any]]]:
    """(path, error dialect, body) of every front-door endpoint that needs a token."""
    content = f"Hello. {ctx.canary()}"
    chat = {"model": "rolemodel/chat", "messages": [{"role": "user", "content": content}]}
    messages = {**chat, "max_tokens": 16}
    outcome = {"decisionId": "0" * 28, "servedEndpointId": CHAT_ENDPOINT, "idempotencyKey": ctx.ids.key("auth")}
    return [
        ("/v1/chat/completions", "openai", chat),
        ("/v1/responses", "openai", {"model": "rolemodel/chat", "input": content, "store": False}),
        ("/v1/messages", "anthropic", messages),
        ("/v1/messages/count_tokens", "anthropic", chat),
        ("/v1/rolemodel/outcomes", "status", outcome),
    ]


@check(
    "front-door",
    "Tokens on the front door: required on every endpoint but the model list and the card; role scopes apply",
    ("RM-HTTP-070", "RM-HTTP-071"),
)
def front_door_tokens(ctx: CheckContext) -> None:
    if not ctx.probe.connection.token:
        raise NotObservable("the router claims AUTH and the run has no token: pass it with --token-file")
    url = base_url(ctx)
    with httpx.Client(verify=verify(ctx), timeout=TIMEOUT_S) as bare:
        for path in ("/v1/models", "/v1/rolemodel/card"):
            answer = bare.get(url + path)
            said = f"GET {path} without a token is served: HTTP {answer.status_code}"
            ctx.expect("RM-HTTP-070", answer.status_code == HTTP_OK, said)
        for path, dialect, body in _bodies(ctx):
            for label, headers in (("no token", {}), ("a token never issued", {"x-api-key": WRONG_TOKEN})):
                got = plain_error(bare.post(url + path, json=body, headers=headers))
                problems = ["it was served"] if got is None else shape_problems(got, "UNAUTHENTICATED", dialect)
                ctx.expect(
                    "RM-HTTP-070",
                    not problems,
                    f"POST {path} with {label}: UNAUTHENTICATED in the {dialect} shape: {'; '.join(problems) or 'yes'}",
                )
        _role_scope(ctx, bare, url)


def _role_scope(ctx: CheckContext, client: httpx.Client, url: str) -> None:
    token = ctx.run.scoped_token
    if token is None:
        ctx.not_testable("RM-HTTP-071", "needs a token limited to the role chat: pass it with --scoped-token-file")
        return
    ctx.backends().script({CHAT_ENDPOINT: [reply("Allowed.")]})
    bearer = {"authorization": f"Bearer {token}"}
    for role, allowed in (("chat", True), ("chore", False)):
        body = {
            "model": f"rolemodel/{role}@{CHAT_ENDPOINT}" if allowed else f"rolemodel/{role}",
            "messages": [{"role": "user", "content": f"Hello. {ctx.canary()}"}],
        }
        answer = client.post(url + "/v1/chat/completions", json=body, headers=bearer)
        if allowed:
            ctx.expect(
                "RM-HTTP-071",
                answer.status_code == HTTP_OK,
                f"the chat-only token asks for chat on the front door and is served: HTTP {answer.status_code}",
            )
            continue
        got = plain_error(answer)
        problems = ["it was served"] if got is None else shape_problems(got, "ROLE_NOT_PERMITTED", "openai")
        ctx.expect(
            "RM-HTTP-071",
            not problems,
            f"the chat-only token asks for chore on the front door: ROLE_NOT_PERMITTED: {'; '.join(problems) or 'yes'}",
        )
