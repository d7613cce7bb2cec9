"""Strategies: score admissible candidates and rank them (spec 6.6).

Each metric is normalised to [0, 1], higher is better, and weighted by the
strategy. A metric no candidate knows is dropped and its weight spread over
the others, so that "unknown" never silently counts as "bad".
"""

from __future__ import annotations

from typing import TypeAlias

from rolemodel.v1 import common_pb2, decision_pb2
from rolemodel_router.engine.catalog_index import CatalogIndex
from rolemodel_router.engine.eligibility import Candidate
from rolemodel_router.engine.plans import RouteSnapshot
from rolemodel_router.engine.route_input import RouteInput

Metric: TypeAlias = decision_pb2.ScoreMetric.ValueType
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
#: Added to costs before taking their ratio, so that a free endpoint does not
#: make every other cost score zero: one hundredth of a cent, in picounits.
COST_FLOOR_PICOS = 10**8
DEFAULT_QUALITY = 0.5
SCORE_DECIMALS = 9

DECLARED = common_pb2.VALUE_SOURCE_DECLARED
OBSERVED = common_pb2.VALUE_SOURCE_OBSERVED
ESTIMATED = common_pb2.VALUE_SOURCE_ESTIMATED
DEFAULT = common_pb2.VALUE_SOURCE_DEFAULT


def _latency(c: Candidate, snapshot: RouteSnapshot) -> tuple[float, common_pb2.ValueSource.ValueType] | None:
    """Expected end-to-end milliseconds and the source of the time to first token."""
    declared = c.index.endpoint.latency
    health = snapshot.health.get(c.endpoint_id)
    if health is not None and health.observed_outcomes >= MIN_OBSERVATIONS and health.ttft_ms is not None:
        ttft, source = health.ttft_ms, OBSERVED
    elif declared.ttft_ms:
        ttft, source = float(declared.ttft_ms), DECLARED
    else:
        ttft, source = None, DEFAULT
    tps = declared.output_tokens_per_second
    if ttft is None and not tps:
        return None
    streaming = 1000.0 * c.output_tokens / tps if tps else 0.0
    return (ttft or 0.0) + streaming, source


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
    qualities = {c.endpoint_id: index.quality(c.endpoint_id, role) for c in admissible}
    latencies = {c.endpoint_id: _latency(c, snapshot) for c in admissible}
    reliabilities = {c.endpoint_id: _reliability(c, snapshot) for c in admissible}
    known: dict[Metric, bool] = {
        COST: True,
        QUALITY: any(q is not None for q in qualities.values()),
        LATENCY: any(v is not None for v in latencies.values()),
        RELIABILITY: any(v is not None for v in reliabilities.values()),
    }
    weights = {m: w for m, w in WEIGHTS[strategy].items() if known[m]}
    total_weight = sum(weights.values())
    weights = {m: w / total_weight for m, w in weights.items()}
    cost_source = ESTIMATED if request.estimated_messages else DECLARED
    min_cost = min(c.amortized for c in admissible)
    known_latencies = [v[0] for v in latencies.values() if v is not None]
    min_latency = min(known_latencies) if known_latencies else 0.0
    for c in admissible:
        parts: list[decision_pb2.ScoreComponent] = []
        a = c.amortized
        parts.append(
            decision_pb2.ScoreComponent(
                metric=COST,
                raw_value=float(a),
                normalized=(min_cost + COST_FLOOR_PICOS) / (a + COST_FLOOR_PICOS),
                weight=weights[COST],
                source=cost_source,
            )
        )
        if QUALITY in weights:
            q = qualities[c.endpoint_id]
            value, source = (q, DECLARED) if q is not None else (DEFAULT_QUALITY, DEFAULT)
            c.quality = value
            parts.append(
                decision_pb2.ScoreComponent(
                    metric=QUALITY, raw_value=value, normalized=value, weight=weights[QUALITY], source=source
                )
            )
        if LATENCY in weights:
            lat = latencies[c.endpoint_id]
            if lat is None:
                parts.append(
                    decision_pb2.ScoreComponent(
                        metric=LATENCY, raw_value=0.0, normalized=0.0, weight=weights[LATENCY], source=DEFAULT
                    )
                )
            else:
                ms, source = lat
                normalized = (min_latency / ms) if ms > 0 else 1.0
                if request.latency_target_ms and ms > request.latency_target_ms:
                    normalized = 0.0
                parts.append(
                    decision_pb2.ScoreComponent(
                        metric=LATENCY, raw_value=ms, normalized=normalized, weight=weights[LATENCY], source=source
                    )
                )
        if RELIABILITY in weights:
            r = reliabilities[c.endpoint_id]
            value, source = (r, OBSERVED) if r is not None else (1.0, DEFAULT)
            parts.append(
                decision_pb2.ScoreComponent(
                    metric=RELIABILITY, raw_value=value, normalized=value, weight=weights[RELIABILITY], source=source
                )
            )
        c.components = parts
        c.score = sum(p.normalized * p.weight for p in parts)
        if c.quality is None:
            c.quality = qualities[c.endpoint_id]
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
