"""Small helpers shared by checks: expecting a refusal, matching field paths, fresh conversations."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

import grpc

from rolemodel.v1 import decision_pb2, hints_pb2, router_service_pb2
from rolemodel_conformance.builders import Prompt, route_request
from rolemodel_conformance.context import CheckContext
from rolemodel_conformance.probe import RouterRefusal, describe


def names_field(refusal: RouterRefusal, path: str) -> bool:
    """Whether a violation names ``path`` or a field inside it (``path.x``, ``path[3]``)."""
    return any(f == path or f.startswith((path + ".", path + "[")) for f in refusal.fields)


def expect_refusal(
    ctx: CheckContext,
    requirement: str,
    what: str,
    call: Callable[[], object],
    code: grpc.StatusCode,
    reason: str,
    *,
    fields: Sequence[str] = (),
    metadata: Mapping[str, str] = {},
) -> RouterRefusal | None:
    """Call and expect a refusal with ``code`` and ``reason``, naming ``fields``, carrying ``metadata`` values.

    Records one observation for ``requirement``; returns the refusal, or None when the call succeeded.
    """
    try:
        call()
    except RouterRefusal as refusal:
        problems = []
        if refusal.code != code:
            problems.append(f"code {refusal.code.name}, expected {code.name}")
        if refusal.reason != reason:
            problems.append(f"reason {refusal.reason or 'none'}, expected {reason}")
        problems += [f"no field violation for {f}" for f in fields if not names_field(refusal, f)]
        for key, value in metadata.items():
            got = refusal.metadata.get(key)
            if got != value:
                problems.append(f"metadata {key}={got!r}, expected {value!r}")
        detail = describe(refusal)
        ctx.expect(
            requirement,
            not problems,
            f"{what}: " + ("; ".join(problems) + f" (got {detail})" if problems else f"refused as required ({detail})"),
        )
        return refusal
    ctx.failed(requirement, f"{what}: expected {code.name} with reason {reason}, but the call succeeded")
    return None


def fresh_route(
    ctx: CheckContext,
    role: str,
    prompt: Prompt,
    *,
    label: str = "conv",
    dry_run: bool = False,
    difficulty: float | None = None,
) -> tuple[str, decision_pb2.Decision]:
    """Route ``prompt`` in a new conversation; returns the conversation id and the decision."""
    conversation_id = ctx.ids.conversation(label)
    routing = hints_pb2.RoutingHints(role=role, difficulty=difficulty)
    decision = ctx.probe.route(route_request(prompt.ref(conversation_id), routing, dry_run=dry_run))
    return conversation_id, decision


def route(
    ctx: CheckContext,
    conversation_id: str,
    prompt: Prompt,
    routing: hints_pb2.RoutingHints,
    *,
    turn: int = 0,
    dry_run: bool = False,
    tool_call_pending: bool = False,
) -> decision_pb2.Decision:
    request = route_request(prompt.ref(conversation_id, turn, tool_call_pending), routing, dry_run=dry_run)
    return ctx.probe.route(request)


def probe_route(
    ctx: CheckContext, conversation_id: str, prompt: Prompt, routing: hints_pb2.RoutingHints, *, turn: int = 0
) -> decision_pb2.Decision:
    """A decision that shows the conversation's state without changing it, as far as the router allows.

    A dry run when the router claims it. Else an isolated side request when the
    router claims those: it changes no state but one, the expiry of an entry it
    hits on an endpoint that refreshes on hit (RM-SIDE-002, RM-CACHE-011), which
    ``expiry_after_probe`` accounts for. Else a real route, which is recorded;
    checks that use it probe last.
    """
    if ctx.claims("ROUTER_CAPABILITY_DRY_RUN"):
        return route(ctx, conversation_id, prompt, routing, turn=turn, dry_run=True)
    if ctx.claims("ROUTER_CAPABILITY_SIDE_REQUESTS"):
        isolated = hints_pb2.RoutingHints()
        isolated.CopyFrom(routing)
        isolated.side_request.merge_back = False
        return route(ctx, conversation_id, prompt, isolated, turn=turn)
    return route(ctx, conversation_id, prompt, routing, turn=turn)


def probe_refreshes(ctx: CheckContext) -> bool:
    """Whether ``probe_route`` itself refreshes the entries it hits on refresh-on-hit endpoints."""
    return not ctx.claims("ROUTER_CAPABILITY_DRY_RUN") and ctx.claims("ROUTER_CAPABILITY_SIDE_REQUESTS")


def request_of(
    prompt: Prompt, conversation_id: str, routing: hints_pb2.RoutingHints
) -> router_service_pb2.RouteRequest:
    return route_request(prompt.ref(conversation_id), routing)
