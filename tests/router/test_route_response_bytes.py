"""The Route response written straight from the decision is byte for byte a serialized RouteResponse."""

from __future__ import annotations

import pytest

from rolemodel.v1 import decision_pb2, router_service_pb2
from rolemodel_router.server.registration import route_response_bytes


@pytest.mark.parametrize("detail_chars", [0, 100, 20_000, 3_000_000])
def test_the_bytes_are_those_of_a_route_response(detail_chars: int) -> None:
    """Lengths of one, two, three and four varint bytes; an empty decision is still present."""
    decision = decision_pb2.Decision(decision_id="d-1" if detail_chars else "")
    if detail_chars:
        decision.reasons.add(detail="x" * detail_chars)
    wrapped = router_service_pb2.RouteResponse(decision=decision)
    data = route_response_bytes(decision)
    assert data == wrapped.SerializeToString()
    parsed = router_service_pb2.RouteResponse.FromString(data)
    assert parsed.HasField("decision") and parsed.decision == decision


def test_a_route_response_is_serialized_as_it_is() -> None:
    response = router_service_pb2.RouteResponse(decision=decision_pb2.Decision(decision_id="d-2"))
    assert route_response_bytes(response) == response.SerializeToString()
