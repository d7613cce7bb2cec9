"""RouteLLM's metrics as the quality benchmark computes them: baselines, bounds and edge cases."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bench.routing_metrics import (
    area,
    expected_calibration_error,
    mean,
    metrics,
    oracle_curve,
    pgr_curve,
    random_curve,
    routing_curve,
    value_at,
)

outcomes = st.lists(st.tuples(st.booleans(), st.booleans(), st.floats(0, 1)), min_size=2, max_size=60).filter(
    lambda rows: sum(s for s, _, _ in rows) > sum(c for _, c, _ in rows)
)


def columns(rows: list[tuple[bool, bool, float]]) -> tuple[list[float], list[float], list[float]]:
    return [float(s) for s, _, _ in rows], [float(c) for _, c, _ in rows], [p for _, _, p in rows]


def test_random_router_has_the_textbook_values() -> None:
    strong, cheap = [1.0, 1.0, 1.0, 0.0], [1.0, 0.0, 0.0, 0.0]
    m = metrics(random_curve(strong, cheap), mean(strong), mean(cheap))
    assert (m.cpt50, m.cpt80, m.apgr) == pytest.approx((0.5, 0.8, 0.5))
    # 95% of 0.75 is 0.7125; the mix reaches it at share (0.7125 - 0.25) / 0.5
    assert m.s95 == pytest.approx(0.925)


def test_a_perfect_ranking_reaches_the_strong_score_early() -> None:
    strong, cheap = [1.0, 1.0, 0.0, 0.0], [0.0, 0.0, 0.0, 0.0]
    m = metrics(routing_curve([0.9, 0.8, 0.1, 0.2], strong, cheap), 0.5, 0.0)
    assert m.cpt50 == pytest.approx(0.25)
    assert m.s95 == pytest.approx(0.475)


def test_ties_cross_a_threshold_together() -> None:
    curve = routing_curve([0.5, 0.5, 0.5, 0.5], [1.0, 1.0, 0.0, 0.0], [0.0, 0.0, 0.0, 0.0])
    assert curve.share == (0.0, 1.0)  # one threshold step, the straight line of a random tie-break


@given(outcomes)
def test_the_oracle_bounds_every_router(rows: list[tuple[bool, bool, float]]) -> None:
    strong, cheap, scores = columns(rows)
    router = routing_curve(scores, strong, cheap)
    oracle = oracle_curve(strong, cheap)
    for share in (0.1, 0.25, 0.5, 0.75, 0.9):
        assert value_at(router, share) <= value_at(oracle, share) + 1e-9
    assert metrics(router, mean(strong), mean(cheap)).apgr <= metrics(oracle, mean(strong), mean(cheap)).apgr + 1e-9


@given(outcomes)
def test_curves_end_at_the_two_models(rows: list[tuple[bool, bool, float]]) -> None:
    strong, cheap, scores = columns(rows)
    curve = routing_curve(scores, strong, cheap)
    assert curve.share[0] == 0.0
    assert curve.share[-1] == 1.0
    assert curve.score[0] == pytest.approx(mean(cheap))
    assert curve.score[-1] == pytest.approx(mean(strong))
    pgr = pgr_curve(curve, mean(strong), mean(cheap))
    m = metrics(curve, mean(strong), mean(cheap))
    assert 0.0 <= m.cpt50 <= m.cpt80 <= 1.0
    assert m.apgr == pytest.approx(area(pgr))


def test_no_gap_is_an_error() -> None:
    with pytest.raises(ValueError, match="does not beat"):
        metrics(random_curve([0.0, 1.0], [1.0, 0.0]), 0.5, 0.5)


def test_calibration_error() -> None:
    ece, table = expected_calibration_error([0.1, 0.1, 0.9, 0.9], [0.0, 0.0, 1.0, 1.0])
    assert ece == pytest.approx(0.1)
    assert [count for _, _, count in table] == [2, 2]
    perfect, _ = expected_calibration_error([0.5, 0.5], [0.0, 1.0])
    assert perfect == 0.0
