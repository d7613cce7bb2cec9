"""Make a decision: the algorithm of spec chapter 6, as a pure function.

``decide`` reads a snapshot and returns a plan (the Decision to answer with,
and the state to write). It does no I/O and reads no clock, so it behaves the
same under every store and is easy to test exhaustively. The steps, in order:
validate-time facts (tokens, difficulty), eligibility and costing, the
required tier, the pin or the admissible set, scoring, affinity, then the
record and the provisional state.
"""

from __future__ import annotations

from rolemodel import latency
from rolemodel.money import format_picos
from rolemodel.v1 import common_pb2, decision_pb2
from rolemodel_router.engine import choice, provisional, tiering
from rolemodel_router.engine.assemble import assemble
from rolemodel_router.engine.catalog_index import CatalogIndex
from rolemodel_router.engine.context import DecisionContext
from rolemodel_router.engine.difficulty import DifficultyEstimator
from rolemodel_router.engine.eligibility import Candidate, evaluate, failed_this_turn, quota_windows, reachable
from rolemodel_router.engine.errors import RouterError
from rolemodel_router.engine.plans import DecisionPlan, RouteSnapshot
from rolemodel_router.engine.route_input import RouteInput
from rolemodel_router.engine.scoring import ranked, score

D = decision_pb2
STRATEGY_NAMES = {v: k.removeprefix("STRATEGY_").lower() for k, v in common_pb2.Strategy.items()}


def _context(
    index: CatalogIndex,
    snapshot: RouteSnapshot,
    request: RouteInput,
    now_ms: int,
    decision_id: str,
    estimator: DifficultyEstimator,
) -> DecisionContext:
    diff, signals = tiering.estimate(request, estimator)
    windows = quota_windows(index, snapshot, now_ms)
    listed = reachable(index, request, snapshot) if request.compact_candidates else None
    ctx = DecisionContext(
        index=index,
        request=request,
        snapshot=snapshot,
        now_ms=now_ms,
        decision_id=decision_id,
        difficulty=diff,
        tiering=tiering.tiering(index, request, snapshot, diff.value, now_ms),
        strategy=common_pb2.STRATEGY_COST if request.isolated else request.strategy,
        candidates=evaluate(index, request, snapshot, now_ms, windows, listed),
        windows=windows,
        omitted=len(index.endpoint_order) - len(listed) if listed is not None else 0,
    )
    if request.estimated_messages:
        ctx.reasons.add(
            D.REASON_CODE_TOKENS_ESTIMATED,
            f"{request.estimated_messages} message(s) came without a token count; "
            "the router estimated them from their text (spec 4.4)",
            estimated_messages=str(request.estimated_messages),
        )
    tiering.explain(ctx.reasons, request, snapshot, ctx.tiering, diff, signals)
    failed = sorted(failed_this_turn(request, snapshot))
    if failed:
        ctx.reasons.add(
            D.REASON_CODE_RETRY_EXCLUDES_FAILED,
            f"excluded after failing on this turn: {', '.join(failed)}",
            endpoint_ids=",".join(failed),
        )
    return ctx


def _strategic_choice(ctx: DecisionContext) -> tuple[Candidate, list[Candidate]]:
    admissible, lower = choice.admissible(ctx)
    if not admissible:
        if ctx.omitted:  # the refusal lists every endpoint (RM-ELIG-003)
            ctx.candidates = evaluate(ctx.index, ctx.request, ctx.snapshot, ctx.now_ms, ctx.windows)
            ctx.omitted = 0
            choice.admissible(ctx)  # marks the lower tiers of the full list as below the required tier
        error = choice.no_eligible_error(ctx)
        error.details.append(assemble(ctx, None, []))
        raise error
    dropped = score(admissible, ctx.index, ctx.request, ctx.snapshot, ctx.strategy)
    if lower:
        score(lower, ctx.index, ctx.request, ctx.snapshot, ctx.strategy)  # orders the downgrade fallbacks only
    if dropped:
        ctx.reasons.add(
            D.REASON_CODE_WEIGHTS_REDISTRIBUTED,
            f"no endpoint has a record of its {', '.join(dropped)} yet, so the score weighs the other figures",
            dropped_metrics=",".join(dropped),
        )
    order = ranked(admissible)
    best = order[0]
    horizon = best.costing.horizon_turns if best.costing else 1
    ctx.reasons.add(
        D.REASON_CODE_STRATEGY_BEST,
        f"'{best.endpoint_id}' scores best under the {STRATEGY_NAMES[ctx.strategy]} strategy ({best.score:.3f}), "
        f"amortised {format_picos(best.amortized, ctx.index.currency)} over {horizon} turn(s)",
        strategy=STRATEGY_NAMES[ctx.strategy],
    )
    placed = choice.least_time_for_side_request(ctx, order)
    if placed is not best:
        best, order = placed, [placed, *(c for c in order if c is not placed)]
    chosen = choice.affinity_choice(ctx, best, admissible)
    if not chosen.components:
        score([chosen], ctx.index, ctx.request, ctx.snapshot, ctx.strategy)
    return chosen, choice.fallbacks_after(chosen, order, lower, ranked(lower))


#: Candidates a prefill explanation names: the chosen one and its closest alternatives.
PREFILL_NAMED = 3


def _prefill_phrase(c: Candidate) -> str:
    estimate = c.latency
    if estimate is None:
        return ""
    warmth = "warm" if c.costing and c.costing.turn.cached_tokens else "cold"
    depth = ""
    if estimate.prefill_half_speed_depth_tokens:
        factor = latency.depth_factor(
            estimate.prefill_tokens, estimate.prefill_depth_tokens, estimate.prefill_half_speed_depth_tokens
        )
        after = f" after {estimate.prefill_depth_tokens:,} cached" if estimate.prefill_depth_tokens else ""
        depth = f"{after} at {1 / factor:.0%} of its start speed"
    return (
        f"{warmth} prefill of {estimate.prefill_tokens:,} tokens{depth} on '{c.endpoint_id}', "
        f"first token in about {latency.describe_seconds(estimate.ttft_ms)}"
    )


def _capacity_reasons(ctx: DecisionContext, chosen: Candidate) -> None:
    """Explain the prefill time (spec 6.6) and the evictions (spec 7.7) of a local choice."""
    estimate = chosen.latency
    if estimate is not None and estimate.prefill_tokens_per_second > 0:
        others = sorted(
            (c for c in ctx.candidates if c is not chosen and c.latency and c.latency.prefill_tokens_per_second > 0),
            key=lambda c: (c.latency.ttft_ms if c.latency else 0.0, c.endpoint_id),
        )
        phrases = [_prefill_phrase(c) for c in [chosen, *others][:PREFILL_NAMED]]
        ctx.reasons.add(
            D.REASON_CODE_PREFILL_TIME,
            "; ".join(phrases),
            prefill_tokens=str(estimate.prefill_tokens),
            ttft_ms=str(round(estimate.ttft_ms)),
        )
    admission = chosen.admission
    if admission is not None and admission.evicted:
        count, tokens = len(admission.evicted), admission.evicted_tokens
        ctx.reasons.add(
            D.REASON_CODE_CACHE_EVICTION,
            f"'{chosen.endpoint_id}' holds no more conversations: serving this evicts {count} "
            f"(least recently used first, {tokens:,} cached tokens, about "
            f"{latency.describe_seconds(chosen.latency.eviction_ms if chosen.latency else 0.0)} to prefill again)",
            evicted_sequences=str(count),
            evicted_tokens=str(tokens),
        )


def _closing_reasons(ctx: DecisionContext, chosen: Candidate) -> None:
    request = ctx.request
    cached = chosen.costing.turn.cached_tokens if chosen.costing else 0
    if cached:
        ctx.reasons.add(
            D.REASON_CODE_CACHE_WARM,
            f"'{chosen.endpoint_id}' holds {cached} of the {request.prompt_tokens} prompt tokens",
            cached_tokens=str(cached),
        )
    _capacity_reasons(ctx, chosen)
    if request.side_request and request.isolated:
        ctx.reasons.add(
            D.REASON_CODE_SIDE_REQUEST_ISOLATED,
            "a side request without merge-back: cheapest capable endpoint, conversation state untouched"
            + ctx.side_placement,
        )
    elif request.side_request:
        ctx.reasons.add(D.REASON_CODE_SIDE_REQUEST_MERGED, "a side request with merge-back: routed as a main turn")
    if request.dry_run:
        ctx.reasons.add(D.REASON_CODE_DRY_RUN, "dry run: nothing was recorded")
    if ctx.snapshot.degraded:
        ctx.reasons.add(
            D.REASON_CODE_STATE_DEGRADED,
            "the shared state store is unavailable; decided without it and refused quota-limited endpoints",
        )


def decide(
    index: CatalogIndex,
    snapshot: RouteSnapshot,
    request: RouteInput,
    now_ms: int,
    decision_id: str,
    estimator: DifficultyEstimator,
) -> DecisionPlan:
    """The decision for ``request``; raises RouterError when nothing may serve it."""
    ctx = _context(index, snapshot, request, now_ms, decision_id, estimator)
    if request.pinned:
        try:
            chosen = choice.pinned_choice(ctx)
        except RouterError as error:
            error.details.append(assemble(ctx, None, []))
            raise
        score([chosen], index, request, snapshot, ctx.strategy)
        fallbacks: list[Candidate] = []
    else:
        chosen, fallbacks = _strategic_choice(ctx)
    _closing_reasons(ctx, chosen)
    decision = assemble(ctx, chosen, fallbacks)
    if request.dry_run:
        return DecisionPlan(decision=decision, record=None, conversation=None)
    return provisional.plan(ctx, chosen, fallbacks, decision)
