"""Quota windows: what is used, what is left, when it frees up (spec 9.6).

A quota's usage is the sum of the events (one per decision: a reservation,
later reconciled by the outcome) that fall in the current window. A fixed
window starts at a multiple of its length since the epoch; a rolling window
is the last ``window_seconds`` before now.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from rolemodel.v1 import catalog_pb2, decision_pb2
from rolemodel_router.engine.catalog_index import QuotaIndex
from rolemodel_router.state.model import QuotaEvent


@dataclass(frozen=True)
class Need:
    requests: int
    tokens: int
    cost_picos: int


@dataclass(frozen=True)
class Window:
    requests: int
    tokens: int
    cost_picos: int
    resets_at_ms: int
    start_ms: int


def window_usage(quota: QuotaIndex, events: Iterable[QuotaEvent], now_ms: int) -> Window:
    length = quota.quota.window_seconds * 1000
    if quota.quota.window_kind == catalog_pb2.QUOTA_WINDOW_KIND_ROLLING:
        start = now_ms - length + 1  # the first millisecond that still counts
        counted = [e for e in events if e.at_ms >= start]
        resets = min((e.at_ms for e in counted), default=now_ms) + length
    else:
        start = now_ms - now_ms % length
        counted = [e for e in events if e.at_ms >= start]
        resets = start + length
    return Window(
        requests=sum(e.requests for e in counted),
        tokens=sum(e.tokens for e in counted),
        cost_picos=sum(e.cost_picos for e in counted),
        resets_at_ms=resets,
        start_ms=start,
    )


def empty_window(quota: QuotaIndex, now_ms: int) -> Window:
    return window_usage(quota, (), now_ms)


def admits(quota: QuotaIndex, window: Window, need: Need) -> bool:
    q = quota.quota
    if q.max_requests and window.requests + need.requests > q.max_requests:
        return False
    if q.max_tokens and window.tokens + need.tokens > q.max_tokens:
        return False
    return not (quota.max_cost_picos and window.cost_picos + need.cost_picos > quota.max_cost_picos)


def describe_exhaustion(quota: QuotaIndex, window: Window) -> str:
    q = quota.quota
    parts = []
    if q.max_requests:
        parts.append(f"{window.requests}/{q.max_requests} requests")
    if q.max_tokens:
        parts.append(f"{window.tokens}/{q.max_tokens} tokens")
    if quota.max_cost_picos:
        parts.append(f"{window.cost_picos}/{quota.max_cost_picos} picounits")
    return f"quota '{q.id}' ({', '.join(parts)}) cannot admit this request until its window frees capacity"


def quota_state_fields(quota: QuotaIndex, window: Window, reserved: Need | None, exhausted: bool) -> dict[str, Any]:
    """A QuotaState as constructor fields (nested messages as dicts, built in place)."""
    q = quota.quota
    add = reserved or Need(0, 0, 0)
    used = (window.requests + add.requests, window.tokens + add.tokens, window.cost_picos + add.cost_picos)
    limits = (q.max_requests, q.max_tokens, quota.max_cost_picos)
    remaining = [max(0, limit - value) if limit else 0 for limit, value in zip(limits, used, strict=True)]
    seconds, millis = divmod(window.resets_at_ms, 1000)
    return {
        "quota_id": q.id,
        "endpoint_id": q.endpoint_id,
        "window_kind": q.window_kind,
        "window_seconds": q.window_seconds,
        "limit": {"requests": limits[0], "tokens": limits[1], "cost_picos": limits[2]},
        "used": {"requests": used[0], "tokens": used[1], "cost_picos": used[2]},
        "remaining": {"requests": remaining[0], "tokens": remaining[1], "cost_picos": remaining[2]},
        "reserved": {"requests": add.requests, "tokens": add.tokens, "cost_picos": add.cost_picos},
        "resets_at": {"seconds": seconds, "nanos": millis * 1_000_000},
        "exhausted": exhausted,
    }


def quota_state(quota: QuotaIndex, window: Window, reserved: Need | None, exhausted: bool) -> decision_pb2.QuotaState:
    return decision_pb2.QuotaState(**quota_state_fields(quota, window, reserved, exhausted))


def prune(quota: QuotaIndex, events: Iterable[QuotaEvent], now_ms: int) -> tuple[QuotaEvent, ...]:
    """The events that can still count, now or in a later window."""
    length = quota.quota.window_seconds * 1000
    if quota.quota.window_kind == catalog_pb2.QUOTA_WINDOW_KIND_ROLLING:
        return tuple(e for e in events if e.at_ms > now_ms - length)
    start = now_ms - now_ms % length
    return tuple(e for e in events if e.at_ms >= start)
