"""Agent-aware estimation: the turn's new part decides, not the prompt that every turn repeats."""

from __future__ import annotations

from pathlib import Path

import pytest

from bench.agent_turns import (
    FAILING_PYTEST,
    PASSING_PYTEST,
    SYSTEM_PROMPT,
    TOOL_NAMES,
    after_test_run_body,
    first_turn_body,
    route_request,
)
from rolemodel.v1 import decision_pb2 as D
from rolemodel_router.config.catalog_loader import load_catalog
from rolemodel_router.engine.catalog_index import CatalogIndex
from rolemodel_router.engine.decide import decide
from rolemodel_router.engine.difficulty import DifficultyEstimator
from rolemodel_router.engine.limits import Limits
from rolemodel_router.engine.plans import RouteSnapshot
from rolemodel_router.engine.route_input import build_route_input
from rolemodel_router.engine.tiering import difficulty
from rolemodel_router.estimators.registry import DEFAULT_ESTIMATOR, load_estimator
from rolemodel_router.state.model import ConversationState

ROOT = Path(__file__).resolve().parents[2]
BUNDLED = CatalogIndex(load_catalog(ROOT / "examples" / "catalog.yaml"))
ESTIMATORS = ("heuristic", "lexical")


def estimated(body: dict[str, object], estimator: DifficultyEstimator) -> float:
    request = build_route_input(route_request(body), BUNDLED, Limits())
    return difficulty(request, estimator).value


def test_the_fixture_is_the_size_of_claude_codes_first_turn() -> None:
    assert len(SYSTEM_PROMPT) // 4 > 27_000
    assert len(TOOL_NAMES) == 24


def test_a_trivial_first_turn_is_not_sent_to_the_premium_tier_by_default() -> None:
    request = build_route_input(route_request(first_turn_body()), BUNDLED, Limits())
    snapshot = RouteSnapshot(ConversationState("agent-turn"), {}, {}, None, None)
    plan = decide(BUNDLED, snapshot, request, 1_700_000_000_000, "d1", load_estimator(DEFAULT_ESTIMATOR))
    premium = {e for tier in BUNDLED.roles["code.edit"].role.ladder[2:] for e in tier.endpoint_ids}
    assert plan.decision.difficulty.value < 0.6
    assert plan.decision.chosen_endpoint_id not in premium


@pytest.mark.parametrize("name", ESTIMATORS)
def test_the_constant_prompt_does_not_move_the_estimate(name: str) -> None:
    estimator = load_estimator(name)
    body = first_turn_body()
    bare = dict(body, system="You are an agent.", tools=[])
    assert estimated(body, estimator) == estimated(bare, estimator)


@pytest.mark.parametrize("name", ESTIMATORS)
def test_failing_tests_score_above_passing_tests(name: str) -> None:
    estimator = load_estimator(name)
    failing = estimated(after_test_run_body(FAILING_PYTEST), estimator)
    passing = estimated(after_test_run_body(PASSING_PYTEST), estimator)
    assert failing > passing


@pytest.mark.parametrize("name", ESTIMATORS)
def test_a_flagged_error_scores_above_a_clean_result(name: str) -> None:
    estimator = load_estimator(name)
    error = estimated(after_test_run_body("bash: pytst: command not found", is_error=True), estimator)
    clean = estimated(after_test_run_body("src/parser.py\nsrc/lexer.py"), estimator)
    assert error > clean


def test_the_decision_names_the_signals_that_moved_the_estimate() -> None:
    request = build_route_input(route_request(after_test_run_body(FAILING_PYTEST)), BUNDLED, Limits())
    snapshot = RouteSnapshot(ConversationState("agent-turn"), {}, {}, None, None)
    plan = decide(BUNDLED, snapshot, request, 1_700_000_000_000, "d2", load_estimator(DEFAULT_ESTIMATOR))
    reason = next(r for r in plan.decision.reasons if r.code == D.REASON_CODE_TIER_FROM_DIFFICULTY)
    assert "failing_tests +1.20" in reason.attributes["signals"]
    assert "failing_tests" in reason.detail
