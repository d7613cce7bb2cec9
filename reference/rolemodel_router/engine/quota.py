"""Quota windows: what is used, what is left, when it frees up (spec 9.6).

A quota's usage is the sum of the events (one per decision: a reservation,
later reconciled by the outcome) that fall in the current window. A fixed
window starts at a multiple of its length since the epoch; a rolling window
is the last ``window_seconds`` before now.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from google.protobuf import timestamp_pb2

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
        start = now_ms - length
        counted = [e for e in events if e.at_ms > start]
        resets = min((e.at_ms for e in counted), default=now_ms - length) + length
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


def _timestamp(ms: int) -> timestamp_pb2.Timestamp:
    ts = timestamp_pb2.Timestamp()
    ts.FromMilliseconds(ms)
    return ts


def quota_state(quota: QuotaIndex, window: Window, reserved: Need | None, exhausted: bool) -> decision_pb2.QuotaState:
    q = quota.quota
    used = decision_pb2.QuotaUsage(requests=window.requests, tokens=window.tokens, cost_picos=window.cost_picos)
    if reserved is not None:
        used = decision_pb2.QuotaUsage(
            requests=window.requests + reserved.requests,
            tokens=window.tokens + reserved.tokens,
            cost_picos=window.cost_picos + reserved.cost_picos,
        )
    limit = decision_pb2.QuotaUsage(requests=q.max_requests, tokens=q.max_tokens, cost_picos=quota.max_cost_picos)
    remaining = decision_pb2.QuotaUsage(
        requests=max(0, q.max_requests - used.requests) if q.max_requests else 0,
        tokens=max(0, q.max_tokens - used.tokens) if q.max_tokens else 0,
        cost_picos=max(0, quota.max_cost_picos - used.cost_picos) if quota.max_cost_picos else 0,
    )
    return decision_pb2.QuotaState(
        quota_id=q.id,
        endpoint_id=q.endpoint_id,
        window_kind=q.window_kind,
        window_seconds=q.window_seconds,
        limit=limit,
        used=used,
        remaining=remaining,
        reserved=(
            decision_pb2.QuotaUsage(requests=reserved.requests, tokens=reserved.tokens, cost_picos=reserved.cost_picos)
            if reserved
            else decision_pb2.QuotaUsage()
        ),
        resets_at=_timestamp(window.resets_at_ms),
        exhausted=exhausted,
    )


def prune(quota: QuotaIndex, events: Iterable[QuotaEvent], now_ms: int) -> tuple[QuotaEvent, ...]:
    """The events that can still count, now or in a later window."""
    length = quota.quota.window_seconds * 1000
    if quota.quota.window_kind == catalog_pb2.QUOTA_WINDOW_KIND_ROLLING:
        return tuple(e for e in events if e.at_ms > now_ms - length)
    start = now_ms - now_ms % length
    return tuple(e for e in events if e.at_ms >= start)
