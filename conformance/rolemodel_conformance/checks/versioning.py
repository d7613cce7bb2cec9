"""Versioning: the rolemodel-version header, checked first and in one place; unknown fields (spec 2.1, 2.2)."""

from __future__ import annotations

import contextlib
import functools
from collections.abc import Callable

import grpc

from rolemodel.v1 import hints_pb2, router_service_pb2
from rolemodel.versions import parse_version
from rolemodel_conformance.builders import Prompt, outcome, pin, route_request, usage
from rolemodel_conformance.checks import check
from rolemodel_conformance.checks.helpers import expect_refusal, fresh_route, probe_route
from rolemodel_conformance.context import CheckContext
from rolemodel_conformance.expectations import candidate
from rolemodel_conformance.probe import RouterRefusal

#: Outside spec 2.1's grammar: no minor, a prefix, a patch, words, leading zeros, five digits, and a long
#: value whose echo must be cut to its first 32 characters.
MALFORMED = ("1", "v1.0", "1.0.0", "one.zero", "1.x", "01.0", "1.00", "10000.0", "1." + "1" * 40)
ECHOED_CHARACTERS = 32
FAILED_PRECONDITION = grpc.StatusCode.FAILED_PRECONDITION


def _supported(ctx: CheckContext) -> str:
    return ",".join(ctx.card.supported_versions)


def _unserved(ctx: CheckContext) -> list[str]:
    """Well-formed versions the card does not list: a far major, and the minor after the newest."""
    listed = {parse_version(v) for v in ctx.card.supported_versions}
    newest = max(listed) if listed else parse_version("1.0")
    candidates = ["99.0", f"{newest.major}.{newest.minor + 1}"]
    return [v for v in candidates if parse_version(v) not in listed]


def _valid_route(ctx: CheckContext) -> router_service_pb2.RouteRequest:
    return route_request(Prompt.of([300]).ref(ctx.ids.conversation("version")), hints_pb2.RoutingHints(role="chat"))


@check("versioning", "A call without the version header is refused", ("RM-VER-002",))
def missing_version(ctx: CheckContext) -> None:
    supported = {"supported_versions": _supported(ctx)}
    expect_refusal(
        ctx,
        "RM-VER-002",
        "Route without rolemodel-version",
        lambda: ctx.probe.route(_valid_route(ctx), version=None),
        FAILED_PRECONDITION,
        "PROTOCOL_VERSION_REQUIRED",
        metadata=supported,
    )
    _, decision = fresh_route(ctx, "chat", Prompt.of([300]))
    report = outcome(decision.decision_id, decision.chosen_endpoint_id, ctx.ids.key(), used=usage(300, 10))
    expect_refusal(
        ctx,
        "RM-VER-002",
        "ReportOutcome without rolemodel-version",
        lambda: ctx.probe.report(report, version=None),
        FAILED_PRECONDITION,
        "PROTOCOL_VERSION_REQUIRED",
        metadata=supported,
    )


@check("versioning", "Malformed and unserved versions are refused with the supported list", ("RM-VER-003",))
def unsupported_version(ctx: CheckContext) -> None:
    for version in (*MALFORMED, *_unserved(ctx)):
        expect_refusal(
            ctx,
            "RM-VER-003",
            f"Route with rolemodel-version {version!r}",
            functools.partial(ctx.probe.route, _valid_route(ctx), version=version),
            FAILED_PRECONDITION,
            "UNSUPPORTED_PROTOCOL_VERSION",
            metadata={"requested_version": version[:ECHOED_CHARACTERS], "supported_versions": _supported(ctx)},
        )


@check("versioning", "The version is checked before validation and before any state changes", ("RM-VER-004",))
def version_before_everything(ctx: CheckContext) -> None:
    invalid = route_request(
        Prompt.of([100]).ref(ctx.ids.conversation("version")),
        hints_pb2.RoutingHints(role="x-nobody.unknown", difficulty=7.0),
    )
    expect_refusal(
        ctx,
        "RM-VER-004",
        "an invalid Route without a version is refused for the version",
        lambda: ctx.probe.route(invalid, version=None),
        FAILED_PRECONDITION,
        "PROTOCOL_VERSION_REQUIRED",
    )
    expect_refusal(
        ctx,
        "RM-VER-004",
        "an invalid Route with version 99.0 is refused for the version",
        lambda: ctx.probe.route(invalid, version="99.0"),
        FAILED_PRECONDITION,
        "UNSUPPORTED_PROTOCOL_VERSION",
    )
    conversation = ctx.ids.conversation("version-state")
    prompt = Prompt.of([2000])
    pinned = hints_pb2.RoutingHints(role="code.edit", endpoint_choice=pin("fx-gpt5"))
    refused = route_request(prompt.ref(conversation), pinned)
    with contextlib.suppress(RouterRefusal):
        ctx.probe.route(refused, version="99.0")
    after = probe_route(ctx, conversation, prompt.extend([100]), hints_pb2.RoutingHints(role="code.edit"), turn=1)
    gpt5 = candidate(after, "fx-gpt5")
    ctx.expect(
        "RM-VER-004",
        not after.policy.current_endpoint_id and not (gpt5 and gpt5.cache.held_tokens),
        "a Route refused for its version leaves no current endpoint and no cache entry; got current "
        f"{after.policy.current_endpoint_id!r}, held {gpt5.cache.held_tokens if gpt5 else 0}",
    )
    _, decision = fresh_route(ctx, "chat", Prompt.of([300]))
    report = outcome(decision.decision_id, decision.chosen_endpoint_id, ctx.ids.key(), used=usage(300, 10))
    with contextlib.suppress(RouterRefusal):
        ctx.probe.report(report, version="99.0")
    response = ctx.probe.report(report)
    ctx.expect(
        "RM-VER-004",
        not response.replayed,
        "after an outcome refused for its version, the same outcome is applied as new, not replayed",
    )


@check("versioning", "GetRouterCard answers with or without any version header", ("RM-VER-005",), needs_profile=False)
def card_with_any_version(ctx: CheckContext) -> None:
    for version in (None, ctx.probe.connection.version, "99.0", "garbage"):
        try:
            card = ctx.probe.card(version=version)
            ctx.expect("RM-VER-005", bool(card.supported_versions), f"GetRouterCard with version {version!r} answers")
        except RouterRefusal as refusal:
            ctx.failed("RM-VER-005", f"GetRouterCard with version {version!r} was refused: {refusal}")


@check("versioning", "Every RPC refuses a missing or unsupported version the same way", ("RM-VER-006",))
def version_in_one_place(ctx: CheckContext) -> None:
    _, decision = fresh_route(ctx, "chat", Prompt.of([300]))
    report = outcome(decision.decision_id, decision.chosen_endpoint_id, ctx.ids.key(), used=usage(300, 10))
    calls: dict[str, Callable[[str | None], object]] = {
        "Route": lambda v: ctx.probe.route(_valid_route(ctx), version=v),
        "ReportOutcome": lambda v: ctx.probe.report(report, version=v),
    }
    if ctx.claims("ROUTER_CAPABILITY_EXECUTE"):
        execute = router_service_pb2.ExecuteRequest(
            conversation=_valid_route(ctx).conversation, hints=hints_pb2.RoutingHints(role="chat")
        )
        calls["Execute"] = lambda v: ctx.probe.execute_or_raise(execute, version=v)
    for version in (None, "99.0"):
        seen: dict[str, tuple[str, str, str]] = {}
        for rpc, call in calls.items():
            try:
                call(version)
                seen[rpc] = ("OK", "", "")
            except RouterRefusal as refusal:
                seen[rpc] = (refusal.code.name, refusal.reason, refusal.metadata.get("supported_versions", ""))
        ctx.expect(
            "RM-VER-006",
            len(set(seen.values())) == 1 and "OK" not in next(iter(seen.values())),
            f"version {version!r}: every RPC answers alike, as one check point would: {seen}",
        )


def _varint(value: int) -> bytes:
    out = bytearray()
    while True:
        byte = value & 0x7F
        value >>= 7
        if value:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)


def unknown_field(number: int, value: int) -> bytes:
    """A varint field with a number no rolemodel.v1 message uses."""
    return _varint(number << 3) + _varint(value)


def nested(number: int, payload: bytes) -> bytes:
    return _varint((number << 3) | 2) + _varint(len(payload)) + payload


@check("versioning", "Unknown fields in a request are ignored", ("RM-VER-012",))
def unknown_fields_ignored(ctx: CheckContext) -> None:
    prompt = Prompt.of([300])
    conversation = prompt.ref(ctx.ids.conversation("unknown-fields")).SerializeToString()
    hints = hints_pb2.RoutingHints(role="chat", difficulty=0.0).SerializeToString() + unknown_field(4242, 7)
    payload = nested(1, conversation + unknown_field(4343, 1)) + nested(2, hints) + unknown_field(4444, 9)
    try:
        decided = ctx.probe.raw("Route", payload, router_service_pb2.RouteResponse).decision
        ctx.expect(
            "RM-VER-012",
            bool(decided.chosen_endpoint_id),
            "a RouteRequest with unknown fields (top level, hints, conversation) is decided",
        )
    except RouterRefusal as refusal:
        ctx.failed("RM-VER-012", f"a RouteRequest with unknown fields was refused: {refusal}")
        return
    report = outcome(decided.decision_id, decided.chosen_endpoint_id, ctx.ids.key(), used=usage(300, 5))
    body = router_service_pb2.ReportOutcomeRequest(outcome=report).SerializeToString() + unknown_field(4545, 3)
    try:
        ctx.probe.raw("ReportOutcome", body, router_service_pb2.ReportOutcomeResponse)
        ctx.passed("RM-VER-012", "a ReportOutcomeRequest with an unknown field is applied")
    except RouterRefusal as refusal:
        ctx.failed("RM-VER-012", f"a ReportOutcomeRequest with an unknown field was refused: {refusal}")
