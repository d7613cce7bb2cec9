"""The state a decision writes at once, before any outcome (spec 6.10, 7.4, 9.6, 9.7).

A main turn assumes the chosen endpoint serves: its cache entry becomes this
prompt, it becomes the conversation's current endpoint, its quotas reserve
the turn, and the share controller counts it. An isolated side request only
reserves quota and may refresh the TTL of an entry it reads. Either takes its
place in the chosen endpoint's cache capacity (spec 7.7), evicting the least
recently used conversations when it is full.
"""

from __future__ import annotations

from dataclasses import replace

from rolemodel.cost import expiry_after_turn
from rolemodel.v1 import decision_pb2
from rolemodel_router.engine import share as share_controller
from rolemodel_router.engine import usage_windows
from rolemodel_router.engine.assemble import reservation
from rolemodel_router.engine.context import DecisionContext
from rolemodel_router.engine.digest_chain import DigestChain
from rolemodel_router.engine.eligibility import Candidate
from rolemodel_router.engine.plans import DecisionPlan
from rolemodel_router.state.model import (
    CACHE_PROVISIONAL,
    CacheEntry,
    ConversationState,
    DecisionRecord,
    QuotaEvent,
    Reservation,
    ShareState,
)


def _conversation(ctx: DecisionContext, chosen: Candidate) -> ConversationState | None:
    conv = ctx.snapshot.conversation
    econ = chosen.index.economics
    previous = conv.cache.get(chosen.endpoint_id)
    cache = dict(conv.cache)
    request = ctx.request
    if request.isolated:
        hit = chosen.costing is not None and chosen.costing.turn.cached_tokens > 0
        if previous is None or not hit or not econ.refresh_on_hit:
            return None
        expires = expiry_after_turn(
            econ, now_ms=ctx.now_ms, previous_expires_ms=previous.expires_at_ms, stored_prefix=False, cache_hit=True
        )
        cache[chosen.endpoint_id] = replace(previous, expires_at_ms=expires)
        return replace(conv, cache=cache)
    digests, held, reply = _held_after(ctx, chosen)
    points = chosen.held_after
    if econ.explicit and chosen.compaction is None:
        # Explicit caching holds the prefixes at the breakpoints it wrote and the ones it still had (7.2.1).
        held, stores = chosen.held_after_tokens, bool(points)
    else:
        stores = econ.caches and held >= econ.min_cacheable_tokens
    if stores:
        cache[chosen.endpoint_id] = CacheEntry(
            digests=digests,
            held_tokens=held,
            reply_tokens=reply,
            expires_at_ms=ctx.now_ms + econ.ttl_seconds * 1000,
            source=CACHE_PROVISIONAL,
            decision_id=ctx.decision_id,
            written_at_ms=ctx.now_ms,
            points=points,
        )
    return replace(
        conv,
        current_endpoint_id=chosen.endpoint_id,
        current_decision_id=ctx.decision_id,
        cache=cache,
        updated_at_ms=ctx.now_ms,
    )


def _held_after(ctx: DecisionContext, chosen: Candidate) -> tuple[DigestChain, int, int]:
    """What the chosen endpoint is assumed to hold after serving: digests, tokens and the reply's tokens.

    A compacted prompt is known to share only its leading system messages with the conversation;
    the router counts only those as held (it underestimates the next hit rather than overestimate it).
    """
    request = ctx.request
    if chosen.compaction is None:
        return request.digests, request.prompt_tokens, chosen.output_tokens
    shared = chosen.compaction.shared_prefix_messages
    return request.digests.prefix(shared), request.cumulative_tokens[shared - 1] if shared else 0, 0


def _share(ctx: DecisionContext, chosen: Candidate) -> ShareState | None:
    target = ctx.request.role.share_target
    if target is None or ctx.request.isolated:
        return None
    premium = chosen.tier == ctx.request.role.top_tier
    state = ctx.snapshot.share or ShareState()
    return share_controller.record(state, target, ctx.tiering.target_share, ctx.difficulty.value, premium, ctx.now_ms)


def plan(
    ctx: DecisionContext, chosen: Candidate, fallbacks: list[Candidate], decision: decision_pb2.Decision
) -> DecisionPlan:
    """The plan a store applies atomically for a recorded decision."""
    request = ctx.request
    conv = ctx.snapshot.conversation
    need = reservation(chosen)
    digests, held, reply = _held_after(ctx, chosen)
    reservations = tuple(Reservation(q, need.requests, need.tokens, need.cost_picos) for q in chosen.index.quota_ids)
    events = {
        r.quota_id: QuotaEvent(ctx.decision_id, ctx.now_ms, r.requests, r.tokens, r.cost_picos) for r in reservations
    }
    record = DecisionRecord(
        decision_id=ctx.decision_id,
        conversation_id=request.conversation_id,
        turn_index=request.turn_index,
        role=request.role.role.name,
        chosen_endpoint_id=chosen.endpoint_id,
        fallback_endpoint_ids=tuple(c.endpoint_id for c in fallbacks),
        created_at_ms=ctx.now_ms,
        main_turn=not request.isolated,
        prompt_digests=digests,
        prompt_tokens=held,
        output_tokens=reply,
        compacted=chosen.compaction is not None,
        previous_entry=conv.cache.get(chosen.endpoint_id),
        previous_current_endpoint_id=conv.current_endpoint_id,
        previous_current_decision_id=conv.current_decision_id,
        reservations=reservations,
        residents_before=ctx.snapshot.occupancy.get(chosen.endpoint_id, ()) if chosen.admission else (),
    )
    target = request.role.share_target
    paced = usage_windows.paced_quota_ids(ctx.index, target.pace_quota_id) if target is not None else []
    usage = usage_windows.after_decision(
        ctx.index, ctx.snapshot.usage, chosen.endpoint_id, paced, not request.isolated, ctx.now_ms
    )
    return DecisionPlan(
        decision=decision,
        record=record,
        conversation=_conversation(ctx, chosen),
        quota_events=events,
        share=_share(ctx, chosen),
        usage=usage,
        occupancy={chosen.endpoint_id: chosen.admission.residents} if chosen.admission else {},
    )
