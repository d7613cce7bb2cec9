"""The observed profile of an endpoint and its cooldown (spec 9.5 and RM-OUT-021).

Time to first token and failure rate are exponentially decayed averages
(v <- v + 0.2 (x - v), a half-life of about three outcomes), so the router
follows an endpoint that degrades within a handful of calls and forgets an
old incident as quickly. Three consecutive failures start a cooldown of 5
seconds that doubles with each further failure, up to 5 minutes.
"""

from __future__ import annotations

from dataclasses import replace

from rolemodel import latency
from rolemodel.v1 import catalog_pb2, common_pb2, outcome_pb2
from rolemodel_router.engine.route_input import FAILURE_CLASSES
from rolemodel_router.state.model import EndpointHealth

DECAY = latency.DECAY
COOLDOWN_AFTER = 3
COOLDOWN_BASE_MS = 5_000
COOLDOWN_MAX_MS = 300_000


def cooldown_ms(consecutive_failures: int) -> int:
    if consecutive_failures < COOLDOWN_AFTER:
        return 0
    doubled: int = COOLDOWN_BASE_MS << (consecutive_failures - COOLDOWN_AFTER)
    return min(COOLDOWN_MAX_MS, doubled)


def record_attempt(health: EndpointHealth, *, failed: bool, ttft_ms: int, now_ms: int) -> EndpointHealth:
    """The profile after one attempt on the endpoint."""
    consecutive = health.consecutive_failures + 1 if failed else 0
    pause = cooldown_ms(consecutive)
    return replace(
        health,
        observed_outcomes=health.observed_outcomes + 1,
        ttft_ms=latency.decayed(health.ttft_ms, float(ttft_ms)) if (ttft_ms > 0 and not failed) else health.ttft_ms,
        failure_rate=latency.decayed(health.failure_rate, 1.0 if failed else 0.0),
        consecutive_failures=consecutive,
        cooldown_until_ms=now_ms + pause if pause else health.cooldown_until_ms,
    )


def _speeds(
    health: EndpointHealth, outcome: outcome_pb2.Outcome, declared: catalog_pb2.LatencyProfile
) -> EndpointHealth:
    """Fold the speeds a served outcome reports, and its latency before prefill, into the profile (spec 9.5).

    A server measures its prefill speed at the prompt's depth; the router folds each report into
    the moments that fit how prefill slows with depth, and with a half-speed depth (observed or
    declared) keeps the speed at the start of a context, so each report is scaled up by how much
    its depth slowed it. The base latency sample subtracts the prefill of the outcome's uncached
    prompt tokens: at the speed the outcome reports (measured over this very prompt), else at the
    observed or declared start speed slowed by the depth. What is left is the part of the time
    to first token that does not grow with the prompt.
    """
    cached = outcome.usage.cache_read_tokens
    uncached = outcome.usage.input_tokens - cached
    moments = health.prefill_moments
    if outcome.prefill_tokens_per_second > 0 and uncached > 0:
        moments = latency.fold_prefill_moments(moments, uncached, cached, outcome.prefill_tokens_per_second)
    depth = half_speed_depth(moments, declared)
    prefill = health.prefill_tokens_per_second
    if outcome.prefill_tokens_per_second > 0:
        sample = latency.start_speed_sample(outcome.prefill_tokens_per_second, uncached, cached, depth)
        prefill = latency.decayed(prefill, sample)
    output = health.output_tokens_per_second
    if outcome.output_tokens_per_second > 0:
        output = latency.decayed(output, outcome.output_tokens_per_second)
    base = health.base_latency_ms
    if outcome.ttft_ms > 0:
        if outcome.prefill_tokens_per_second > 0:
            sample = latency.base_latency_sample(outcome.ttft_ms, uncached, outcome.prefill_tokens_per_second)
        else:
            speed = prefill or declared.prefill_tokens_per_second
            sample = latency.base_latency_sample(outcome.ttft_ms, uncached, speed, cached, depth)
        base = latency.decayed(base, sample)
    return replace(
        health,
        prefill_tokens_per_second=prefill,
        output_tokens_per_second=output,
        base_latency_ms=base,
        prefill_moments=moments,
    )


def half_speed_depth(moments: latency.PrefillMoments | None, declared: catalog_pb2.LatencyProfile) -> int:
    """The half-speed depth in effect (spec 9.5): what the outcomes show once they show one, else the declared one."""
    return latency.fitted_half_speed_depth(moments) or declared.prefill_half_speed_depth_tokens


def observe(
    health: EndpointHealth,
    outcome: outcome_pb2.Outcome,
    now_ms: int,
    *,
    declared: catalog_pb2.LatencyProfile | None = None,
) -> EndpointHealth:
    """The served endpoint's profile after an outcome; cancelled calls say nothing about it."""
    if outcome.outcome_class == common_pb2.OUTCOME_CLASS_CANCELLED:
        return health
    failed = outcome.outcome_class in FAILURE_CLASSES
    after = record_attempt(health, failed=failed, ttft_ms=outcome.ttft_ms, now_ms=now_ms)
    return after if failed else _speeds(after, outcome, declared or catalog_pb2.LatencyProfile())
