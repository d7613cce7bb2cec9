"""Rich statuses round-trip into the typed exceptions the registry prescribes."""

from __future__ import annotations

import grpc
import pytest

from rolemodel.error_reasons import ERROR_DOMAIN, ERROR_SPECS, ErrorReason
from rolemodel.errors import (
    InvalidRequestError,
    NoEligibleEndpointError,
    ProtocolError,
    RoleModelError,
    error_from_status,
)
from rolemodel.status import FieldViolation, build_status, status_from_trailers, unpack_details
from rolemodel.v1 import decision_pb2


@pytest.mark.parametrize("reason", list(ErrorReason))
def test_every_reason_round_trips_with_its_registry_code(reason: ErrorReason) -> None:
    spec = ERROR_SPECS[reason]
    metadata = {key: "x" for key in spec.metadata_keys}
    violations = [FieldViolation("hints.role", "required")] if spec.bad_request else []
    rich = build_status(reason, "something happened", metadata, violations)
    assert rich.code == spec.code
    error = error_from_status(rich.code, rich.message, list(rich.trailing_metadata))
    assert isinstance(error, RoleModelError) and not isinstance(error, ProtocolError)
    assert error.reason == reason
    assert error.code == spec.code
    assert error.metadata == metadata
    assert error.retryable == spec.retryable
    assert error.field_violations == [(v.field, v.description) for v in violations]


def test_error_info_comes_first_with_the_domain() -> None:
    rich = build_status(ErrorReason.REQUEST_INVALID, "bad", {"violation_count": "1"}, [FieldViolation("a", "b")])
    status = status_from_trailers(list(rich.trailing_metadata))
    assert status is not None
    info, violations, others = unpack_details(status)
    assert info is not None and info.domain == ERROR_DOMAIN == "rolemodel.dev"
    assert [v.field for v in violations] == ["a"]
    assert others == []


def test_no_eligible_endpoint_carries_the_decision() -> None:
    decision = decision_pb2.Decision(decision_id="d1", candidates=[decision_pb2.Candidate(endpoint_id="e1")])
    rich = build_status(
        ErrorReason.NO_ELIGIBLE_ENDPOINT, "none", {"role": "chat", "exclusions": "e1:AVOIDED"}, extra_details=[decision]
    )
    error = error_from_status(rich.code, rich.message, list(rich.trailing_metadata))
    assert isinstance(error, NoEligibleEndpointError)
    assert error.decision is not None and error.decision.candidates[0].endpoint_id == "e1"


def test_a_status_without_error_info_is_a_protocol_error() -> None:
    error = error_from_status(grpc.StatusCode.UNAVAILABLE, "connection refused", [])
    assert isinstance(error, ProtocolError)
    assert error.reason is None and not error.retryable


def test_a_foreign_reason_is_a_protocol_error() -> None:
    rich = build_status(ErrorReason.UNKNOWN_ROLE, "x", {"role": "r"}, [FieldViolation("hints.role", "unknown")])
    status = status_from_trailers(list(rich.trailing_metadata))
    assert status is not None
    # Rewrite the reason to one the registry does not know.
    info, _, _ = unpack_details(status)
    assert info is not None
    info.reason = "SOMETHING_ELSE"
    status.details[0].Pack(info)
    error = error_from_status(rich.code, "x", [("grpc-status-details-bin", status.SerializeToString())])
    assert isinstance(error, ProtocolError)


def test_invalid_request_class() -> None:
    rich = build_status(
        ErrorReason.UNKNOWN_ROLE, "no such role", {"role": "x"}, [FieldViolation("hints.role", "unknown role 'x'")]
    )
    assert isinstance(error_from_status(rich.code, rich.message, list(rich.trailing_metadata)), InvalidRequestError)
