"""Assemble the Decision message (spec 6.1): candidates, handoff plan, quotas, policy."""

from __future__ import annotations

from typing import Any

from google.protobuf import timestamp_pb2

from rolemodel.cost import cost_estimate_fields
from rolemodel.latency import LatencyEstimate
from rolemodel.v1 import common_pb2, decision_pb2
from rolemodel_router.engine import share as share_controller
from rolemodel_router.engine import usage_windows
from rolemodel_router.engine.context import DecisionContext
from rolemodel_router.engine.eligibility import Candidate, turn_budget
from rolemodel_router.engine.quota import Need, quota_state_fields
from rolemodel_router.handoff import HandoffTarget, apply_handoff

D = decision_pb2
_KIND_PREFIX = "HANDOFF_TRANSFORM_KIND_"


def timestamp(ms: int) -> timestamp_pb2.Timestamp:
    seconds, millis = divmod(ms, 1000)
    return timestamp_pb2.Timestamp(seconds=seconds, nanos=millis * 1_000_000)


def reservation(chosen: Candidate) -> Need:
    """What a decision reserves on the chosen endpoint's quotas: one request, P + O tokens, the myopic cost."""
    return Need(1, chosen.prompt_tokens + chosen.output_tokens, chosen.myopic)


def _candidate_fields(ctx: DecisionContext, c: Candidate) -> dict[str, Any]:
    """One candidate as constructor fields; nested messages as dicts, so they are built in place, not copied."""
    fields: dict[str, Any] = {"endpoint_id": c.endpoint_id, "eligible": not c.exclusions, "rank": c.rank}
    if c.exclusions:
        fields["exclusions"] = [{"code": code, "detail": detail} for code, detail in c.exclusions]
    if c.tier is not None:
        fields["tier"] = c.tier
    if c.components:
        fields["score"] = {"total": c.score, "components": [part.fields() for part in c.components]}
    if c.costing is not None:
        fields["cost"] = cost_estimate_fields(c.costing.turn, ctx.index.currency, c.costing)
    cache: dict[str, Any] = {}
    if c.entry is not None:
        seconds, millis = divmod(c.entry.expires_at_ms, 1000)
        cache = {
            "held_tokens": c.entry.held_tokens,
            "matched_tokens": c.matched_tokens,
            "expires_at": {"seconds": seconds, "nanos": millis * 1_000_000},
            "source": c.entry.source,
            "expired": c.expired,
            "evicted": c.evicted,
        }
    if c.admission is not None:
        if c.index.capacity.max_sequences:
            cache["slot"] = c.admission.slot
        cache["evicts_sequences"] = len(c.admission.evicted)
        cache["evicts_tokens"] = c.admission.evicted_tokens
    if cache:
        fields["cache"] = cache
    if c.latency is not None:
        fields["latency"] = _latency_fields(c.latency, c.latency_sources)
    return fields


def _latency_fields(estimate: LatencyEstimate, sources: tuple[int, int]) -> dict[str, Any]:
    """A latency estimate as rolemodel.v1.LatencyEstimate fields."""
    return {
        "prefill_tokens": estimate.prefill_tokens,
        "base_ms": estimate.base_ms,
        "base_source": sources[0],
        "prefill_tokens_per_second": estimate.prefill_tokens_per_second,
        "prefill_source": sources[1],
        "prefill_ms": estimate.prefill_ms,
        "ttft_ms": estimate.ttft_ms,
        "output_ms": estimate.output_ms,
        "eviction_ms": estimate.eviction_ms,
        "total_ms": estimate.total_ms,
        "prefill_depth_tokens": estimate.prefill_depth_tokens,
        "prefill_half_speed_depth_tokens": estimate.prefill_half_speed_depth_tokens,
    }


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
    plan = D.HandoffPlan(
        action=action,
        from_endpoint_id=current,
        to_endpoint_id=chosen.endpoint_id,
        prompt_tokens=turn.prompt_tokens,
        cached_prefix_tokens=turn.cached_tokens,
        uncached_tokens=turn.uncached_tokens,
        cache_write_tokens=turn.cache_write_tokens,
        merge_back=merge_back,
    )
    if ctx.request.plan_handoff and ctx.request.messages:
        handoff = apply_handoff(
            ctx.request.messages,
            HandoffTarget.of(chosen.index.endpoint),
            ctx.request.role.role.handoff,
            chosen.compaction,
        )
        if handoff.transforms:
            plan.transforms.extend(handoff.transforms)
            names = ",".join(D.HandoffTransformKind.Name(t.kind).removeprefix(_KIND_PREFIX) for t in handoff.transforms)
            ctx.reasons.add(
                D.REASON_CODE_HANDOFF_TRANSFORMED,
                f"the conversation is adapted for '{chosen.endpoint_id}': {names.lower().replace(',', ', ')}",
                transforms=names,
            )
        if ctx.request.include_handoff:
            plan.messages.extend(handoff.messages)
    return plan


def _quotas(ctx: DecisionContext, chosen: Candidate | None) -> list[dict[str, Any]]:
    """Every quota on a candidate of the role (or the pin), with this decision's reservation."""
    states = []
    for c in ctx.candidates:
        if c.tier is None and c.endpoint_id != ctx.request.pinned:
            continue
        for quota_id in c.index.quota_ids:
            reserving = chosen is c and not ctx.request.dry_run
            need = reservation(c) if reserving else None
            exhausted = any(code == D.EXCLUSION_CODE_QUOTA_EXHAUSTED for code, _ in c.exclusions)
            quota = ctx.index.quotas[quota_id]
            if usage_windows.is_reported(quota):
                usage = ctx.snapshot.usage
                rate = share_controller.arrival_rate(ctx.snapshot.share) if ctx.snapshot.share else None
                pace = usage_windows.window_pace(ctx.index, quota_id, usage, ctx.now_ms, rate)
                state = usage_windows.state_of(usage, quota_id)
                states.append(usage_windows.reported_quota_state_fields(quota, state, pace, pace.hard_stop))
                continue
            states.append(quota_state_fields(quota, ctx.windows[quota_id], need, exhausted))
    return sorted(states, key=lambda s: str(s["quota_id"]))


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
    decision = D.Decision(
        decision_id=ctx.decision_id,
        conversation_id=request.conversation_id,
        turn_index=request.turn_index,
        role=request.role.role.name,
        chosen_endpoint_id=chosen.endpoint_id if chosen is not None else "",
        fallback_endpoint_ids=[c.endpoint_id for c in fallbacks],
        handoff=_handoff(ctx, chosen),
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
    add_candidate = decision.candidates.add
    for c in ctx.candidates:
        add_candidate(**_candidate_fields(ctx, c))
    if ctx.omitted:
        decision.omitted_candidates.add(code=D.EXCLUSION_CODE_NOT_IN_ROLE, endpoint_count=ctx.omitted)
    add_quota = decision.quota_states.add
    for fields in _quotas(ctx, chosen):
        add_quota(**fields)
    add_reason = decision.reasons.add
    for code, detail, attributes in ctx.reasons.items:
        add_reason(code=code, detail=detail, attributes=attributes)
    return decision
