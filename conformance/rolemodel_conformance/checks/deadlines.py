"""Deadlines: a call whose deadline passed must not leave a decision's effects behind (spec 11.3).

A router may legitimately finish a call just before its deadline while the
answer arrives just after it, so the check does not forbid every effect: it
forbids effects applied *after* the deadline. A request large enough that
validating it takes far longer than its 5 ms deadline is pinned to fx-gpt5;
if the conversation afterwards shows fx-gpt5's entry, the entry's expiry minus
the TTL tells when the effects were applied, on the router's clock, whose
offset from the suite's clock is measured first.
"""

from __future__ import annotations

import time

import grpc

from rolemodel.digest import digest_chain
from rolemodel.v1 import conversation_pb2, hints_pb2
from rolemodel_conformance.builders import Prompt, pin, route_request, user
from rolemodel_conformance.checks import check
from rolemodel_conformance.checks.cache import view
from rolemodel_conformance.checks.helpers import probe_route
from rolemodel_conformance.context import CheckContext
from rolemodel_conformance.probe import RouterRefusal

DEADLINE_S = 0.005
ATTEMPTS = 3
PART_BYTES = 1_500_000
PARTS = 4
#: Added to the clock-offset uncertainty before an effect counts as late.
SLACK_MS = 20.0
#: Token count sent for each large message; client counts win over the estimate (RM-CONV-010).
COUNT = 1000


def _clock_offset(ctx: CheckContext) -> tuple[float, float]:
    """(router clock - suite clock, uncertainty) in ms, from one quick decision."""
    sent = time.time() * 1000
    decision = probe_route(ctx, ctx.ids.conversation("clock"), Prompt.of([10]), hints_pb2.RoutingHints(role="chat"))
    received = time.time() * 1000
    middle = (sent + received) / 2
    return decision.created_at.ToMilliseconds() - middle, (received - sent) / 2


def _messages(ctx: CheckContext) -> list[conversation_pb2.Message]:
    return [user((ctx.canary() + " " + "d" * PART_BYTES)[:PART_BYTES]) for _ in range(PARTS)]


def _digest_only(messages: list[conversation_pb2.Message]) -> Prompt:
    """The same prompt by digests, with small client counts so that it fits every context window."""
    return Prompt(tuple(digest_chain(messages)), tuple(COUNT for _ in messages))


@check("deadlines", "No effects are applied after a call's deadline passed", ("RM-ERR-020",))
def passed_deadline(ctx: CheckContext) -> None:
    ctx.require_capability("ROUTER_CAPABILITY_CACHE_ACCOUNTING", "when a decision's effects were applied")
    offset, uncertainty = _clock_offset(ctx)
    ttl_ms = ctx.fixture.endpoints["fx-gpt5"].caching.ttl_seconds * 1000
    messages = _messages(ctx)
    prompt = _digest_only(messages)
    routing = hints_pb2.RoutingHints(role="code.edit", endpoint_choice=pin("fx-gpt5"))
    for attempt in range(ATTEMPTS):
        conversation = ctx.ids.conversation("deadline")
        ref = conversation_pb2.ConversationRef(conversation_id=conversation)
        for message, count in zip(messages, prompt.counts, strict=True):
            ref.messages.add(token_count=count).message.CopyFrom(message)
        started = time.time() * 1000
        try:
            ctx.probe.route(route_request(ref, routing), timeout_s=DEADLINE_S)
            ctx.not_testable("RM-ERR-020", f"attempt {attempt}: the router answered within {DEADLINE_S * 1000:g} ms")
            continue
        except RouterRefusal as refusal:
            ctx.expect(
                "RM-ERR-020",
                refusal.code == grpc.StatusCode.DEADLINE_EXCEEDED,
                f"attempt {attempt}: a {DEADLINE_S * 1000:g} ms deadline ends in DEADLINE_EXCEEDED: {refusal}",
            )
        deadline_router_ms = started + DEADLINE_S * 1000 + offset
        time.sleep(0.2)
        after = probe_route(ctx, conversation, prompt, hints_pb2.RoutingHints(role="code.edit"), turn=1)
        entry = view(after, "fx-gpt5")
        if not entry.held and not after.policy.current_endpoint_id:
            ctx.passed("RM-ERR-020", f"attempt {attempt}: the timed-out call left no effect")
            continue
        applied = entry.expires_ms - ttl_ms
        late = applied - deadline_router_ms
        ctx.expect(
            "RM-ERR-020",
            late <= uncertainty + SLACK_MS,
            f"attempt {attempt}: effects were applied {late:+.0f} ms after the deadline (clock uncertainty "
            f"{uncertainty:.0f} ms)",
        )
