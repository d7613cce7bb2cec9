"""Assemble the Decision message (spec 6.1): candidates, handoff plan, quotas, policy."""

from __future__ import annotations

from google.protobuf import timestamp_pb2

from rolemodel.cost import to_proto
from rolemodel.v1 import common_pb2, decision_pb2
from rolemodel_router.engine.context import DecisionContext
from rolemodel_router.engine.eligibility import Candidate, turn_budget
from rolemodel_router.engine.quota import Need, quota_state, window_usage

D = decision_pb2


def timestamp(ms: int) -> timestamp_pb2.Timestamp:
    ts = timestamp_pb2.Timestamp()
    ts.FromMilliseconds(ms)
    return ts


def reservation(chosen: Candidate, prompt_tokens: int) -> Need:
    """What a decision reserves on the chosen endpoint's quotas: one request, P + O tokens, the myopic cost."""
    return Need(1, prompt_tokens + chosen.output_tokens, chosen.myopic)


def _candidate(ctx: DecisionContext, c: Candidate) -> D.Candidate:
    message = D.Candidate(
        endpoint_id=c.endpoint_id,
        eligible=c.eligible,
        exclusions=[D.Exclusion(code=code, detail=detail) for code, detail in c.exclusions],
        rank=c.rank,
    )
    if c.tier is not None:
        message.tier = c.tier
    if c.components:
        message.score.CopyFrom(D.Score(total=c.score, components=c.components))
    if c.costing is not None:
        message.cost.CopyFrom(to_proto(c.costing.turn, ctx.index.currency, c.costing))
    if c.entry is not None:
        message.cache.CopyFrom(
            D.CacheView(
                held_tokens=c.entry.held_tokens,
                matched_tokens=c.matched_tokens,
                expires_at=timestamp(c.entry.expires_at_ms),
                source=c.entry.source,
                expired=c.expired,
            )
        )
    return message


def _handoff(ctx: DecisionContext, chosen: Candidate | None) -> D.HandoffPlan:
    merge_back = not ctx.request.isolated
    current = ctx.snapshot.conversation.current_endpoint_id
    if chosen is None or chosen.costing is None:
        return D.HandoffPlan(merge_back=merge_back, from_endpoint_id=current)
    turn = chosen.costing.turn
    if not current:
        action = D.HANDOFF_ACTION_START
    elif current == chosen.endpoint_id:
        action = D.HANDOFF_ACTION_CONTINUE
    else:
        action = D.HANDOFF_ACTION_SWITCH
    return D.HandoffPlan(
        action=action,
        from_endpoint_id=current,
        to_endpoint_id=chosen.endpoint_id,
        prompt_tokens=turn.prompt_tokens,
        cached_prefix_tokens=turn.cached_tokens,
        uncached_tokens=turn.uncached_tokens,
        cache_write_tokens=turn.cache_write_tokens,
        merge_back=merge_back,
    )


def _quotas(ctx: DecisionContext, chosen: Candidate | None) -> list[D.QuotaState]:
    """Every quota on a candidate of the role (or the pin), with this decision's reservation."""
    relevant = [c for c in ctx.candidates if c.tier is not None or c.endpoint_id == ctx.request.pinned]
    states = []
    for c in relevant:
        for quota_id in c.index.quota_ids:
            quota = ctx.index.quotas[quota_id]
            window = window_usage(quota, ctx.snapshot.quota_events.get(quota_id, ()), ctx.now_ms)
            reserving = chosen is c and not ctx.request.dry_run
            need = reservation(c, ctx.request.prompt_tokens) if reserving else None
            exhausted = any(code == D.EXCLUSION_CODE_QUOTA_EXHAUSTED for code, _ in c.exclusions)
            states.append(quota_state(quota, window, need, exhausted))
    return sorted(states, key=lambda s: s.quota_id)


def _policy(ctx: DecisionContext, chosen: Candidate | None) -> D.PolicySnapshot:
    tiers = ctx.tiering
    policy = D.PolicySnapshot(
        catalog_name=ctx.index.catalog.name,
        catalog_digest=ctx.index.digest,
        strategy=ctx.strategy,
        difficulty_tier=tiers.difficulty_tier,
        escalation_level=tiers.level,
        required_tier=tiers.required,
        affinity=ctx.request.role.affinity.source,
        turn_budget_picos=turn_budget(ctx.index, ctx.request),
        current_endpoint_id=ctx.snapshot.conversation.current_endpoint_id,
        tool_call_pending=ctx.request.tool_call_pending,
    )
    if chosen is not None and chosen.tier is not None:
        policy.chosen_tier = chosen.tier
    if tiers.share is not None:
        target = ctx.request.role.share_target
        policy.share_controller.CopyFrom(
            D.ShareControllerState(
                target_share=tiers.share.target_share,
                threshold=tiers.share.threshold,
                realized_share=tiers.share.realized_share,
                window_size=tiers.share.window_size,
                pace_quota_id=target.pace_quota_id if target else "",
            )
        )
    return policy


def assemble(ctx: DecisionContext, chosen: Candidate | None, fallbacks: list[Candidate]) -> D.Decision:
    """The Decision; with no chosen endpoint, the record attached to a refusal."""
    for c in ctx.candidates:
        c.rank = 0
    if chosen is not None:
        chosen.rank = 1
        for position, c in enumerate(fallbacks, start=2):
            c.rank = position
    request = ctx.request
    return D.Decision(
        decision_id=ctx.decision_id,
        conversation_id=request.conversation_id,
        turn_index=request.turn_index,
        role=request.role.role.name,
        chosen_endpoint_id=chosen.endpoint_id if chosen is not None else "",
        fallback_endpoint_ids=[c.endpoint_id for c in fallbacks],
        candidates=[_candidate(ctx, c) for c in ctx.candidates],
        handoff=_handoff(ctx, chosen),
        reasons=ctx.reasons.messages,
        quota_states=_quotas(ctx, chosen),
        policy=_policy(ctx, chosen),
        created_at=timestamp(ctx.now_ms),
        difficulty=ctx.difficulty,
        prompt_tokens=request.prompt_tokens,
        prompt_tokens_source=(
            common_pb2.VALUE_SOURCE_ESTIMATED if request.estimated_messages else common_pb2.VALUE_SOURCE_DECLARED
        ),
        side_request=request.side_request,
        merge_back=not request.isolated,
        dry_run=request.dry_run,
    )
