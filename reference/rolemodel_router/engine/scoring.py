"""Strategies: score admissible candidates and rank them (spec 6.6).

Each metric is normalised to [0, 1], higher is better, and weighted by the
strategy. A metric no candidate knows is dropped and its weight spread over
the others, so that "unknown" never silently counts as "bad". Components are
kept as plain tuples here and become proto messages once, when the decision
is assembled.
"""

from __future__ import annotations

from rolemodel import latency
from rolemodel.v1 import common_pb2, decision_pb2
from rolemodel_router.engine.catalog_index import CatalogIndex
from rolemodel_router.engine.components import Component, Metric, Source
from rolemodel_router.engine.eligibility import Candidate
from rolemodel_router.engine.health import half_speed_depth
from rolemodel_router.engine.plans import RouteSnapshot
from rolemodel_router.engine.route_input import RouteInput

COST, QUALITY, LATENCY, RELIABILITY = (
    decision_pb2.SCORE_METRIC_COST,
    decision_pb2.SCORE_METRIC_QUALITY,
    decision_pb2.SCORE_METRIC_LATENCY,
    decision_pb2.SCORE_METRIC_RELIABILITY,
)
METRIC_NAMES: dict[Metric, str] = {COST: "cost", QUALITY: "quality", LATENCY: "latency", RELIABILITY: "reliability"}
WEIGHTS: dict[common_pb2.Strategy.ValueType, dict[Metric, float]] = {
    common_pb2.STRATEGY_COST: {COST: 0.80, QUALITY: 0.10, LATENCY: 0.05, RELIABILITY: 0.05},
    common_pb2.STRATEGY_BALANCED: {COST: 0.35, QUALITY: 0.35, LATENCY: 0.15, RELIABILITY: 0.15},
    common_pb2.STRATEGY_QUALITY: {COST: 0.10, QUALITY: 0.80, LATENCY: 0.05, RELIABILITY: 0.05},
    common_pb2.STRATEGY_LATENCY: {COST: 0.10, QUALITY: 0.05, LATENCY: 0.80, RELIABILITY: 0.05},
}
#: Outcomes needed before observed figures replace declared ones.
MIN_OBSERVATIONS = 5
DEFAULT_QUALITY = 0.5
SCORE_DECIMALS = 9
#: Added to costs before taking their ratio, so that a free endpoint does not
#: make every other cost score zero: one hundredth of a cent, in picounits.
COST_FLOOR_PICOS = 10**8

DECLARED = common_pb2.VALUE_SOURCE_DECLARED
OBSERVED = common_pb2.VALUE_SOURCE_OBSERVED
ESTIMATED = common_pb2.VALUE_SOURCE_ESTIMATED
DEFAULT = common_pb2.VALUE_SOURCE_DEFAULT


def _latency(c: Candidate, snapshot: RouteSnapshot) -> tuple[float, Source] | None:
    """Expected end-to-end milliseconds (spec 6.6) and the source of the figures; None when nothing is known.

    The time to first token grows with the uncached prompt tokens at the prefill speed, slowed by
    the cached tokens before them when the endpoint declares how prefill slows with depth, and a
    choice that evicts other conversations from the endpoint's cache is charged the time they
    will spend prefilling again. Speeds reported by outcomes (measured by the server) replace the
    declared ones at once; the base latency, measured end to end, only after five outcomes.
    """
    declared = c.index.endpoint.latency
    health = snapshot.health.get(c.endpoint_id)
    observed = health is not None and health.observed_outcomes >= MIN_OBSERVATIONS
    base_source = DEFAULT
    base: float | None = None
    if observed and health is not None and health.base_latency_ms is not None:
        base, base_source = health.base_latency_ms, OBSERVED
    elif observed and health is not None and health.ttft_ms is not None:
        base, base_source = health.ttft_ms, OBSERVED
    elif declared.ttft_ms:
        base, base_source = float(declared.ttft_ms), DECLARED
    prefill, prefill_source = _speed(
        health.prefill_tokens_per_second if health else None, declared.prefill_tokens_per_second
    )
    output, _ = _speed(health.output_tokens_per_second if health else None, declared.output_tokens_per_second)
    if base is None and not output and not prefill:
        return None
    turn = c.costing.turn if c.costing else None
    c.latency = latency.estimate(
        base_ms=base or 0.0,
        prefill_tokens=turn.uncached_tokens if turn else c.prompt_tokens,
        prefill_tokens_per_second=prefill,
        output_tokens=c.output_tokens,
        output_tokens_per_second=output,
        evicted_tokens=c.admission.evicted_tokens if c.admission else 0,
        cached_tokens=turn.cached_tokens if turn else 0,
        half_speed_depth_tokens=half_speed_depth(health.prefill_moments if health else None, declared),
    )
    c.latency_sources = (base_source, prefill_source)
    if OBSERVED in (base_source, prefill_source):
        source = OBSERVED
    else:
        source = DECLARED if DECLARED in (base_source, prefill_source) else base_source
    return c.latency.total_ms, source


def _speed(observed: float | None, declared: float) -> tuple[float, Source]:
    if observed:
        return observed, OBSERVED
    return declared, (DECLARED if declared else DEFAULT)


def _reliability(c: Candidate, snapshot: RouteSnapshot) -> float | None:
    health = snapshot.health.get(c.endpoint_id)
    if health is None or health.observed_outcomes < MIN_OBSERVATIONS or health.failure_rate is None:
        return None
    return 1.0 - health.failure_rate


def score(
    admissible: list[Candidate],
    index: CatalogIndex,
    request: RouteInput,
    snapshot: RouteSnapshot,
    strategy: common_pb2.Strategy.ValueType,
) -> list[str]:
    """Score every admissible candidate in place; returns the names of the metrics dropped."""
    role = request.role.role.name
    qualities = [index.quality(c.endpoint_id, role) for c in admissible]
    latencies = [_latency(c, snapshot) for c in admissible]
    reliabilities = [_reliability(c, snapshot) for c in admissible]
    known: dict[Metric, bool] = {
        COST: True,
        QUALITY: any(q is not None for q in qualities),
        LATENCY: any(v is not None for v in latencies),
        RELIABILITY: any(v is not None for v in reliabilities),
    }
    weights = {m: w for m, w in WEIGHTS[strategy].items() if known[m]}
    total_weight = sum(weights.values())
    w_cost = weights[COST] / total_weight
    w_quality = weights.get(QUALITY, 0.0) / total_weight
    w_latency = weights.get(LATENCY, 0.0) / total_weight
    w_reliability = weights.get(RELIABILITY, 0.0) / total_weight
    cost_source = ESTIMATED if request.estimated_messages else DECLARED
    floor_cost = min(c.amortized for c in admissible) + COST_FLOOR_PICOS
    known_latencies = [v[0] for v in latencies if v is not None]
    min_latency = min(known_latencies) if known_latencies else 0.0
    target = request.latency_target_ms
    for c, q, lat, rel in zip(admissible, qualities, latencies, reliabilities, strict=True):
        normalized_cost = floor_cost / (c.amortized + COST_FLOOR_PICOS)
        parts = [Component(COST, float(c.amortized), normalized_cost, w_cost, cost_source)]
        total = normalized_cost * w_cost
        if w_quality:
            value = q if q is not None else DEFAULT_QUALITY
            parts.append(Component(QUALITY, value, value, w_quality, DECLARED if q is not None else DEFAULT))
            total += value * w_quality
            c.quality = value
        else:
            c.quality = q
        if w_latency:
            if lat is None:
                parts.append(Component(LATENCY, 0.0, 0.0, w_latency, DEFAULT))
            else:
                ms, source = lat
                normalized = 0.0 if (target and ms > target) else ((min_latency / ms) if ms > 0 else 1.0)
                parts.append(Component(LATENCY, ms, normalized, w_latency, source))
                total += normalized * w_latency
        if w_reliability:
            value = rel if rel is not None else 1.0
            parts.append(Component(RELIABILITY, value, value, w_reliability, OBSERVED if rel is not None else DEFAULT))
            total += value * w_reliability
        c.components = parts
        c.score = total
    return [METRIC_NAMES[m] for m, ok in known.items() if not ok]


def rank_key(c: Candidate) -> tuple[float, int, int, bytes]:
    """Higher score, then lower amortised cost, then lower tier, then endpoint id (spec 6.6)."""
    return (
        -round(c.score, SCORE_DECIMALS),
        c.amortized,
        c.tier if c.tier is not None else 1 << 30,
        c.endpoint_id.encode(),
    )


def ranked(candidates: list[Candidate]) -> list[Candidate]:
    return sorted(candidates, key=rank_key)
