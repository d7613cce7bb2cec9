"""Authentication (capability ROUTER_CAPABILITY_AUTH): bearer tokens on every call but discovery and health."""

from __future__ import annotations

import grpc
from grpc_health.v1 import health_pb2

from rolemodel.v1 import common_pb2, decision_pb2, hints_pb2, router_service_pb2
from rolemodel_conformance.builders import Prompt, outcome, pin, route_request, usage
from rolemodel_conformance.checks import check
from rolemodel_conformance.checks.helpers import expect_refusal
from rolemodel_conformance.context import CheckContext
from rolemodel_conformance.probe import Connection, RouterProbe, RouterRefusal

#: Tenancy (spec 12.5), checked with the scoped token as a second principal.
TENANCY = ("RM-AUTH-010", "RM-AUTH-011", "RM-AUTH-012")
FAILED = common_pb2.OUTCOME_CLASS_TASK_FAILED
CACHING = "fx-mini"  # on the chat ladder, with an automatic prompt cache


@check("auth", "Calls without a valid bearer token are UNAUTHENTICATED", ("RM-AUTH-001",))
def token_required(ctx: CheckContext) -> None:
    request = route_request(Prompt.of([100]).ref(ctx.ids.conversation("auth")), hints_pb2.RoutingHints(role="chat"))
    expect_refusal(
        ctx,
        "RM-AUTH-001",
        "Route without a token",
        lambda: ctx.probe.route(request, token=False),
        grpc.StatusCode.UNAUTHENTICATED,
        "UNAUTHENTICATED",
    )
    connection = ctx.probe.connection
    wrong = RouterProbe(Connection(connection.channel, connection.target, connection.version, "not-the-token"))
    wrong.refusal_observers = ctx.probe.refusal_observers
    expect_refusal(
        ctx,
        "RM-AUTH-001",
        "Route with a wrong token",
        lambda: wrong.route(request),
        grpc.StatusCode.UNAUTHENTICATED,
        "UNAUTHENTICATED",
    )


@check("auth", "Discovery and health need no credentials", ("RM-AUTH-003",))
def open_discovery(ctx: CheckContext) -> None:
    try:
        ctx.expect("RM-AUTH-003", bool(ctx.probe.card(token=False).supported_versions), "GetRouterCard without a token")
    except RouterRefusal as refusal:
        ctx.failed("RM-AUTH-003", f"GetRouterCard without a token was refused: {refusal}")
    status = ctx.probe.health("", token=False)
    ctx.expect("RM-AUTH-003", status == health_pb2.HealthCheckResponse.SERVING, "health check without a token")


@check("auth", "A token limited to some roles is refused for others", ("RM-AUTH-002",))
def role_scope(ctx: CheckContext) -> None:
    token = ctx.run.scoped_token
    if token is None:
        ctx.not_testable("RM-AUTH-002", "needs a token limited to the role chat: pass it with --scoped-token-file")
        return
    connection = ctx.probe.connection
    scoped = RouterProbe(Connection(connection.channel, connection.target, connection.version, token))
    scoped.refusal_observers = ctx.probe.refusal_observers
    scoped.decision_observers = ctx.probe.decision_observers
    allowed = route_request(Prompt.of([100]).ref(ctx.ids.conversation("auth")), hints_pb2.RoutingHints(role="chat"))
    try:
        scoped.route(allowed)
        ctx.passed("RM-AUTH-002", "the scoped token may use the role chat")
    except RouterRefusal as refusal:
        ctx.failed("RM-AUTH-002", f"the scoped token was refused for the role chat: {refusal}")
    other = route_request(Prompt.of([100]).ref(ctx.ids.conversation("auth")), hints_pb2.RoutingHints(role="chore"))
    expect_refusal(
        ctx,
        "RM-AUTH-002",
        "the chat-only token asks for the role chore",
        lambda: scoped.route(other),
        grpc.StatusCode.PERMISSION_DENIED,
        "ROLE_NOT_PERMITTED",
        metadata={"role": "chore"},
    )


def _second_principal(ctx: CheckContext) -> RouterProbe | None:
    """The chat-only token as a second principal, or None (and not testable) without it."""
    token = ctx.run.scoped_token
    if token is None:
        return None
    connection = ctx.probe.connection
    other = RouterProbe(Connection(connection.channel, connection.target, connection.version, token))
    other.refusal_observers = ctx.probe.refusal_observers
    return other


def _chat(
    conversation_id: str,
    turn: int = 0,
    choice: hints_pb2.EndpointChoice | None = None,
    *,
    prompt: Prompt | None = None,
    dry_run: bool = False,
) -> router_service_pb2.RouteRequest:
    hints = hints_pb2.RoutingHints(role="chat", difficulty=0.1, endpoint_choice=choice)
    return route_request((prompt or Prompt.of([200])).ref(conversation_id, turn), hints, dry_run=dry_run)


def _held(decision: decision_pb2.Decision, endpoint_id: str) -> int:
    """What the decision says ``endpoint_id`` holds in its cache for the conversation."""
    return sum(c.cache.held_tokens + c.cost.cached_tokens for c in decision.candidates if c.endpoint_id == endpoint_id)


@check("auth", "Tokens are principals: conversations, decisions and keys are each one's own", TENANCY)
def tenancy(ctx: CheckContext) -> None:
    other = _second_principal(ctx)
    if other is None:
        for requirement in TENANCY:
            ctx.not_testable(requirement, "needs a second principal: pass a token with --scoped-token-file")
        return
    conv_id = ctx.ids.conversation("tenancy")
    before = ctx.probe.route(_chat(conv_id))
    ctx.expect_equal("RM-AUTH-010", "the conversation id of the decision", before.conversation_id, conv_id)
    expect_refusal(
        ctx,
        "RM-AUTH-011",
        "the second principal reports on the first one's decision",
        lambda: other.report(
            outcome(before.decision_id, before.chosen_endpoint_id, ctx.ids.key(), outcome_class=FAILED)
        ),
        grpc.StatusCode.NOT_FOUND,
        "DECISION_NOT_FOUND",
    )
    # The prefix oracle of issue 17: the second principal fills fx-mini's cache in a conversation of
    # the same name; the first principal's dry run with the same messages must see nothing of it.
    secret = Prompt.of([3000])
    cached = other.route(_chat(conv_id, 0, pin(CACHING), prompt=secret))
    other.report(outcome(cached.decision_id, CACHING, ctx.ids.key(), used=usage(input_tokens=3000, cache_write=3000)))
    guess = secret.extend([100])
    own = other.route(_chat(conv_id, 1, pin(CACHING), prompt=guess, dry_run=True))
    seen = ctx.probe.route(_chat(conv_id, 1, pin(CACHING), prompt=guess, dry_run=True))
    if _held(own, CACHING) == 0:
        ctx.not_testable("RM-AUTH-010", f"{CACHING} shows no cache even to the principal that filled it")
    else:
        ctx.expect_equal(
            "RM-AUTH-010", f"the cache another principal filled, seen in {CACHING}", _held(seen, CACHING), 0
        )
    key = ctx.ids.key("shared")
    mine = ctx.probe.route(_chat(ctx.ids.conversation("tenancy-key")))
    theirs = other.route(_chat(ctx.ids.conversation("tenancy-key")))
    ctx.probe.report(outcome(mine.decision_id, mine.chosen_endpoint_id, key))
    try:
        replayed = other.report(outcome(theirs.decision_id, theirs.chosen_endpoint_id, key)).replayed
        ctx.expect("RM-AUTH-012", not replayed, "a key the first principal used is fresh for the second")
    except RouterRefusal as refusal:
        ctx.failed("RM-AUTH-012", f"a key the first principal used was refused to the second: {refusal}")


@check("auth", "A role-scoped token may pin only endpoints of its roles", ("RM-AUTH-005",))
def pin_scope(ctx: CheckContext) -> None:
    scoped = _second_principal(ctx)
    if scoped is None:
        ctx.not_testable("RM-AUTH-005", "needs a token limited to the role chat: pass it with --scoped-token-file")
        return
    conv_id = ctx.ids.conversation("pin-scope")
    try:
        allowed = scoped.route(_chat(conv_id, choice=pin("fx-mini")))
        ctx.expect_equal(
            "RM-AUTH-005", "the endpoint a chat-only token pinned on chat", allowed.chosen_endpoint_id, "fx-mini"
        )
    except RouterRefusal as refusal:
        ctx.failed("RM-AUTH-005", f"a chat-only token was refused a pin of fx-mini, on the chat ladder: {refusal}")
    expect_refusal(
        ctx,
        "RM-AUTH-005",
        "the chat-only token pins fx-quota, which only other roles use",
        lambda: scoped.route(_chat(conv_id, choice=pin("fx-quota"))),
        grpc.StatusCode.PERMISSION_DENIED,
        "ROLE_NOT_PERMITTED",
        metadata={"endpoint_id": "fx-quota"},
    )
