"""Discovery: the service answers, health, the card's fields, the fixture profile, the clock (spec 1.3, 2.4, 13.1)."""

from __future__ import annotations

import contextlib
import re
import time
from urllib.parse import urlparse

import grpc
from grpc_health.v1 import health_pb2

from rolemodel.v1 import card_pb2, common_pb2, hints_pb2, router_service_pb2
from rolemodel.versions import parse_version
from rolemodel_conformance.builders import ContentPrompt, Prompt, outcome, pin, usage, user
from rolemodel_conformance.checks import check
from rolemodel_conformance.checks.helpers import expect_refusal, fresh_route
from rolemodel_conformance.context import CheckContext, NotObservable
from rolemodel_conformance.fixture import profile_differences
from rolemodel_conformance.probe import RouterRefusal

#: Two decisions made one second apart must be this far apart on the router's clock.
GAP_MIN_S, GAP_MAX_S = 0.7, 5.0
VERSION_FORM = re.compile(r"^(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)$")


@check("discovery", "The three core RPCs answer", ("RM-CORE-001",))
def core_rpcs(ctx: CheckContext) -> None:
    card = ctx.probe.card()
    ctx.expect("RM-CORE-001", bool(card.supported_versions), "GetRouterCard returns a card with versions")
    _, decision = fresh_route(ctx, "chat", Prompt.of([200]), difficulty=0.0)
    ctx.expect("RM-CORE-001", bool(decision.decision_id), "Route returns a decision with an id")
    response = ctx.probe.report(
        outcome(decision.decision_id, decision.chosen_endpoint_id, ctx.ids.key(), used=usage(200, 20))
    )
    ctx.expect_equal(
        "RM-CORE-001",
        "ReportOutcome effects name the served endpoint",
        response.effects.served_endpoint_id,
        decision.chosen_endpoint_id,
    )


@check("discovery", "Health reports SERVING for the empty service name", ("RM-CORE-002",), needs_profile=False)
def health_serving(ctx: CheckContext) -> None:
    status = ctx.probe.health("")
    ctx.expect_equal(
        "RM-CORE-002",
        "grpc.health.v1 status of ''",
        health_pb2.HealthCheckResponse.ServingStatus.Name(status),
        "SERVING",
    )


@check("discovery", "supported_versions: Major.Minor, newest first", ("RM-CARD-001",), needs_profile=False)
def card_versions(ctx: CheckContext) -> None:
    versions = list(ctx.card.supported_versions)
    ctx.expect("RM-CARD-001", bool(versions), f"at least one version is listed: {versions}")
    bad = [v for v in versions if not VERSION_FORM.match(v)]
    ctx.expect("RM-CARD-001", not bad, f"every version has the form Major.Minor; not: {bad}")
    if bad:
        return
    parsed = [parse_version(v) for v in versions]
    ctx.expect(
        "RM-CARD-001",
        parsed == sorted(parsed, reverse=True) and len(set(parsed)) == len(parsed),
        f"versions are newest first without repeats: {versions}",
    )


@check(
    "discovery",
    "The card publishes exactly the fixture's endpoints and roles",
    ("RM-CARD-002", "RM-CONF-001", "RM-CONF-002"),
    needs_profile=False,
)
def card_profile(ctx: CheckContext) -> None:
    problems = profile_differences(ctx.card, ctx.fixture)
    message = "card matches the fixture" if not problems else "; ".join(problems)
    for requirement in ("RM-CARD-002", "RM-CONF-001", "RM-CONF-002"):
        ctx.expect(requirement, not problems, message)
    ctx.expect_equal("RM-CONF-001", "catalog_name", ctx.card.catalog_name, ctx.fixture.name)


@check("discovery", "The card shows no connection details", ("RM-CARD-003",), needs_profile=False)
def card_without_connections(ctx: CheckContext) -> None:
    leaking = [p.endpoint.id for p in ctx.card.endpoints if p.endpoint.HasField("connection")]
    ctx.expect("RM-CARD-003", not leaking, f"no endpoint of the card has a connection; these do: {leaking}")


@check("discovery", "Limits are all positive", ("RM-CARD-004",), needs_profile=False)
def card_limits(ctx: CheckContext) -> None:
    limits = ctx.card.limits
    ctx.expect("RM-CARD-004", ctx.card.HasField("limits"), "the card has limits")
    for name in ("max_request_bytes", "max_messages", "max_string_bytes", "max_text_bytes", "max_labels"):
        ctx.expect("RM-CARD-004", getattr(limits, name) > 0, f"limits.{name} = {getattr(limits, name)} is positive")


@check("discovery", "The four strategies are listed", ("RM-CARD-005",), needs_profile=False)
def card_strategies(ctx: CheckContext) -> None:
    listed = {common_pb2.Strategy.Name(s) for s in ctx.card.strategies if s in common_pb2.Strategy.values()}
    want = {"STRATEGY_COST", "STRATEGY_BALANCED", "STRATEGY_QUALITY", "STRATEGY_LATENCY"}
    ctx.expect("RM-CARD-005", want <= listed, f"strategies include {sorted(want)}; listed {sorted(listed)}")


@check("discovery", "Extensions are named by URIs", ("RM-CARD-007",), needs_profile=False)
def card_extensions(ctx: CheckContext) -> None:
    bad = [
        e.uri for e in ctx.card.extensions if not (urlparse(e.uri).scheme and (urlparse(e.uri).netloc or ":" in e.uri))
    ]
    count = len(ctx.card.extensions)
    ctx.expect("RM-CARD-007", not bad, f"{count} extension(s), each named by an absolute URI; not: {bad}")


def _content_request(ctx: CheckContext, role: str) -> router_service_pb2.RouteRequest:
    prompt = ContentPrompt((user(f"List three prime numbers. {ctx.canary()}"),))
    return router_service_pb2.RouteRequest(
        conversation=prompt.ref(ctx.ids.conversation("capability")), hints=hints_pb2.RoutingHints(role=role)
    )


#: The endpoint the Execute probe is pinned to: no check compares its cost, quality or reliability.
EXECUTE_PROBE_ENDPOINT = "fx-short-ttl"


def _isolated_execute(ctx: CheckContext, request: router_service_pb2.RouteRequest) -> router_service_pb2.ExecuteRequest:
    """An Execute that succeeds on an endpoint no other check compares, so repeated runs leave no failures behind.

    Without the scripted backends (they are only needed by the Execute checks)
    the call still tells a claimed capability from a refused one; it then fails
    at the model, on an endpoint whose reliability no check judges.
    """
    hints = hints_pb2.RoutingHints(role="x-conformance.ttl", endpoint_choice=pin(EXECUTE_PROBE_ENDPOINT))
    if ctx.claims("ROUTER_CAPABILITY_EXECUTE"):
        with contextlib.suppress(NotObservable):
            ctx.backends().script({EXECUTE_PROBE_ENDPOINT: [{"text": "2, 3 and 5."}]})
    return router_service_pb2.ExecuteRequest(conversation=request.conversation, hints=hints)


def _request_capability(ctx: CheckContext, name: str) -> None:
    """Use a request-triggered capability: refused with CAPABILITY_NOT_SUPPORTED exactly when it is not claimed."""
    capability = f"ROUTER_CAPABILITY_{name}"
    request = _content_request(ctx, "chat")
    call: object
    if name == "EXECUTE":
        execute = _isolated_execute(ctx, request)

        def call() -> object:
            return ctx.probe.execute_or_raise(execute, timeout_s=5.0)
    else:
        request.dry_run = name == "DRY_RUN"
        request.include_handoff = name == "HANDOFF_MESSAGES"
        if name == "SIDE_REQUESTS":
            request.hints.side_request.merge_back = False
        if name == "ESCALATION":
            request.hints.escalation.force_level = 1

        def call() -> object:
            return ctx.probe.route(request)

    if not ctx.claims(capability):
        for requirement in ("RM-CORE-003", "RM-CARD-006"):
            expect_refusal(
                ctx,
                requirement,
                f"{name.lower()} without claiming {capability}",
                call,
                grpc.StatusCode.UNIMPLEMENTED,
                "CAPABILITY_NOT_SUPPORTED",
            )
        return
    try:
        call()
        ctx.passed("RM-CARD-006", f"the claimed {capability} is accepted")
    except RouterRefusal as refusal:
        ctx.expect(
            "RM-CARD-006",
            refusal.reason != "CAPABILITY_NOT_SUPPORTED",
            f"the claimed {capability} is not refused as unsupported ({refusal})",
        )


@check("discovery", "Claimed capabilities are exactly the implemented ones", ("RM-CORE-003", "RM-CARD-006"))
def card_capabilities(ctx: CheckContext) -> None:
    raw = list(ctx.card.capabilities)
    known = set(card_pb2.RouterCapability.values()) - {card_pb2.ROUTER_CAPABILITY_UNSPECIFIED}
    ctx.expect(
        "RM-CARD-006",
        all(c in known for c in raw) and len(set(raw)) == len(raw),
        f"capabilities are known values without repeats: {raw}",
    )
    for name in ("EXECUTE", "DRY_RUN", "HANDOFF_MESSAGES", "SIDE_REQUESTS", "ESCALATION"):
        _request_capability(ctx, name)
    if not ctx.recorded("RM-CORE-003"):
        ctx.passed("RM-CORE-003", "the router claims every capability a request can ask for")


@check("discovery", "Decisions carry wall-clock time", ("RM-CONF-003",))
def wall_clock(ctx: CheckContext) -> None:
    prompt = Prompt.of([100])
    before = time.time()
    _, first = fresh_route(ctx, "chat", prompt, difficulty=0.0)
    time.sleep(1.0)
    _, second = fresh_route(ctx, "chat", prompt, difficulty=0.0)
    after = time.time()
    t1 = first.created_at.ToMilliseconds() / 1000
    t2 = second.created_at.ToMilliseconds() / 1000
    ctx.expect(
        "RM-CONF-003",
        before - 60 <= t1 <= after + 60,
        f"created_at {t1:.3f} is within a minute of the suite's clock {before:.3f}",
    )
    ctx.expect("RM-CONF-003", GAP_MIN_S <= t2 - t1 <= GAP_MAX_S, f"two decisions 1 s apart are {t2 - t1:.3f} s apart")
