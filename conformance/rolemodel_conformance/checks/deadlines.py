"""Deadlines: a call whose deadline passed must not leave a decision's effects behind (spec 11.3).

A router may legitimately finish a call just before its deadline while the
answer arrives just after it, so the check does not forbid every effect: it
forbids effects applied *after* the deadline. The request is cheap to send and
slow to validate (thousands of short messages with content, whose digests and
token estimates the router must compute) and is pinned to fx-gpt5. The check
first times how long the router takes to decide it, then sends it with a
deadline of a quarter of that. If the conversation afterwards shows fx-gpt5's
entry, the entry's expiry minus the TTL is the decision time on the router's
clock, whose offset from the suite's clock is measured first; a decision
after the deadline is a violation. A decision stored at all, even before the
deadline, means the router committed with less than a margin left for
answering (RM-ERR-022, a SHOULD): with a deadline of a quarter of the time the
router needs, a router that checks the time left after deciding stores nothing.
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

ATTEMPTS = 3
MOST_MESSAGES = 4000
#: The deadline is this fraction of the time the router takes to decide the request without one.
DEADLINE_SHARE = 0.25
SHORTEST_DEADLINE_S = 0.005
#: Added to the clock-offset uncertainty before a decision counts as late.
SLACK_MS = 5.0
#: Token count sent for each message; client counts win over the estimate (RM-CONV-010).
COUNT = 10


def _clock_offset(ctx: CheckContext) -> tuple[float, float]:
    """(router clock - suite clock, uncertainty) in ms, from one quick decision."""
    sent = time.time() * 1000
    decision = probe_route(ctx, ctx.ids.conversation("clock"), Prompt.of([10]), hints_pb2.RoutingHints(role="chat"))
    received = time.time() * 1000
    middle = (sent + received) / 2
    return decision.created_at.ToMilliseconds() - middle, (received - sent) / 2


def _messages(ctx: CheckContext) -> list[conversation_pb2.Message]:
    count = max(1, min(MOST_MESSAGES, ctx.card.limits.max_messages))
    marker = ctx.canary()
    return [user(f"{marker} message {i} of a long and slow conversation") for i in range(count)]


def _content(conversation: str, messages: list[conversation_pb2.Message]) -> conversation_pb2.ConversationRef:
    ref = conversation_pb2.ConversationRef(conversation_id=conversation)
    for message in messages:
        ref.messages.add(token_count=COUNT).message.CopyFrom(message)
    return ref


def _time_to_decide(ctx: CheckContext, messages: list[conversation_pb2.Message], offset: float) -> float:
    """Seconds from sending the request to the router's decision time, without a deadline."""
    routing = hints_pb2.RoutingHints(role="code.edit", endpoint_choice=pin("fx-gpt5"))
    dry = ctx.claims("ROUTER_CAPABILITY_DRY_RUN")
    started = time.time() * 1000
    decision = ctx.probe.route(
        route_request(_content(ctx.ids.conversation("deadline-timing"), messages), routing, dry_run=dry), timeout_s=60
    )
    return max(0.0, decision.created_at.ToMilliseconds() - offset - started) / 1000


@check("deadlines", "No effects are applied after a call's deadline passed", ("RM-ERR-020", "RM-ERR-022"))
def passed_deadline(ctx: CheckContext) -> None:
    # Whether a timed-out call left any effect shows in the conversation's current endpoint on every router;
    # when it did, only the expiry of its cache entry (with cache accounting) tells when the effect was applied.
    accounting = ctx.claims("ROUTER_CAPABILITY_CACHE_ACCOUNTING")
    offset, uncertainty = _clock_offset(ctx)
    ttl_ms = ctx.fixture.endpoints["fx-gpt5"].caching.ttl_seconds * 1000
    messages = _messages(ctx)
    probe = Prompt(tuple(digest_chain(messages)), tuple(COUNT for _ in messages))
    routing = hints_pb2.RoutingHints(role="code.edit", endpoint_choice=pin("fx-gpt5"))
    deadline_s = max(SHORTEST_DEADLINE_S, _time_to_decide(ctx, messages, offset) * DEADLINE_SHARE)
    inconclusive: list[str] = []
    for attempt in range(ATTEMPTS):
        conversation = ctx.ids.conversation("deadline")
        started = time.time() * 1000
        try:
            ctx.probe.route(route_request(_content(conversation, messages), routing), timeout_s=deadline_s)
            inconclusive.append(f"attempt {attempt}: the router answered within {deadline_s * 1000:.0f} ms")
            deadline_s = max(SHORTEST_DEADLINE_S, deadline_s / 2)
            continue
        except RouterRefusal as refusal:
            ctx.expect(
                "RM-ERR-020",
                refusal.code == grpc.StatusCode.DEADLINE_EXCEEDED,
                f"attempt {attempt}: a {deadline_s * 1000:.0f} ms deadline ends in DEADLINE_EXCEEDED: {refusal}",
            )
        deadline_router_ms = started + deadline_s * 1000 + offset
        time.sleep(0.2)
        after = probe_route(ctx, conversation, probe, hints_pb2.RoutingHints(role="code.edit"), turn=1)
        entry = view(after, "fx-gpt5")
        if not entry.held and not after.policy.current_endpoint_id:
            ctx.passed("RM-ERR-020", f"attempt {attempt}: the timed-out call left no effect")
            ctx.passed("RM-ERR-022", f"attempt {attempt}: the timed-out call left no effect")
            continue
        ctx.failed("RM-ERR-022", f"attempt {attempt}: a call answered DEADLINE_EXCEEDED left its decision's effects")
        if not accounting:
            inconclusive.append(f"attempt {attempt}: the call left effects; only cache accounting dates them")
            continue
        late = entry.expires_ms - ttl_ms - deadline_router_ms
        ctx.expect(
            "RM-ERR-020",
            late <= uncertainty + SLACK_MS,
            f"attempt {attempt}: effects of a decision made {late:+.0f} ms after the deadline "
            f"(clock uncertainty {uncertainty:.0f} ms)",
        )
    for requirement in ("RM-ERR-020", "RM-ERR-022"):
        if not ctx.recorded(requirement):
            ctx.not_testable(requirement, "; ".join(inconclusive))
