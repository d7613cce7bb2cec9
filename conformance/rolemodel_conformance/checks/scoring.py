"""Strategies and scores: weights, normalisations, redistribution, tie-breaks, cheapest under COST (spec 6.6).

The expected score of each admissible candidate is rebuilt from the fixture
(declared quality and latency) and the candidate's amortised cost as spec 7
computes it; observed figures (after five outcomes) are taken from the
component itself, since the suite cannot know them in advance, but their
normalisation is still checked. Then the ranking must follow the stated order.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from rolemodel.v1 import common_pb2, decision_pb2, hints_pb2
from rolemodel_conformance.builders import Prompt, avoid, pin, route_request
from rolemodel_conformance.checks import check
from rolemodel_conformance.context import CheckContext
from rolemodel_conformance.expectations import Held, candidate, estimate, reason, reasons

D = decision_pb2
WEIGHTS = {
    common_pb2.STRATEGY_COST: (0.80, 0.10, 0.05, 0.05),
    common_pb2.STRATEGY_BALANCED: (0.35, 0.35, 0.15, 0.15),
    common_pb2.STRATEGY_QUALITY: (0.10, 0.80, 0.05, 0.05),
    common_pb2.STRATEGY_LATENCY: (0.10, 0.05, 0.80, 0.05),
}
METRICS = (D.SCORE_METRIC_COST, D.SCORE_METRIC_QUALITY, D.SCORE_METRIC_LATENCY, D.SCORE_METRIC_RELIABILITY)
COST_FLOOR = 10**8
MIN_OBSERVED = 5
TOLERANCE = 1e-9


def close(a: float, b: float) -> bool:
    return math.isclose(a, b, rel_tol=TOLERANCE, abs_tol=TOLERANCE)


@dataclass(frozen=True)
class Scene:
    role: str
    strategy: common_pb2.Strategy.ValueType
    admissible: tuple[str, ...]
    latency_target_ms: int = 0


def _observed(ctx: CheckContext) -> dict[str, int]:
    return {p.endpoint.id: p.status.observed_outcomes for p in ctx.probe.card().endpoints}


def _expected_latency(ctx: CheckContext, endpoint_id: str, c: D.Candidate) -> float:
    declared = ctx.fixture.endpoints[endpoint_id].latency
    return declared.ttft_ms + 1000.0 * c.cost.output_tokens / declared.output_tokens_per_second


def verify_scores(
    ctx: CheckContext, requirement: str, decision: D.Decision, scene: Scene, observed: dict[str, int]
) -> None:
    """Every admissible candidate's components, weights and total, and the ranking of chosen and fallbacks."""
    found = {e: candidate(decision, e) for e in scene.admissible}
    cands = {e: c for e, c in found.items() if c is not None and c.HasField("score")}
    missing = sorted(set(scene.admissible) - set(cands))
    if not ctx.expect(requirement, not missing, f"admissible candidates without a score: {missing}"):
        return
    known_reliability = any(observed.get(e, 0) >= MIN_OBSERVED for e in scene.admissible)
    weights = dict(zip(METRICS, WEIGHTS[scene.strategy], strict=True))
    if not known_reliability:
        del weights[D.SCORE_METRIC_RELIABILITY]
    scale = sum(weights.values())
    weights = {m: w / scale for m, w in weights.items()}
    amortized = {e: c.cost.amortized_picos for e, c in cands.items()}
    lowest = min(amortized.values())
    latencies: dict[str, float] = {}
    for e, c in cands.items():
        parts = {p.metric: p for p in c.score.components}
        ctx.expect(
            requirement,
            set(parts) == set(weights),
            f"'{e}' has components {sorted(D.ScoreMetric.Name(m) for m in parts)}, expected "
            f"{sorted(D.ScoreMetric.Name(m) for m in weights)}",
        )
        if set(parts) != set(weights):
            return
        for metric, part in parts.items():
            ctx.expect(
                requirement,
                close(part.weight, weights[metric]),
                f"'{e}' {D.ScoreMetric.Name(metric)} weight {part.weight}, expected {weights[metric]:.6f}",
            )
        cost_part = parts[D.SCORE_METRIC_COST]
        ctx.expect(
            requirement,
            close(cost_part.raw_value, amortized[e])
            and close(cost_part.normalized, (lowest + COST_FLOOR) / (amortized[e] + COST_FLOOR)),
            f"'{e}' cost component raw {cost_part.raw_value}, normalised {cost_part.normalized}",
        )
        quality = ctx.fixture.quality(e, scene.role)
        q = parts[D.SCORE_METRIC_QUALITY]
        ctx.expect(
            requirement,
            quality is not None and close(q.raw_value, quality) and close(q.normalized, quality),
            f"'{e}' quality raw {q.raw_value}, normalised {q.normalized}, declared {quality}",
        )
        lat = parts[D.SCORE_METRIC_LATENCY]
        if lat.source != common_pb2.VALUE_SOURCE_OBSERVED:
            want = _expected_latency(ctx, e, c)
            ctx.expect(
                requirement, close(lat.raw_value, want), f"'{e}' declared latency raw {lat.raw_value}, expected {want}"
            )
        latencies[e] = lat.raw_value
        if D.SCORE_METRIC_RELIABILITY in parts:
            rel = parts[D.SCORE_METRIC_RELIABILITY]
            ctx.expect(
                requirement,
                close(rel.raw_value, rel.normalized) and 0.0 <= rel.raw_value <= 1.0,
                f"'{e}' reliability raw {rel.raw_value} normalised {rel.normalized}",
            )
    fastest = min(latencies.values())
    for e, c in cands.items():
        parts = {p.metric: p for p in c.score.components}
        lat = parts[D.SCORE_METRIC_LATENCY]
        want = 0.0 if scene.latency_target_ms and lat.raw_value > scene.latency_target_ms else fastest / lat.raw_value
        ctx.expect(
            requirement, close(lat.normalized, want), f"'{e}' latency normalised {lat.normalized}, expected {want}"
        )
        total = sum(p.weight * p.normalized for p in c.score.components)
        ctx.expect(requirement, close(c.score.total, total), f"'{e}' total {c.score.total} is the weighted sum {total}")
    _verify_ranking(ctx, requirement, decision, cands)


def _verify_ranking(ctx: CheckContext, requirement: str, decision: D.Decision, cands: dict[str, D.Candidate]) -> None:
    def key(e: str) -> tuple[float, int, int, bytes]:
        c = cands[e]
        return (-round(c.score.total, 9), c.cost.amortized_picos, c.tier if c.HasField("tier") else 1 << 30, e.encode())

    order = sorted(cands, key=key)
    got = [decision.chosen_endpoint_id, *decision.fallback_endpoint_ids][: len(order)]
    ctx.expect(requirement, got == order, f"chosen and fallbacks {got}, expected the ranking {order}")


def _cost_route(ctx: CheckContext, strategy: common_pb2.Strategy.ValueType, latency_target_ms: int = 0) -> D.Decision:
    routing = hints_pb2.RoutingHints(role="x-conformance.cost", strategy=strategy)
    routing.limits.latency_target_ms = latency_target_ms
    return ctx.probe.route(route_request(Prompt.of([4000, 700, 300]).ref(ctx.ids.conversation("score")), routing))


ALL_COST = ("fx-gpt5", "fx-mini", "fx-opus", "fx-deepseek")


@check(
    "scoring",
    "Scores follow the weights and normalisations of 6.6, ranked in the stated order",
    ("RM-ROUTE-030", "RM-HINT-032"),
)
def scores(ctx: CheckContext) -> None:
    observed = _observed(ctx)
    for strategy in WEIGHTS:
        decision = _cost_route(ctx, strategy)
        scene = Scene("x-conformance.cost", strategy, ALL_COST)
        for requirement in ("RM-ROUTE-030", "RM-HINT-032"):
            verify_scores(ctx, requirement, decision, scene, observed)
    decision = _cost_route(ctx, common_pb2.STRATEGY_LATENCY, latency_target_ms=2500)
    verify_scores(
        ctx,
        "RM-ROUTE-030",
        decision,
        Scene("x-conformance.cost", common_pb2.STRATEGY_LATENCY, ALL_COST, 2500),
        observed,
    )
    chat = ctx.probe.route(
        route_request(
            Prompt.of([900]).ref(ctx.ids.conversation("score")), hints_pb2.RoutingHints(role="chat", difficulty=0.6)
        )
    )
    verify_scores(
        ctx,
        "RM-ROUTE-030",
        chat,
        Scene("chat", common_pb2.STRATEGY_COST, ("fx-gpt5", "fx-mini", "fx-opus", "fx-deepseek")),
        observed,
    )


@check("scoring", "A metric no candidate knows is dropped, with WEIGHTS_REDISTRIBUTED", ("RM-ROUTE-031",))
def redistribution(ctx: CheckContext) -> None:
    observed = _observed(ctx)
    decision = _cost_route(ctx, common_pb2.STRATEGY_BALANCED)
    known = any(observed.get(e, 0) >= MIN_OBSERVED for e in ALL_COST)
    why = reason(decision, "WEIGHTS_REDISTRIBUTED")
    mentioned = why is not None and "reliability" in (why.detail + " " + " ".join(why.attributes.values()))
    if known:
        ctx.expect(
            "RM-ROUTE-031",
            why is None or not mentioned,
            "reliability is observed for some candidate, so it is not dropped",
        )
    else:
        ctx.expect(
            "RM-ROUTE-031",
            mentioned,
            f"no candidate has 5 outcomes: WEIGHTS_REDISTRIBUTED naming reliability; got {reasons(decision)}",
        )
    verify_scores(
        ctx, "RM-ROUTE-031", decision, Scene("x-conformance.cost", common_pb2.STRATEGY_BALANCED, ALL_COST), observed
    )


WARM_COST_PAIR = ("fx-gpt5", "fx-mini")


@check(
    "scoring",
    "COST picks the lowest amortised cost when the other components tie; horizons count",
    ("RM-ROUTE-032", "RM-COST-010"),
)
def cheapest_under_cost(ctx: CheckContext) -> None:
    """The vectors' seed question over the wire: fx-gpt5 warm against fx-mini cold, one turn and then two.

    The fixture gives both the same quality for x-conformance.cost; a latency
    target of 1 ms puts both latencies at 0; reliability is equal unless
    outcomes differ, which the check verifies before it judges.
    """
    first = Prompt.of([59200])
    second = first.extend([800, 500])
    accounting = ctx.claims("ROUTER_CAPABILITY_CACHE_ACCOUNTING")
    for horizon, requirement in ((1, "RM-ROUTE-032"), (2, "RM-COST-010")):
        # A conversation of its own for each horizon, so that no step needs a dry run. Without cache
        # accounting the pair is compared cold: a router that does not claim it need not hold prefixes.
        conversation = ctx.ids.conversation("seed")
        held = None
        if accounting:
            warmup = hints_pb2.RoutingHints(
                role="x-conformance.cost", endpoint_choice=pin("fx-gpt5"), expected_output_tokens=800
            )
            ctx.probe.route(route_request(first.ref(conversation), warmup))
            held = Held(first, 800)
        routing = hints_pb2.RoutingHints(
            role="x-conformance.cost",
            strategy=common_pb2.STRATEGY_COST,
            endpoint_choice=avoid("fx-opus", "fx-deepseek"),
            expected_output_tokens=800,
            horizon_turns=horizon,
        )
        routing.limits.latency_target_ms = 1
        prompt, turn = (second, 1) if accounting else (first, 0)
        decision = ctx.probe.route(route_request(prompt.ref(conversation, turn), routing))
        if not _other_components_tie(decision):
            ctx.not_testable(requirement, "quality, latency and reliability do not tie between fx-gpt5 and fx-mini")
            continue
        costs = {
            e: estimate(
                ctx.fixture, e, prompt, held=held if e == "fx-gpt5" else None, output_hint=800, horizon=horizon
            ).amortized_picos
            for e in WARM_COST_PAIR
        }
        cheapest = min(costs, key=lambda e: costs[e])
        ctx.expect(
            requirement,
            decision.chosen_endpoint_id == cheapest,
            f"horizon {horizon}: amortised {costs}, so '{cheapest}' must be chosen; got "
            f"'{decision.chosen_endpoint_id}'",
        )


def _other_components_tie(decision: D.Decision) -> bool:
    values = []
    for e in WARM_COST_PAIR:
        c = candidate(decision, e)
        if c is None or not c.HasField("score"):
            return False
        values.append({p.metric: round(p.normalized, 9) for p in c.score.components if p.metric != D.SCORE_METRIC_COST})
    return values[0] == values[1]
