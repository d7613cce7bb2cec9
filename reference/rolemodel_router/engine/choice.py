"""Choosing among the eligible: tiers, pins, tool loops and affinity (spec 6.3, 6.5, 6.7, 6.9)."""

from __future__ import annotations

from dataclasses import dataclass

from rolemodel.error_reasons import ErrorReason
from rolemodel.latency import describe_seconds
from rolemodel.money import format_picos
from rolemodel.v1 import decision_pb2
from rolemodel_router.engine.context import DecisionContext
from rolemodel_router.engine.eligibility import Candidate
from rolemodel_router.engine.errors import RouterError

D = decision_pb2


@dataclass(frozen=True)
class Choice:
    chosen: Candidate
    fallbacks: list[Candidate]


def exclusion_names(c: Candidate) -> str:
    return ",".join(D.ExclusionCode.Name(code).removeprefix("EXCLUSION_CODE_") for code, _ in c.exclusions)


def _below(c: Candidate, required: int) -> None:
    c.exclude(D.EXCLUSION_CODE_BELOW_REQUIRED_TIER, f"tier {c.tier} is below the required tier {required}")


def _by_tier_then_rank(cands: list[Candidate], ranked: list[Candidate]) -> list[Candidate]:
    order = {id(c): i for i, c in enumerate(ranked)}
    return sorted(cands, key=lambda c: (-(c.tier or 0), order.get(id(c), 0)))


def admissible(ctx: DecisionContext) -> tuple[list[Candidate], list[Candidate]]:
    """The admissible set and, when the role allows downgrades, the lower-tier fallbacks."""
    required = ctx.tiering.required
    eligible = [c for c in ctx.candidates if c.eligible]
    above = [c for c in eligible if c.tier is not None and c.tier >= required]
    below = [c for c in eligible if c.tier is not None and c.tier < required]
    downgrade = ctx.request.role.role.allow_downgrade
    if above:
        if not any(c.tier == required for c in above):
            ctx.reasons.add(
                D.REASON_CODE_TIER_RAISED,
                f"nothing on tier {required} is eligible; a higher tier serves",
                required_tier=str(required),
            )
        if downgrade:
            return above, below
        for c in below:
            _below(c, required)
        return above, []
    if below and downgrade:
        best_tier = max(c.tier or 0 for c in below)
        ctx.reasons.add(
            D.REASON_CODE_DOWNGRADED,
            f"nothing at or above tier {required} is eligible; the role allows a downgrade to tier {best_tier}",
            required_tier=str(required),
            tier=str(best_tier),
        )
        return [c for c in below if c.tier == best_tier], [c for c in below if c.tier != best_tier]
    for c in below:
        _below(c, required)
    return [], []


def pinned_choice(ctx: DecisionContext) -> Candidate:
    """The pinned endpoint when it passes every hard filter (spec 6.3, RM-ELIG-005)."""
    pinned = ctx.candidate(ctx.request.pinned)
    if pinned is None or not pinned.hard_eligible:
        raise RouterError(
            ErrorReason.PINNED_ENDPOINT_INELIGIBLE,
            f"the pinned endpoint '{ctx.request.pinned}' is not eligible: "
            + "; ".join(d for _, d in (pinned.exclusions if pinned else [])),
            {
                "endpoint_id": ctx.request.pinned,
                "exclusions": f"{pinned.endpoint_id}:{exclusion_names(pinned)}" if pinned else "",
            },
        )
    pinned.exclusions.clear()
    ctx.reasons.add(D.REASON_CODE_PINNED, f"the hints pin '{pinned.endpoint_id}'", endpoint_id=pinned.endpoint_id)
    return pinned


def _tool_loop(ctx: DecisionContext, current: Candidate | None, current_id: str) -> Candidate | None:
    if current is not None and current.hard_eligible:
        ctx.reasons.add(
            D.REASON_CODE_TOOL_LOOP_PINNED,
            f"a tool call is pending; staying on '{current_id}', which made it",
            current_endpoint_id=current_id,
        )
        return current
    ctx.reasons.add(
        D.REASON_CODE_TOOL_LOOP_CURRENT_INELIGIBLE,
        f"a tool call is pending but '{current_id}', which made it, is not eligible",
        current_endpoint_id=current_id,
    )
    return None


def affinity_choice(ctx: DecisionContext, best: Candidate, admissible_set: list[Candidate]) -> Candidate:
    """Spec 6.7: a tool loop stays where it is; otherwise a switch must pay for itself."""
    current_id = ctx.snapshot.conversation.current_endpoint_id
    if not current_id or ctx.request.isolated or not ctx.index.applies_affinity:
        return best
    current = ctx.candidate(current_id)
    affinity = ctx.request.role.affinity
    if ctx.request.tool_call_pending and affinity.pin_tool_loops:
        kept = _tool_loop(ctx, current, current_id)
        if kept is not None:
            return kept
    if current is None or not current.eligible:
        ctx.reasons.add(
            D.REASON_CODE_AFFINITY_CURRENT_INELIGIBLE,
            f"the current endpoint '{current_id}' is not eligible",
            current_endpoint_id=current_id,
        )
        return best
    if current is best or current not in admissible_set:
        return best
    saving = current.amortized - best.amortized
    threshold = max(affinity.min_saving_picos, int(affinity.min_saving_ratio * current.amortized))
    money = ctx.index.currency
    attributes = {"current_endpoint_id": current_id, "saving_picos": str(saving), "threshold_picos": str(threshold)}
    if saving > 0 and saving >= threshold:
        ctx.reasons.add(
            D.REASON_CODE_AFFINITY_SWITCHED_SAVING,
            f"leaving '{current_id}' saves {format_picos(saving, money)} over the horizon, "
            f"at least the threshold {format_picos(threshold, money)}",
            **attributes,
        )
        return best
    pooled = current.index.capacity.limited and best.index.capacity.limited
    if pooled and saving == 0 and current.latency is not None and best.latency is not None:
        times = (current.latency.total_ms, best.latency.total_ms)
        return _affinity_in_time(ctx, current, best, times, affinity.min_saving_ratio)
    gain = (best.quality or 0.0) - (current.quality or 0.0)
    if affinity.min_quality_gain > 0 and gain >= affinity.min_quality_gain:
        ctx.reasons.add(
            D.REASON_CODE_AFFINITY_SWITCHED_QUALITY,
            f"leaving '{current_id}' gains {gain:.2f} declared quality, at least {affinity.min_quality_gain:.2f}",
            current_endpoint_id=current_id,
            quality_gain=f"{gain:.4f}",
        )
        return best
    ctx.reasons.add(
        D.REASON_CODE_AFFINITY_KEPT,
        f"staying on '{current_id}': switching to '{best.endpoint_id}' would save {format_picos(saving, money)}, "
        f"below the threshold {format_picos(threshold, money)}",
        **attributes,
    )
    return current


def _affinity_in_time(
    ctx: DecisionContext, current: Candidate, best: Candidate, times: tuple[float, float], ratio: float
) -> Candidate:
    """Spec 6.7.1: between servers with a capacity that cost the same (a local pool), a switch must save time.

    The expected times count each one's uncached prompt and the evictions it causes, so a
    conversation stays where its cache is warm unless the other server is faster even cold.
    """
    lat_c, lat_b = times
    saving, threshold = lat_c - lat_b, ratio * lat_c
    attributes = {
        "current_endpoint_id": current.endpoint_id,
        "saving_ms": str(round(saving)),
        "threshold_ms": str(round(threshold)),
    }
    if saving > 0 and saving >= threshold:
        ctx.reasons.add(
            D.REASON_CODE_AFFINITY_SWITCHED_SAVING,
            f"both cost the same; leaving '{current.endpoint_id}' saves about {describe_seconds(saving)} "
            f"({describe_seconds(lat_c)} there, {describe_seconds(lat_b)} on '{best.endpoint_id}')",
            **attributes,
        )
        return best
    ctx.reasons.add(
        D.REASON_CODE_AFFINITY_KEPT,
        f"both cost the same; staying on '{current.endpoint_id}' ({describe_seconds(lat_c)}): "
        f"'{best.endpoint_id}' would take {describe_seconds(lat_b)}",
        **attributes,
    )
    return current


def least_time_for_side_request(ctx: DecisionContext, order: list[Candidate]) -> Candidate:
    """Spec 6.8: an isolated side request among equally priced servers with a capacity goes where time is least.

    The total counts the time its own prefill and output take and the time the conversations it
    evicts will spend prefilling again, so it lands where its eviction costs least. Records why
    in the context, for the side request's reason.
    """
    best = order[0]
    if not ctx.request.isolated or any(
        c.amortized != best.amortized or c.latency is None or not c.index.capacity.limited for c in order
    ):
        return best
    fastest = min(order, key=lambda c: (c.latency.total_ms if c.latency else 0.0, order.index(c)))
    if fastest.latency is not None:
        ctx.side_placement = (
            f"; every candidate costs the same, so it goes where the time, evictions included, is least: "
            f"'{fastest.endpoint_id}', about {describe_seconds(fastest.latency.total_ms)}"
        )
    return fastest


def no_eligible_error(ctx: DecisionContext) -> RouterError:
    summary = ";".join(f"{c.endpoint_id}:{exclusion_names(c)}" for c in ctx.candidates)
    role = ctx.request.role.role.name
    hosted = ", ".join(sorted(ctx.request.hosted_tools))
    why = f" (the request offers the hosted tool {hosted}; endpoints must list it in hosted_tools)" if hosted else ""
    custom = ", ".join(sorted(ctx.request.custom_tools))
    why += f" (the request offers the custom tool {custom}, which only Responses endpoints take)" if custom else ""
    return RouterError(
        ErrorReason.NO_ELIGIBLE_ENDPOINT,
        f"no endpoint of role '{role}' is eligible{why}",
        {"role": role, "exclusions": summary},
    )


def fallbacks_after(
    chosen: Candidate, ranked_admissible: list[Candidate], lower: list[Candidate], ranked_lower: list[Candidate]
) -> list[Candidate]:
    """The other admissible candidates in rank order, then lower tiers, higher tiers first."""
    return [c for c in ranked_admissible if c is not chosen] + [
        c for c in _by_tier_then_rank(lower, ranked_lower) if c is not chosen
    ]
