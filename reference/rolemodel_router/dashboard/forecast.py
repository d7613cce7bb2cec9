"""Quotas and windows: use, reset and a straight-line forecast of whether the window lasts.

The forecast assumes use goes on at the pace seen so far. For a fixed window the pace is the use
since the window started; the projection at reset is the use now plus that pace times the time
left. A rolling window never resets as a whole, so its projection is that pace kept up for one
full window. The pace is measured over at least ``MIN_SPAN_MS`` so that one early request does
not read as a flood. A window lasts when the projection stays within the limit; otherwise the
forecast says when, at that pace, the limit would be reached. Pacing policies in the router may
act on richer signals; the decisions show what they decided.
"""

from __future__ import annotations

from rolemodel_router.dashboard.events import Event
from rolemodel_router.engine.catalog_index import CatalogIndex

MEASURES = ("requests", "tokens", "cost_picos")
MIN_SPAN_MS = 5 * 60_000


def _forecast(quota: Event, now_ms: int) -> list[Event]:
    window_ms = quota["window_seconds"] * 1000
    rolling = quota["window_kind"] == "ROLLING"
    if rolling:
        span_ms = min(window_ms, max(MIN_SPAN_MS, quota["at_ms"] - quota["first_seen_ms"]))
        to_reset_ms = window_ms
    else:
        span_ms = max(MIN_SPAN_MS, window_ms - max(0, quota["resets_at_ms"] - quota["at_ms"]))
        to_reset_ms = max(0, quota["resets_at_ms"] - now_ms)
    forecasts = []
    for measure in MEASURES:
        limit = quota["limit"][measure]
        if not limit:
            continue
        used = quota["used"][measure]
        rate_per_ms = used / span_ms
        projected = rate_per_ms * window_ms if rolling else used + rate_per_ms * to_reset_ms
        lasts = projected <= limit
        runs_out = None if lasts or rate_per_ms == 0 else int(now_ms + max(0, limit - used) / rate_per_ms)
        forecasts.append(
            {
                "measure": measure,
                "limit": limit,
                "used": used,
                "used_fraction": used / limit,
                "projected_at_reset": round(projected, 3),
                "lasts": lasts,
                "runs_out_at_ms": runs_out,
            }
        )
    return forecasts


def quotas_json(index: CatalogIndex, seen: dict[str, Event], now_ms: int) -> list[Event]:
    """Every catalog quota: its last state the router reported, or unused when no decision touched it."""
    rows = []
    for quota_id, quota in index.quotas.items():
        state = seen.get(quota_id)
        definition = quota.quota
        if state is None or (state["resets_at_ms"] and state["resets_at_ms"] <= now_ms):
            limit = {
                "requests": definition.max_requests,
                "tokens": definition.max_tokens,
                "cost_picos": quota.max_cost_picos,
            }
            rows.append(
                {
                    "quota_id": quota_id,
                    "endpoint": definition.endpoint_id,
                    "window_seconds": definition.window_seconds,
                    "limit": limit,
                    "used": dict.fromkeys(MEASURES, 0),
                    "seen": state is not None,
                    "window_reset_since": state is not None,
                    "forecast": [],
                }
            )
            continue
        forecast = _forecast(state, now_ms)
        rows.append({**state, "seen": True, "window_reset_since": False, "forecast": forecast})
    return rows
