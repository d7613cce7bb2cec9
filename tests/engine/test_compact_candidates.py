"""Compact candidates (spec 6.1, RM-ROUTE-012): the same decision, with the endpoints off the ladder counted.

A compact decision must choose exactly as the full one does; only the listing differs: the role's
ladder, the pin and the current endpoint are listed as in the full decision, the rest counted.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from rolemodel.error_reasons import ErrorReason
from rolemodel.v1 import decision_pb2, hints_pb2
from rolemodel_router.config.catalog_loader import load_catalog
from rolemodel_router.engine.catalog_index import CatalogIndex
from rolemodel_router.engine.decide import decide
from rolemodel_router.engine.difficulty import HeuristicEstimator
from rolemodel_router.engine.errors import RouterError
from rolemodel_router.engine.limits import Limits
from rolemodel_router.engine.plans import RouteSnapshot
from rolemodel_router.engine.route_input import build_route_input
from rolemodel_router.state.model import ConversationState
from tests.requests import conversation, route

ROOT = Path(__file__).resolve().parents[2]
FIXTURE = CatalogIndex(load_catalog(ROOT / "conformance" / "fixtures" / "catalog.yaml"))
D = decision_pb2
NOW = 1_700_000_000_000


def decisions(role: str, *, current: str = "", pinned: str = "") -> tuple[decision_pb2.Decision, decision_pb2.Decision]:
    """The full and the compact decision for the same request and state."""
    answers = []
    choice = hints_pb2.EndpointChoice(pinned_endpoint_id=pinned)
    for compact in (False, True):
        request = route(role, conversation(f"compact-{role}", [1200, 300]), difficulty=0.5, endpoint_choice=choice)
        request.compact_candidates = compact
        built = build_route_input(request, FIXTURE, Limits())
        snapshot = RouteSnapshot(ConversationState(f"compact-{role}", current), {}, {}, None, None)
        answers.append(decide(FIXTURE, snapshot, built, NOW, "d1", HeuristicEstimator()).decision)
    return answers[0], answers[1]


def ladder(role: str) -> set[str]:
    return set(FIXTURE.roles[role].tier_of)


@pytest.mark.parametrize("role", sorted(r for r in FIXTURE.roles if not r.startswith("x-conformance.quota")))
def test_a_compact_decision_chooses_alike_and_lists_the_ladder_with_the_rest_counted(role: str) -> None:
    try:
        full, compact = decisions(role)
    except RouterError as error:
        assert error.reason == ErrorReason.NO_ELIGIBLE_ENDPOINT
        return
    assert (compact.chosen_endpoint_id, list(compact.fallback_endpoint_ids)) == (
        full.chosen_endpoint_id,
        list(full.fallback_endpoint_ids),
    )
    assert [(r.code, r.detail) for r in compact.reasons] == [(r.code, r.detail) for r in full.reasons]
    listed = [c.endpoint_id for c in compact.candidates]
    assert listed == [e for e in FIXTURE.endpoint_order if e in ladder(role)]
    by_id = {c.endpoint_id: c for c in full.candidates}
    assert all(c == by_id[c.endpoint_id] for c in compact.candidates)
    left_out = len(FIXTURE.endpoint_order) - len(listed)
    expected = [(D.EXCLUSION_CODE_NOT_IN_ROLE, left_out)] if left_out else []
    assert [(o.code, o.endpoint_count) for o in compact.omitted_candidates] == expected
    assert not full.omitted_candidates and len(full.candidates) == len(FIXTURE.endpoint_order)
    assert list(compact.quota_states) == list(full.quota_states)


def test_the_pin_and_the_current_endpoint_are_listed_although_off_the_ladder() -> None:
    assert "fx-opus" not in ladder("chore") and "fx-mini" not in ladder("chore")
    full, compact = decisions("chore", current="fx-mini", pinned="fx-opus")
    listed = [c.endpoint_id for c in compact.candidates]
    assert {"fx-opus", "fx-mini"} <= set(listed) and compact.chosen_endpoint_id == full.chosen_endpoint_id == "fx-opus"
    assert sum(o.endpoint_count for o in compact.omitted_candidates) + len(listed) == len(FIXTURE.endpoint_order)


def test_a_refusal_lists_every_endpoint_even_when_compact_was_asked() -> None:
    """RM-ELIG-003: NO_ELIGIBLE_ENDPOINT names each endpoint with its exclusions and attaches them all."""
    with pytest.raises(RouterError) as caught:
        _refused()
    error = caught.value
    assert error.reason == ErrorReason.NO_ELIGIBLE_ENDPOINT
    listed = [e.split(":")[0] for e in error.metadata["exclusions"].split(";")]
    assert listed == list(FIXTURE.endpoint_order)
    attached = error.details[0]
    assert isinstance(attached, decision_pb2.Decision)
    assert [c.endpoint_id for c in attached.candidates] == list(FIXTURE.endpoint_order)
    assert not attached.omitted_candidates


def _refused() -> None:
    avoid = hints_pb2.EndpointChoice(avoid_endpoint_ids=sorted(ladder("chore")))
    request = route("chore", conversation("compact-refused", [300]), endpoint_choice=avoid)
    request.compact_candidates = True
    built = build_route_input(request, FIXTURE, Limits())
    snapshot = RouteSnapshot(ConversationState("compact-refused"), {}, {}, None, None)
    decide(FIXTURE, snapshot, built, NOW, "d1", HeuristicEstimator())
