"""Reported usage windows in the engine (spec 9.8): what a decision and an outcome change, and what they show.

A quota of kind ``QUOTA_WINDOW_KIND_REPORTED`` counts nothing itself: its state is the share of a
subscription's window that the provider reports, kept as a :class:`rolemodel.pacing.UsageWindowState`
per quota. A decision counts a request sent to the endpoint and, for a role whose share target
paces by the window, a routable turn; an outcome carrying ``usage_windows`` records the reports.
The arithmetic is the SDK's (``rolemodel.pacing``); this module only maps quotas to its inputs.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from rolemodel import pacing
from rolemodel.v1 import catalog_pb2, decision_pb2, outcome_pb2
from rolemodel_router.engine.catalog_index import CatalogIndex, QuotaIndex

REPORTED = catalog_pb2.QUOTA_WINDOW_KIND_REPORTED
UsageStates = Mapping[str, pacing.UsageWindowState]


def is_reported(quota: QuotaIndex) -> bool:
    return quota.quota.window_kind == REPORTED


def rule(quota: QuotaIndex) -> pacing.WindowRule:
    q = quota.quota
    target = q.target_share if q.HasField("target_share") else pacing.DEFAULT_TARGET
    return pacing.WindowRule(q.prior_share_per_request, q.window_seconds, target)


def state_of(usage: UsageStates, quota_id: str) -> pacing.UsageWindowState:
    return usage.get(quota_id) or pacing.UsageWindowState()


def reported_quota_ids(index: CatalogIndex, endpoint_id: str) -> list[str]:
    """The endpoint's reported quotas, in catalog order."""
    return [q for q in index.endpoints[endpoint_id].quota_ids if is_reported(index.quotas[q])]


def paced_quota_ids(index: CatalogIndex, pace_quota_id: str) -> list[str]:
    """The windows a share target paces by: every reported quota of the named quota's endpoint."""
    quota = index.quotas.get(pace_quota_id)
    if quota is None or not is_reported(quota):
        return []
    return reported_quota_ids(index, quota.quota.endpoint_id)


def pace_of(
    index: CatalogIndex, quota_ids: list[str], usage: UsageStates, now_ms: int, recent_per_ms: float | None
) -> pacing.Pace:
    states = [state_of(usage, q) for q in quota_ids]
    return pacing.pace(states, [rule(index.quotas[q]) for q in quota_ids], now_ms, recent_per_ms)


def window_pace(
    index: CatalogIndex, quota_id: str, usage: UsageStates, now_ms: int, recent_per_ms: float | None
) -> pacing.WindowPace:
    quota = index.quotas[quota_id]
    r = rule(quota)
    return pacing.window_pace(
        state_of(usage, quota_id), now_ms, recent_per_ms, r.prior_per_turn, r.window_seconds, r.target
    )


def describe_hard_stop(quota: QuotaIndex, pace: pacing.WindowPace) -> str:
    target = rule(quota).target
    return (
        f"quota '{quota.quota.id}': the provider's window is used to about {pace.used_estimate:.0%}, "
        f"at or above the {target:.0%} the router stops at, until the window resets"
    )


def after_decision(
    index: CatalogIndex,
    usage: UsageStates,
    chosen_endpoint_id: str,
    paced_ids: list[str],
    main_turn: bool,
    now_ms: int,
) -> dict[str, pacing.UsageWindowState]:
    """A request sent to the chosen endpoint counts on its windows; a main turn counts as demand."""
    changed: dict[str, pacing.UsageWindowState] = {}
    if main_turn:
        for quota_id in paced_ids:
            changed[quota_id] = pacing.record_routable(state_of(usage, quota_id), now_ms)
    for quota_id in reported_quota_ids(index, chosen_endpoint_id):
        changed[quota_id] = pacing.record_turn(changed.get(quota_id) or state_of(usage, quota_id), now_ms)
    return changed


def after_outcome(
    index: CatalogIndex, usage: UsageStates, outcome: outcome_pb2.Outcome, now_ms: int
) -> dict[str, pacing.UsageWindowState]:
    """The reports of an outcome, recorded on the served endpoint's quotas of the same window."""
    changed: dict[str, pacing.UsageWindowState] = {}
    if not outcome.usage_windows:
        return changed
    for quota_id in reported_quota_ids(index, outcome.served_endpoint_id):
        window = index.quotas[quota_id].quota.usage_window
        for report in outcome.usage_windows:
            if report.window == window:
                state = changed.get(quota_id) or state_of(usage, quota_id)
                used = min(1.0, max(0.0, report.used_share))
                changed[quota_id] = pacing.record_report(state, used, report.resets_at.ToMilliseconds(), now_ms)
    return changed


def pace_fields(pace: pacing.WindowPace, state: pacing.UsageWindowState) -> dict[str, float | bool]:
    """``QuotaState.usage_pace`` as constructor fields."""
    return {
        "reported_share": state.used,
        "estimated_share": pace.used_estimate,
        "share_per_request": pace.per_turn,
        "estimate_backed": pace.backed,
        "allowed_share": pace.share,
    }


def reported_quota_state_fields(
    quota: QuotaIndex, state: pacing.UsageWindowState, pace: pacing.WindowPace, exhausted: bool
) -> dict[str, Any]:
    """A reported quota's QuotaState as constructor fields: no counts, its window's pacing instead."""
    q = quota.quota
    fields: dict[str, Any] = {
        "quota_id": q.id,
        "endpoint_id": q.endpoint_id,
        "window_kind": q.window_kind,
        "window_seconds": q.window_seconds,
        "exhausted": exhausted,
        "usage_pace": pace_fields(pace, state),
    }
    if state.resets_at_ms:
        seconds, millis = divmod(state.resets_at_ms, 1000)
        fields["resets_at"] = {"seconds": seconds, "nanos": millis * 1_000_000}
    return fields


def reported_quota_state(
    quota: QuotaIndex, state: pacing.UsageWindowState, pace: pacing.WindowPace, exhausted: bool
) -> decision_pb2.QuotaState:
    return decision_pb2.QuotaState(**reported_quota_state_fields(quota, state, pace, exhausted))
