"""Authentication (capability ROUTER_CAPABILITY_AUTH): bearer tokens on every call but discovery and health."""

from __future__ import annotations

import grpc
from grpc_health.v1 import health_pb2

from rolemodel.v1 import hints_pb2
from rolemodel_conformance.builders import Prompt, route_request
from rolemodel_conformance.checks import check
from rolemodel_conformance.checks.helpers import expect_refusal
from rolemodel_conformance.context import CheckContext
from rolemodel_conformance.probe import Connection, RouterProbe, RouterRefusal


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
