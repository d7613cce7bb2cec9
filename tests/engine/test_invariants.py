"""Properties every decision has, for any request hypothesis can build (spec 6.1, 6.3).

These run the engine in-process on the fixture catalog: the chosen endpoint
and the fallbacks are eligible and distinct, ranks are consistent, every
eligible candidate is costed, and hard constraints are never violated.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from rolemodel.v1 import common_pb2, decision_pb2, hints_pb2
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
INDEX = CatalogIndex(load_catalog(ROOT / "conformance" / "fixtures" / "catalog.yaml"))
ENDPOINTS = sorted(INDEX.endpoints)
ROLES = sorted(INDEX.roles)
D = decision_pb2
CAPABILITIES = [v for v in common_pb2.Capability.values() if v]
MODALITIES = [common_pb2.MODALITY_TEXT, common_pb2.MODALITY_IMAGE]
STRATEGIES = list(common_pb2.Strategy.values())


@st.composite
def requests(draw: st.DrawFn) -> object:
    role = draw(st.sampled_from(ROLES))
    counts = draw(st.lists(st.integers(min_value=1, max_value=60_000), min_size=1, max_size=6))
    avoid = draw(st.lists(st.sampled_from(ENDPOINTS), max_size=3, unique=True))
    pin = draw(st.one_of(st.none(), st.sampled_from(ENDPOINTS)))
    if pin in avoid:
        pin = None
    hints: dict[str, Any] = {
        "endpoint_choice": hints_pb2.EndpointChoice(pinned_endpoint_id=pin or "", avoid_endpoint_ids=avoid),
        "locality": draw(st.sampled_from([0, common_pb2.LOCALITY_LOCAL, common_pb2.LOCALITY_REMOTE])),
        "requirements": hints_pb2.Requirements(
            capabilities=draw(st.lists(st.sampled_from(CAPABILITIES), max_size=2, unique=True)),
            modalities=draw(st.lists(st.sampled_from(MODALITIES), max_size=1)),
        ),
    }
    if draw(st.booleans()):
        hints["labels"] = {"data": "private"}
    if draw(st.booleans()):
        hints["side_request"] = hints_pb2.SideRequest(merge_back=draw(st.booleans()))
    return route(
        role,
        conversation("prop", counts, turn_index=draw(st.integers(0, 5))),
        difficulty=draw(st.one_of(st.none(), st.floats(0, 1))),
        strategy=draw(st.sampled_from(STRATEGIES)),
        expected_output=draw(st.one_of(st.none(), st.integers(0, 5000))),
        **hints,
    )


HARD = {
    D.EXCLUSION_CODE_CAPABILITY_MISSING,
    D.EXCLUSION_CODE_MODALITY_UNSUPPORTED,
    D.EXCLUSION_CODE_CONTEXT_WINDOW_EXCEEDED,
    D.EXCLUSION_CODE_LOCALITY_MISMATCH,
    D.EXCLUSION_CODE_AVOIDED,
    D.EXCLUSION_CODE_POLICY_DENIED,
}


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow], deadline=None)
@given(requests())
def test_every_decision_respects_the_record_invariants(request: object) -> None:
    snapshot = RouteSnapshot(ConversationState("prop"), {}, {}, None, None)
    route_input = build_route_input(request, INDEX, Limits())  # type: ignore[arg-type]
    try:
        plan = decide(INDEX, snapshot, route_input, 1_000_000, "d-prop", HeuristicEstimator())
    except RouterError as error:
        assert error.reason.value in ("NO_ELIGIBLE_ENDPOINT", "PINNED_ENDPOINT_INELIGIBLE")
        assert error.details, "a refusal carries the decision with every candidate"
        return
    d = plan.decision
    by_id = {c.endpoint_id: c for c in d.candidates}
    assert [c.endpoint_id for c in d.candidates] == list(INDEX.endpoint_order)
    used = [d.chosen_endpoint_id, *d.fallback_endpoint_ids]
    assert len(used) == len(set(used))
    for position, endpoint_id in enumerate(used, start=1):
        candidate = by_id[endpoint_id]
        assert candidate.eligible and not candidate.exclusions
        assert candidate.rank == position
        assert not HARD & {e.code for e in candidate.exclusions}
    for c in d.candidates:
        assert c.eligible == (not c.exclusions)
        if c.endpoint_id not in used:
            assert c.rank == 0
        if c.eligible:
            assert c.HasField("cost")
    chosen_cost = by_id[d.chosen_endpoint_id].cost
    assert (d.handoff.cached_prefix_tokens, d.handoff.uncached_tokens) == (
        chosen_cost.cached_tokens,
        chosen_cost.uncached_tokens,
    )
    assert d.prompt_tokens == chosen_cost.prompt_tokens
    pinned = route_input.pinned
    if pinned:
        assert d.chosen_endpoint_id == pinned and not d.fallback_endpoint_ids
    chosen_tier = by_id[d.chosen_endpoint_id].tier if by_id[d.chosen_endpoint_id].HasField("tier") else None
    downgraded = any(r.code == D.REASON_CODE_DOWNGRADED for r in d.reasons)
    if not pinned and chosen_tier is not None and chosen_tier < d.policy.required_tier:
        assert downgraded or any(r.code == D.REASON_CODE_TOOL_LOOP_PINNED for r in d.reasons)
