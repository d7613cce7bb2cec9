"""Difficulty and the required tier (spec 6.2, 6.5, 9.3 and 9.7)."""

from __future__ import annotations

from rolemodel.v1 import common_pb2, decision_pb2
from rolemodel_router.engine import share as share_controller
from rolemodel_router.engine import usage_windows
from rolemodel_router.engine.catalog_index import CatalogIndex, RoleIndex
from rolemodel_router.engine.context import ShareView, Tiering
from rolemodel_router.engine.difficulty import DifficultyEstimator, DifficultyQuery
from rolemodel_router.engine.plans import RouteSnapshot
from rolemodel_router.engine.quota import empty_window
from rolemodel_router.engine.reasons import Reasons
from rolemodel_router.engine.route_input import RouteInput
from rolemodel_router.engine.turn_signals import read_turn
from rolemodel_router.state.model import ShareState

D = decision_pb2


#: A signal that moved an estimate, with its contribution in log-odds.
Signal = tuple[str, float]
#: Signals named in a decision's reason; the largest contributions first.
MAX_SIGNALS_SHOWN = 6


def difficulty(request: RouteInput, estimator: DifficultyEstimator) -> D.Difficulty:
    """The hint's difficulty (declared), else the estimator's (estimated)."""
    return estimate(request, estimator)[0]


def estimate(request: RouteInput, estimator: DifficultyEstimator) -> tuple[D.Difficulty, tuple[Signal, ...]]:
    """The difficulty and, for an estimator that explains itself (``explain(query)``), what moved it."""
    if request.difficulty is not None:
        return D.Difficulty(value=request.difficulty, source=common_pb2.VALUE_SOURCE_DECLARED), ()
    turn = read_turn(request.messages) if request.messages else None
    query = DifficultyQuery(
        role=request.role.role.name,
        task=request.hints.task,
        text=turn.user_text if turn is not None else "",
        new_tokens=request.new_tokens,
        prompt_tokens=request.prompt_tokens,
        message_count=len(request.digests),
        tool_call_pending=request.tool_call_pending,
        turn=turn,
    )
    value = min(1.0, max(0.0, float(estimator.estimate(query))))
    explain = getattr(estimator, "explain", None)
    signals: tuple[Signal, ...] = ()
    if callable(explain):
        moved = [(str(name), float(amount)) for name, amount in explain(query) if amount]
        signals = tuple(sorted(moved, key=lambda signal: -abs(signal[1]))[:MAX_SIGNALS_SHOWN])
    diff = D.Difficulty(
        value=value,
        source=common_pb2.VALUE_SOURCE_ESTIMATED,
        estimator=estimator.name,
        estimator_version=estimator.version,
    )
    return diff, signals


def _share_threshold(
    index: CatalogIndex, request: RouteInput, snapshot: RouteSnapshot, now_ms: int
) -> tuple[ShareView | None, float]:
    role = request.role
    target = role.share_target
    if target is None:
        return None, 0.0
    state = snapshot.share or ShareState()
    target_share = target.target_share
    paced = usage_windows.paced_quota_ids(index, target.pace_quota_id)
    if paced:
        rate = share_controller.arrival_rate(state)
        target_share = usage_windows.pace_of(index, paced, snapshot.usage, now_ms, rate).share
    elif target.pace_quota_id:
        quota = index.quotas[target.pace_quota_id]
        window = snapshot.quota_windows.get(target.pace_quota_id) or empty_window(quota, now_ms)
        limit = quota.quota.max_requests
        remaining = max(0, limit - window.requests) if limit else 0
        target_share = share_controller.paced_target(target, state, window, remaining, now_ms)
    top = role.top_tier
    theta = share_controller.threshold(state, target_share, role.tier_min_difficulty[top] if top > 0 else None)
    view = ShareView(target_share, theta, share_controller.realized_share(state), len(state.window))
    return view, target_share


def _thresholds(role: RoleIndex, view: ShareView | None) -> list[float | None]:
    """Each tier's ``min_difficulty``; the top tier's is the share controller's threshold when it has one."""
    thresholds = list(role.tier_min_difficulty)
    if view is not None and role.top_tier > 0:
        thresholds[role.top_tier] = view.threshold
    return thresholds


def _tier_sentence(role: RoleIndex, view: ShareView | None, tier: int, said: str) -> str:
    """The difficulty tier as a person would put it: the threshold reached, or the nearest one not reached.

    Tier 0 of a ladder need not be a weak model (a planning role may start at a strong one), so the
    sentence names the tiers and says "is enough" rather than leaving "tier 0" to read as "the cheapest".
    """
    thresholds = _thresholds(role, view)

    def named(t: int) -> str:
        name = role.role.ladder[t].name if t < len(role.role.ladder) else ""
        return f"tier {t} ({name})" if name else f"tier {t}"

    if tier > 0:
        return f"{said} reaches the {thresholds[tier]:.2f} that {named(tier)} needs"
    higher = [(floor, t) for t, floor in enumerate(thresholds) if t > 0 and floor is not None]
    if not higher:
        if role.top_tier == 0:
            return f"{said}: {named(0)} is the role's only tier"
        return f"{said}: {named(0)} is enough; the higher tiers are reached only by escalation or a pin"
    floor, nearest = min(higher)
    return f"{said} is under the {floor:.2f} that {named(nearest)} needs, so {named(0)} is enough"


def tiering(index: CatalogIndex, request: RouteInput, snapshot: RouteSnapshot, value: float, now_ms: int) -> Tiering:
    """Difficulty tier, escalation level and required tier; isolated side requests use tier 0."""
    if request.isolated:
        return Tiering(0, 0, 0, None, 0.0)
    role = request.role
    top = role.top_tier
    view, target_share = _share_threshold(index, request, snapshot, now_ms)
    thresholds = _thresholds(role, view)
    difficulty_tier = 0
    for tier in range(1, top + 1):
        floor = thresholds[tier]
        if floor is not None and value >= floor:
            difficulty_tier = tier
    stored = snapshot.conversation.escalation.get(role.role.name)
    level = request.force_level if request.force_level is not None else (stored.level if stored else 0)
    return Tiering(difficulty_tier, level, min(max(difficulty_tier, level), top), view, target_share)


def explain(
    reasons: Reasons,
    request: RouteInput,
    snapshot: RouteSnapshot,
    tiers: Tiering,
    diff: D.Difficulty,
    signals: tuple[Signal, ...] = (),
) -> None:
    if request.isolated:
        return
    source = common_pb2.ValueSource.Name(diff.source).removeprefix("VALUE_SOURCE_").lower()
    listed = ", ".join(f"{name} {amount:+.2f}" for name, amount in signals)
    details = {"signals": listed} if signals else {}
    reasons.add(
        D.REASON_CODE_TIER_FROM_DIFFICULTY,
        _tier_sentence(request.role, tiers.share, tiers.difficulty_tier, f"difficulty {diff.value:.2f} ({source})")
        + (f"; raised (+) or lowered (-) by {listed}" if signals else ""),
        difficulty=f"{diff.value:.4f}",
        source=source,
        tier=str(tiers.difficulty_tier),
        **details,
    )
    if tiers.share is not None:
        s = tiers.share
        reasons.add(
            D.REASON_CODE_SHARE_CONTROLLER,
            f"premium share target {s.target_share:.2f}: the top tier needs difficulty >= {s.threshold:.3f} "
            f"(realised share {s.realized_share:.2f} over {s.window_size} turns)",
            target_share=f"{s.target_share:.4f}",
            threshold=f"{s.threshold:.4f}",
            realized_share=f"{s.realized_share:.4f}",
        )
    if request.force_level is not None:
        reasons.add(
            D.REASON_CODE_ESCALATION_FORCED,
            f"the hints force escalation level {request.force_level}",
            level=str(request.force_level),
        )
    elif tiers.level > tiers.difficulty_tier:
        stored = snapshot.conversation.escalation.get(request.role.role.name)
        trigger = stored.trigger_decision_id if stored else ""
        reasons.add(
            D.REASON_CODE_ESCALATED,
            f"escalation level {tiers.level}, raised by the outcome of decision {trigger}, "
            f"lifts the tier above {tiers.difficulty_tier}",
            level=str(tiers.level),
            triggering_decision_id=trigger,
        )
