"""Strategies change the choice exactly as the formulas of spec 6.6 say."""

from __future__ import annotations

import pytest

from rolemodel import RouterClient
from rolemodel.v1 import common_pb2, decision_pb2
from tests.requests import conversation, new_id, route

# The fixture's chat role at difficulty 0.6: tier 1 (fx-mini, fx-deepseek) and tier 2 (fx-gpt5, fx-opus) are
# admissible. A cold 2,000-token prompt with 300 output tokens; prices in picounits per token.
PROMPT, OUTPUT = 2000, 300
COSTS = {
    "fx-mini": PROMPT * 250_000 + OUTPUT * 2_000_000,
    "fx-deepseek": PROMPT * 280_000 + OUTPUT * 420_000,
    "fx-gpt5": PROMPT * 1_250_000 + OUTPUT * 10_000_000,
    "fx-opus": PROMPT * 6_250_000 + OUTPUT * 25_000_000,  # explicit caching writes the cold prompt at the write price
}
QUALITY = {"fx-mini": 0.7, "fx-deepseek": 0.6, "fx-gpt5": 0.9, "fx-opus": 0.95}
LATENCY_MS = {
    "fx-mini": 500 + 1000 * OUTPUT / 90,
    "fx-deepseek": 1000 + 1000 * OUTPUT / 40,
    "fx-gpt5": 800 + 1000 * OUTPUT / 60,
    "fx-opus": 1500 + 1000 * OUTPUT / 45,
}
WEIGHTS = {
    common_pb2.STRATEGY_COST: (0.80, 0.10, 0.05),
    common_pb2.STRATEGY_BALANCED: (0.35, 0.35, 0.15),
    common_pb2.STRATEGY_QUALITY: (0.10, 0.80, 0.05),
    common_pb2.STRATEGY_LATENCY: (0.10, 0.05, 0.80),
}
FLOOR = 10**8


def expected_scores(strategy: common_pb2.Strategy.ValueType) -> dict[str, float]:
    """The spec's formula, written out independently: reliability is unknown, so its weight is spread."""
    w_cost, w_quality, w_latency = WEIGHTS[strategy]
    total = w_cost + w_quality + w_latency
    cheapest, fastest = min(COSTS.values()), min(LATENCY_MS.values())
    return {
        e: (
            w_cost * (cheapest + FLOOR) / (COSTS[e] + FLOOR)
            + w_quality * QUALITY[e]
            + w_latency * fastest / LATENCY_MS[e]
        )
        / total
        for e in COSTS
    }


@pytest.mark.parametrize(
    ("strategy", "winner"),
    [
        (common_pb2.STRATEGY_COST, "fx-deepseek"),
        (common_pb2.STRATEGY_QUALITY, "fx-opus"),
        (common_pb2.STRATEGY_LATENCY, "fx-mini"),
        (common_pb2.STRATEGY_BALANCED, "fx-deepseek"),
    ],
)
def test_each_strategy_scores_and_chooses_by_the_formula(
    client: RouterClient, strategy: common_pb2.Strategy.ValueType, winner: str
) -> None:
    d = client.route(
        route(
            "chat",
            conversation(new_id(), [PROMPT]),
            difficulty=0.6,
            expected_output=OUTPUT,
            strategy=strategy,
            dry_run=True,
        )
    )
    admissible = [c for c in d.candidates if c.eligible and c.HasField("tier") and c.tier >= d.policy.required_tier]
    scores = {c.endpoint_id: c.score.total for c in admissible}
    expected = expected_scores(strategy)
    assert scores.keys() == expected.keys()
    for endpoint, value in expected.items():
        assert scores[endpoint] == pytest.approx(value, abs=1e-9)
    assert d.chosen_endpoint_id == winner == max(expected, key=expected.__getitem__)
    assert d.policy.strategy == strategy
    assert any(r.code == decision_pb2.REASON_CODE_WEIGHTS_REDISTRIBUTED for r in d.reasons)
    for c in admissible:
        if c.HasField("score"):
            metrics = {p.metric for p in c.score.components}
            assert decision_pb2.SCORE_METRIC_RELIABILITY not in metrics
            assert all(p.source == common_pb2.VALUE_SOURCE_DECLARED for p in c.score.components)
            assert sum(p.weight for p in c.score.components) == pytest.approx(1.0)


def test_the_role_default_strategy_applies_without_a_hint(client: RouterClient) -> None:
    d = client.route(
        route("chat", conversation(new_id(), [PROMPT]), difficulty=0.6, expected_output=OUTPUT, dry_run=True)
    )
    assert d.policy.strategy == common_pb2.STRATEGY_COST
    assert d.chosen_endpoint_id == "fx-deepseek"


def test_cost_components_match_the_catalog_prices(client: RouterClient) -> None:
    d = client.route(
        route("chat", conversation(new_id(), [PROMPT]), difficulty=0.6, expected_output=OUTPUT, dry_run=True)
    )
    for c in d.candidates:
        if c.endpoint_id in COSTS:
            assert c.cost.total_picos == COSTS[c.endpoint_id]
            assert c.cost.amortized_picos == c.cost.total_picos and c.cost.horizon_turns == 1
