"""Limits from the card: oversized requests and every per-field limit, just under and just over (spec 5.3)."""

from __future__ import annotations

import grpc

from rolemodel.v1 import conversation_pb2, hints_pb2, router_service_pb2
from rolemodel_conformance.builders import Prompt, route_request, user
from rolemodel_conformance.checks import check
from rolemodel_conformance.checks.helpers import expect_refusal
from rolemodel_conformance.context import CheckContext
from rolemodel_conformance.probe import RouterRefusal

#: Requests above this are not sent: a card may state any limit, the suite's memory is not unlimited.
LARGEST_SENT = 64 * 1024 * 1024
#: Conversations longer than this are not built for the max_messages check.
MOST_MESSAGES_BUILT = 100_000


def _sized_request(ctx: CheckContext, size: int) -> router_service_pb2.RouteRequest:
    """A valid chat request whose serialised size is exactly ``size`` bytes (text parts within max_text_bytes)."""
    limits = ctx.card.limits
    part_limit = max(1, min(limits.max_text_bytes, 4 * 1024 * 1024))
    request = route_request(
        conversation_pb2.ConversationRef(conversation_id=ctx.ids.conversation("size")),
        hints_pb2.RoutingHints(role="chat", difficulty=0.9),
        dry_run=ctx.claims("ROUTER_CAPABILITY_DRY_RUN"),
    )
    canary = ctx.canary()
    while request.ByteSize() < size:
        missing = size - request.ByteSize()
        body = (canary + " " + "x" * part_limit)[: min(part_limit, max(1, missing - 16))]
        ref = request.conversation.messages.add(token_count=10)
        ref.message.CopyFrom(user(body))
        overshoot = request.ByteSize() - size
        if overshoot > 0:
            text = ref.message.parts[0].text
            text.text = text.text[: max(1, len(text.text) - overshoot)]
            if request.ByteSize() > size:  # a shorter length prefix can shift the size by a byte
                text.text = text.text[:-1]
    return request


@check("limits", "A request over max_request_bytes is refused precisely, or by the transport", ("RM-HINT-010",))
def request_too_large(ctx: CheckContext) -> None:
    limit = ctx.card.limits.max_request_bytes
    if limit + 4096 > LARGEST_SENT:
        ctx.not_testable("RM-HINT-010", f"max_request_bytes {limit} is above what the suite sends ({LARGEST_SENT})")
        return
    request = _sized_request(ctx, limit + 4096)
    try:
        ctx.probe.route(request, timeout_s=60.0)
        ctx.failed("RM-HINT-010", f"a request of {request.ByteSize()} bytes (limit {limit}) was decided")
    except RouterRefusal as refusal:
        transport = refusal.code == grpc.StatusCode.RESOURCE_EXHAUSTED and refusal.info is None
        precise = refusal.code == grpc.StatusCode.RESOURCE_EXHAUSTED and refusal.reason == "REQUEST_TOO_LARGE"
        ctx.expect(
            "RM-HINT-010",
            precise or transport,
            f"a request of {request.ByteSize()} bytes over the {limit}-byte limit: RESOURCE_EXHAUSTED with "
            f"REQUEST_TOO_LARGE or a transport refusal; got {refusal}",
        )
        if precise:
            ctx.expect_equal(
                "RM-HINT-010", "metadata max_request_bytes", refusal.metadata.get("max_request_bytes"), str(limit)
            )


@check("limits", "The transport accepts requests up to max_request_bytes", ("RM-HINT-012",))
def transport_accepts_the_limit(ctx: CheckContext) -> None:
    limit = ctx.card.limits.max_request_bytes
    if limit > LARGEST_SENT:
        ctx.not_testable("RM-HINT-012", f"max_request_bytes {limit} is above what the suite sends ({LARGEST_SENT})")
        return
    request = _sized_request(ctx, limit - 1024)
    try:
        ctx.probe.route(request, timeout_s=60.0)
        ctx.passed("RM-HINT-012", f"a request of {request.ByteSize()} bytes (limit {limit}) reaches the router")
    except RouterRefusal as refusal:
        ctx.expect(
            "RM-HINT-012",
            refusal.info is not None,
            f"a request of {request.ByteSize()} bytes (limit {limit}) must not be refused by the transport: {refusal}",
        )


def _route_or_refusal(ctx: CheckContext, request: router_service_pb2.RouteRequest) -> RouterRefusal | None:
    try:
        ctx.probe.route(request, timeout_s=60.0)
    except RouterRefusal as refusal:
        return refusal
    return None


def _at_and_over(
    ctx: CheckContext, what: str, at: router_service_pb2.RouteRequest, over: router_service_pb2.RouteRequest, path: str
) -> None:
    refusal = _route_or_refusal(ctx, at)
    ctx.expect(
        "RM-HINT-011", refusal is None, f"{what} at the limit is accepted" + (f"; got {refusal}" if refusal else "")
    )
    expect_refusal(
        ctx,
        "RM-HINT-011",
        f"{what} one over the limit",
        lambda: ctx.probe.route(over, timeout_s=60.0),
        grpc.StatusCode.INVALID_ARGUMENT,
        "REQUEST_INVALID",
        fields=(path,),
    )


@check(
    "limits", "Messages, short strings, text parts and labels beyond the card's limits are violations", ("RM-HINT-011",)
)
def field_limits(ctx: CheckContext) -> None:
    limits = ctx.card.limits
    dry = ctx.claims("ROUTER_CAPABILITY_DRY_RUN")

    def chat(
        prompt: conversation_pb2.ConversationRef, labels: dict[str, str] | None = None, difficulty: float | None = None
    ) -> router_service_pb2.RouteRequest:
        routing = hints_pb2.RoutingHints(role="chat", labels=labels, difficulty=difficulty)
        return route_request(prompt, routing, dry_run=dry)

    if limits.max_messages <= MOST_MESSAGES_BUILT:
        counts = [1] * limits.max_messages
        _at_and_over(
            ctx,
            f"{limits.max_messages} messages",
            chat(Prompt.of(counts).ref(ctx.ids.conversation("limits"))),
            chat(Prompt.of([*counts, 1]).ref(ctx.ids.conversation("limits"))),
            "conversation.messages",
        )
    else:
        ctx.not_testable("RM-HINT-011", f"max_messages {limits.max_messages} is above what the suite builds")
    short = limits.max_string_bytes
    _at_and_over(
        ctx,
        f"a label value of {short} bytes",
        chat(Prompt.of([10]).ref(ctx.ids.conversation("limits")), labels={"k": "v" * short}),
        chat(Prompt.of([10]).ref(ctx.ids.conversation("limits")), labels={"k": "v" * (short + 1)}),
        "hints.labels",
    )
    labels = {f"l{i}": "v" for i in range(limits.max_labels)}
    _at_and_over(
        ctx,
        f"{limits.max_labels} labels",
        chat(Prompt.of([10]).ref(ctx.ids.conversation("limits")), labels=labels),
        chat(Prompt.of([10]).ref(ctx.ids.conversation("limits")), labels={**labels, "extra": "v"}),
        "hints.labels",
    )
    text_limit = limits.max_text_bytes
    if text_limit + 4096 >= min(limits.max_request_bytes, LARGEST_SENT):
        ctx.not_testable(
            "RM-HINT-011", f"a text part over max_text_bytes ({text_limit}) would exceed the request limit"
        )
        return

    def text_request(size: int) -> router_service_pb2.RouteRequest:
        body = (ctx.canary() + " " + "t" * size)[:size]
        ref = conversation_pb2.ConversationRef(conversation_id=ctx.ids.conversation("limits"))
        ref.messages.add(token_count=100).message.CopyFrom(user(body))
        return chat(ref, difficulty=0.9)

    _at_and_over(
        ctx,
        f"a text part of {text_limit} bytes",
        text_request(text_limit),
        text_request(text_limit + 1),
        "conversation.messages[0]",
    )
