"""The observed profile of an endpoint and its cooldown (spec 9.5 and RM-OUT-021).

Time to first token and failure rate are exponentially decayed averages
(v <- v + 0.2 (x - v), a half-life of about three outcomes), so the router
follows an endpoint that degrades within a handful of calls and forgets an
old incident as quickly. Three consecutive failures start a cooldown of 5
seconds that doubles with each further failure, up to 5 minutes.
"""

from __future__ import annotations

from rolemodel.v1 import common_pb2, outcome_pb2
from rolemodel_router.engine.route_input import FAILURE_CLASSES
from rolemodel_router.state.model import EndpointHealth

DECAY = 0.2
COOLDOWN_AFTER = 3
COOLDOWN_BASE_MS = 5_000
COOLDOWN_MAX_MS = 300_000


def _decayed(previous: float | None, sample: float) -> float:
    return sample if previous is None else previous + DECAY * (sample - previous)


def cooldown_ms(consecutive_failures: int) -> int:
    if consecutive_failures < COOLDOWN_AFTER:
        return 0
    doubled: int = COOLDOWN_BASE_MS << (consecutive_failures - COOLDOWN_AFTER)
    return min(COOLDOWN_MAX_MS, doubled)


def record_attempt(health: EndpointHealth, *, failed: bool, ttft_ms: int, now_ms: int) -> EndpointHealth:
    """The profile after one attempt on the endpoint."""
    consecutive = health.consecutive_failures + 1 if failed else 0
    pause = cooldown_ms(consecutive)
    return EndpointHealth(
        observed_outcomes=health.observed_outcomes + 1,
        ttft_ms=_decayed(health.ttft_ms, float(ttft_ms)) if (ttft_ms > 0 and not failed) else health.ttft_ms,
        failure_rate=_decayed(health.failure_rate, 1.0 if failed else 0.0),
        consecutive_failures=consecutive,
        cooldown_until_ms=now_ms + pause if pause else health.cooldown_until_ms,
    )


def observe(health: EndpointHealth, outcome: outcome_pb2.Outcome, now_ms: int) -> EndpointHealth:
    """The served endpoint's profile after an outcome; cancelled calls say nothing about it."""
    if outcome.outcome_class == common_pb2.OUTCOME_CLASS_CANCELLED:
        return health
    return record_attempt(
        health, failed=outcome.outcome_class in FAILURE_CLASSES, ttft_ms=outcome.ttft_ms, now_ms=now_ms
    )
