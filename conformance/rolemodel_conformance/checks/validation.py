"""Validation: unknown names, field violations in one BadRequest, and no state change on refusal (spec 5.1, 5.2)."""

from __future__ import annotations

import contextlib
import math
from collections.abc import Callable

import grpc

from rolemodel.v1 import common_pb2, hints_pb2, router_service_pb2
from rolemodel_conformance.builders import Prompt, avoid, pin, route_request
from rolemodel_conformance.checks import check
from rolemodel_conformance.checks.helpers import expect_refusal, probe_route
from rolemodel_conformance.context import CheckContext, NotObservable
from rolemodel_conformance.expectations import candidate
from rolemodel_conformance.probe import RouterRefusal

INVALID = grpc.StatusCode.INVALID_ARGUMENT


def _request(ctx: CheckContext, routing: hints_pb2.RoutingHints, tokens: int = 300) -> router_service_pb2.RouteRequest:
    return route_request(Prompt.of([tokens]).ref(ctx.ids.conversation("validation")), routing)


def _refuse(
    ctx: CheckContext,
    requirement: str,
    what: str,
    request: router_service_pb2.RouteRequest,
    reason: str,
    fields: tuple[str, ...] = (),
    metadata: dict[str, str] | None = None,
) -> RouterRefusal | None:
    return expect_refusal(
        ctx,
        requirement,
        what,
        lambda: ctx.probe.route(request),
        INVALID,
        reason,
        fields=fields,
        metadata=metadata or {},
    )


@check("validation", "An unknown role is refused with UNKNOWN_ROLE", ("RM-HINT-001",))
def unknown_role(ctx: CheckContext) -> None:
    request = _request(ctx, hints_pb2.RoutingHints(role="x-conformance.absent"))
    _refuse(
        ctx,
        "RM-HINT-001",
        "role 'x-conformance.absent'",
        request,
        "UNKNOWN_ROLE",
        ("hints.role",),
        {"role": "x-conformance.absent"},
    )
    both = _request(ctx, hints_pb2.RoutingHints(role="x-conformance.absent", endpoint_choice=pin("fx-absent")))
    _refuse(
        ctx,
        "RM-HINT-001",
        "role 'x-conformance.absent' and pinned endpoint 'fx-absent', both unknown: the role wins (spec 5.2)",
        both,
        "UNKNOWN_ROLE",
        ("hints.role", "hints.endpoint_choice.pinned_endpoint_id"),
        {"role": "x-conformance.absent"},
    )


@check("validation", "Every field violation is in one BadRequest with its path", ("RM-HINT-002",))
def all_violations_at_once(ctx: CheckContext) -> None:
    routing = hints_pb2.RoutingHints(
        role="chat",
        difficulty=2.0,
        limits=hints_pb2.TurnLimits(max_cost_picos=-1),
        endpoint_choice=hints_pb2.EndpointChoice(pinned_endpoint_id="fx-mini", avoid_endpoint_ids=["fx-mini"]),
    )
    routing.strategy = common_pb2.Strategy.ValueType(99)
    request = _request(ctx, routing)
    request.conversation.conversation_id = "not a valid id"
    fields = (
        "hints.difficulty",
        "hints.limits.max_cost_picos",
        "hints.strategy",
        "hints.endpoint_choice",
        "conversation.conversation_id",
    )
    refusal = _refuse(ctx, "RM-HINT-002", "five violations in one request", request, "REQUEST_INVALID", fields)
    if refusal is not None:
        empty = [v.field for v in refusal.violations if not v.description.strip()]
        ctx.expect("RM-HINT-002", not empty, f"every violation has a description; these have none: {empty}")
        paths = [v.field for v in refusal.violations]
        ctx.expect("RM-HINT-002", all(p and " " not in p for p in paths), f"paths are dotted field paths: {paths}")
    too_long = "v" * (ctx.card.limits.max_string_bytes + 1)
    labelled = _request(ctx, hints_pb2.RoutingHints(role="chat", labels={"team": "ok", "owner": too_long}))
    refusal = _refuse(ctx, "RM-HINT-002", "a label value over the limit", labelled, "REQUEST_INVALID")
    if refusal is not None:
        ctx.expect(
            "RM-HINT-002",
            refusal.fields == ['hints.labels["owner"]'],
            f'a map entry is named by its key as a JSON string, hints.labels["owner"]: got {refusal.fields}',
        )


@check("validation", "Unknown names are listed along with other violations", ("RM-HINT-003",))
def unknown_names_with_violations(ctx: CheckContext) -> None:
    routing = hints_pb2.RoutingHints(role="x-conformance.absent", difficulty=1.5)
    refusal = _refuse(
        ctx,
        "RM-HINT-003",
        "unknown role plus a bad difficulty",
        _request(ctx, routing),
        "REQUEST_INVALID",
        ("hints.role", "hints.difficulty"),
    )
    if refusal is not None:
        count = refusal.metadata.get("violation_count", "")
        ctx.expect(
            "RM-HINT-003",
            count == str(len(refusal.violations)),
            f"violation_count {count!r} equals the {len(refusal.violations)} violations listed",
        )
    routing = hints_pb2.RoutingHints(role="chat", endpoint_choice=avoid("fx-absent"), difficulty=-0.5)
    _refuse(
        ctx,
        "RM-HINT-003",
        "unknown avoided endpoint plus a bad difficulty",
        _request(ctx, routing),
        "REQUEST_INVALID",
        ("hints.endpoint_choice.avoid_endpoint_ids", "hints.difficulty"),
    )


def _violation_cases() -> list[tuple[str, Callable[[hints_pb2.RoutingHints], None], str]]:
    def set_field(name: str, value: object) -> Callable[[hints_pb2.RoutingHints], None]:
        return lambda h: setattr(h, name, value)

    def requirement_list(name: str) -> Callable[[hints_pb2.RoutingHints], None]:
        return lambda h: getattr(h.requirements, name).append(99)

    def pinned_and_avoided(h: hints_pb2.RoutingHints) -> None:
        h.endpoint_choice.CopyFrom(
            hints_pb2.EndpointChoice(pinned_endpoint_id="fx-mini", avoid_endpoint_ids=["fx-mini"])
        )

    return [
        ("difficulty 1.5", set_field("difficulty", 1.5), "hints.difficulty"),
        ("difficulty -0.1", set_field("difficulty", -0.1), "hints.difficulty"),
        ("difficulty NaN", set_field("difficulty", math.nan), "hints.difficulty"),
        ("difficulty +inf", set_field("difficulty", math.inf), "hints.difficulty"),
        ("strategy 99", set_field("strategy", 99), "hints.strategy"),
        ("locality 9", set_field("locality", 9), "hints.locality"),
        ("capability 99", requirement_list("capabilities"), "hints.requirements.capabilities"),
        ("modality 99", requirement_list("modalities"), "hints.requirements.modalities"),
        ("max_cost_picos -1", lambda h: setattr(h.limits, "max_cost_picos", -1), "hints.limits.max_cost_picos"),
        ("a pinned endpoint that is also avoided", pinned_and_avoided, "hints.endpoint_choice"),
        ("no role", set_field("role", ""), "hints.role"),
    ]


@check("validation", "Each listed field rule is a violation", ("RM-HINT-004",))
def each_field_rule(ctx: CheckContext) -> None:
    for what, mutate, path in _violation_cases():
        routing = hints_pb2.RoutingHints(role="chat")
        mutate(routing)
        _refuse(ctx, "RM-HINT-004", what, _request(ctx, routing), "REQUEST_INVALID", (path,))


@check("validation", "A pinned or avoided unknown endpoint is refused with UNKNOWN_ENDPOINT", ("RM-HINT-005",))
def unknown_endpoint(ctx: CheckContext) -> None:
    for what, choice, path in (
        ("pinned", pin("fx-absent"), "hints.endpoint_choice.pinned_endpoint_id"),
        ("avoided", avoid("fx-mini", "fx-absent"), "hints.endpoint_choice.avoid_endpoint_ids"),
    ):
        request = _request(ctx, hints_pb2.RoutingHints(role="chat", endpoint_choice=choice))
        _refuse(
            ctx,
            "RM-HINT-005",
            f"{what} 'fx-absent'",
            request,
            "UNKNOWN_ENDPOINT",
            (path,),
            {"endpoint_id": "fx-absent"},
        )


def _quota_used(ctx: CheckContext) -> int:
    """Requests counted on fx-quota's window right now, through a dry run of the quota role."""
    decision = probe_route(
        ctx,
        ctx.ids.conversation("quota-probe"),
        Prompt.of([100]),
        hints_pb2.RoutingHints(role="x-conformance.quota", endpoint_choice=avoid("fx-quota")),
    )
    for state in decision.quota_states:
        if state.quota_id == "fx-quota-window":
            return state.used.requests
    raise NotObservable("a decision of x-conformance.quota reports no state for fx-quota-window")


@check("validation", "Refused requests change no state", ("RM-HINT-006", "RM-ERR-005"))
def refusals_change_nothing(ctx: CheckContext) -> None:
    conversation = ctx.ids.conversation("refused")
    prompt = Prompt.of([3000])
    refused = [
        hints_pb2.RoutingHints(role="code.edit", endpoint_choice=pin("fx-gpt5"), difficulty=2.0),
        hints_pb2.RoutingHints(
            role="code.edit",
            endpoint_choice=hints_pb2.EndpointChoice(pinned_endpoint_id="fx-gpt5", avoid_endpoint_ids=["fx-absent"]),
        ),
        hints_pb2.RoutingHints(role="code.edit", endpoint_choice=pin("fx-gpt5"), locality=common_pb2.LOCALITY_LOCAL),
        hints_pb2.RoutingHints(role="code.edit", locality=common_pb2.LOCALITY_LOCAL),
    ]
    quota_claimed = ctx.claims("ROUTER_CAPABILITY_QUOTA")
    before = _quota_used(ctx) if quota_claimed else 0
    for routing in refused:
        try:
            ctx.probe.route(route_request(prompt.ref(conversation), routing))
            ctx.not_testable("RM-HINT-006", f"expected a refusal for {routing}, but the router decided")
        except RouterRefusal:
            pass
    quota_refusal = hints_pb2.RoutingHints(role="x-conformance.quota", endpoint_choice=avoid("fx-deepseek"))
    quota_refusal.requirements.capabilities.append(common_pb2.CAPABILITY_JSON_SCHEMA)
    with contextlib.suppress(RouterRefusal):
        ctx.probe.route(route_request(prompt.ref(ctx.ids.conversation("refused-quota")), quota_refusal))
    after = probe_route(ctx, conversation, prompt.extend([200]), hints_pb2.RoutingHints(role="code.edit"), turn=1)
    gpt5 = candidate(after, "fx-gpt5")
    held = gpt5.cache.held_tokens if gpt5 is not None else 0
    for requirement in ("RM-HINT-006", "RM-ERR-005"):
        ctx.expect(
            requirement,
            not after.policy.current_endpoint_id and held == 0,
            "after refused routes the conversation has no current endpoint and no cache entry; got "
            f"current {after.policy.current_endpoint_id!r}, fx-gpt5 holding {held}",
        )
        if quota_claimed:
            used = _quota_used(ctx)
            ctx.expect(
                requirement,
                used <= before,
                f"a refused route reserves no quota: fx-quota-window used {before} before, {used} after",
            )
