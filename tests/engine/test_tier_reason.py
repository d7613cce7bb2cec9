"""The ``TIER_FROM_DIFFICULTY`` reason says the tier as a person would: by name, with the threshold that decided it."""

from __future__ import annotations

from pathlib import Path

import pytest

from rolemodel.v1 import decision_pb2 as D
from rolemodel_router.config.catalog_loader import load_catalog
from rolemodel_router.engine.catalog_index import CatalogIndex
from rolemodel_router.engine.decide import decide
from rolemodel_router.engine.limits import Limits
from rolemodel_router.engine.plans import RouteSnapshot
from rolemodel_router.engine.route_input import build_route_input
from rolemodel_router.estimators.registry import DEFAULT_ESTIMATOR, load_estimator
from rolemodel_router.state.model import ConversationState
from tests.requests import conversation, route

EXAMPLE = CatalogIndex(load_catalog(Path(__file__).resolve().parents[2] / "examples" / "catalog.yaml"))
ESTIMATOR = load_estimator(DEFAULT_ESTIMATOR)


@pytest.mark.parametrize(
    ("role", "difficulty", "said"),
    [
        # code.plan starts at strong models (mid: claude-sonnet-4-5, gpt-5): tier 0 is not "the cheap one"
        ("code.plan", 0.45, "difficulty 0.45 (declared) is under the 0.50 that tier 1 (premium) needs, so tier 0 (mid) "
         "is enough"),
        ("code.plan", 0.7, "difficulty 0.70 (declared) reaches the 0.50 that tier 1 (premium) needs"),
        ("code.edit", 0.9, "difficulty 0.90 (declared) reaches the 0.80 that tier 2 (premium) needs"),
        ("chore", 0.9, "difficulty 0.90 (declared): tier 0 (local) is enough; the higher tiers are reached only by "
         "escalation or a pin"),
    ],
)  # fmt: skip
def test_the_tier_reason_names_the_threshold_that_decided(role: str, difficulty: float, said: str) -> None:
    request = build_route_input(route(role, conversation("c-tier", [200]), difficulty=difficulty), EXAMPLE, Limits())
    snapshot = RouteSnapshot(ConversationState("c-tier"), {}, {}, None, None)
    plan = decide(EXAMPLE, snapshot, request, 1_700_000_000_000, "d-tier", ESTIMATOR)
    (reason,) = [r for r in plan.decision.reasons if r.code == D.REASON_CODE_TIER_FROM_DIFFICULTY]
    assert reason.detail == said
