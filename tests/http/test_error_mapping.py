"""The one error boundary: statuses, shapes and retry advice for every reason (spec 14.7)."""

from __future__ import annotations

import grpc
import pytest

from rolemodel.error_reasons import ERROR_SPECS, ErrorReason
from rolemodel.status import FieldViolation
from rolemodel.v1 import decision_pb2
from rolemodel_router.engine.errors import RouterError
from rolemodel_router.http.errors import Dialect, HttpError, error_body, http_status, stream_error_event
from rolemodel_router.http.response_headers import amount

EXPECTED_STATUS = {
    grpc.StatusCode.INVALID_ARGUMENT: 400,
    grpc.StatusCode.FAILED_PRECONDITION: 400,
    grpc.StatusCode.UNAUTHENTICATED: 401,
    grpc.StatusCode.PERMISSION_DENIED: 403,
    grpc.StatusCode.NOT_FOUND: 404,
    grpc.StatusCode.ALREADY_EXISTS: 409,
    grpc.StatusCode.RESOURCE_EXHAUSTED: 429,
    grpc.StatusCode.UNIMPLEMENTED: 501,
    grpc.StatusCode.UNAVAILABLE: 503,
    grpc.StatusCode.DEADLINE_EXCEEDED: 504,
    grpc.StatusCode.INTERNAL: 500,
}


@pytest.mark.parametrize("reason", list(ErrorReason))
def test_every_registered_reason_has_the_status_of_the_spec_table(reason: ErrorReason) -> None:
    expected = 413 if reason == ErrorReason.REQUEST_TOO_LARGE else EXPECTED_STATUS[ERROR_SPECS[reason].code]
    assert http_status(reason) == expected


def _invalid() -> HttpError:
    return HttpError.of(
        RouterError(
            ErrorReason.REQUEST_INVALID,
            "bad",
            {"violation_count": "1"},
            [FieldViolation("messages[1].content", "expected an array")],
        )
    )


def test_openai_errors_carry_the_reason_as_code_and_the_first_field_as_param() -> None:
    error = _invalid()
    body = error_body(Dialect.OPENAI, error)["error"]
    assert (body["type"], body["code"], body["param"]) == (
        "invalid_request_error",
        "REQUEST_INVALID",
        "messages[1].content",
    )
    assert body["message"] == "REQUEST_INVALID: bad"
    info, bad_request = body["details"]
    assert info["@type"] == "type.googleapis.com/google.rpc.ErrorInfo"
    assert (info["reason"], info["domain"], info["metadata"]) == (
        "REQUEST_INVALID",
        "rolemodel.dev",
        {"violation_count": "1"},
    )
    assert bad_request["field_violations"] == [{"field": "messages[1].content", "description": "expected an array"}]
    assert error.headers() == {"x-rolemodel-error-reason": "REQUEST_INVALID", "x-should-retry": "false"}


def test_anthropic_and_rolemodel_shapes() -> None:
    error = HttpError.of(RouterError(ErrorReason.STATE_STORE_UNAVAILABLE, "redis is down"))
    anthropic = error_body(Dialect.ANTHROPIC, error)
    assert anthropic["type"] == "error"
    assert anthropic["error"]["type"] == "api_error"
    assert anthropic["error"]["details"][0]["reason"] == "STATE_STORE_UNAVAILABLE"
    own = error_body(Dialect.ROLEMODEL, error)["error"]
    assert (own["code"], own["status"]) == (503, "UNAVAILABLE")
    assert error.headers()["x-should-retry"] == "true"


def test_a_decision_detail_travels_in_the_details() -> None:
    decision = decision_pb2.Decision(decision_id="d-1", role="chat")
    error = HttpError.of(
        RouterError(ErrorReason.NO_ELIGIBLE_ENDPOINT, "none", {"role": "chat", "exclusions": "x"}, details=[decision])
    )
    assert error.details[-1]["@type"] == "type.googleapis.com/rolemodel.v1.Decision"
    assert error.details[-1]["decision_id"] == "d-1"


def test_stream_error_events() -> None:
    error = HttpError.of(RouterError(ErrorReason.BACKEND_STREAM_INTERRUPTED, "cut", {"endpoint_id": "e"}))
    openai = stream_error_event(Dialect.OPENAI, error)
    assert openai["error"]["code"] == "BACKEND_STREAM_INTERRUPTED" and openai["error"]["type"] == "server_error"
    anthropic = stream_error_event(Dialect.ANTHROPIC, error)
    assert anthropic["type"] == "error" and anthropic["error"]["type"] == "api_error"
    assert anthropic["error"]["details"][0]["metadata"] == {"endpoint_id": "e"}


@pytest.mark.parametrize(
    ("picos", "text"),
    [(0, "0"), (412_000_000, "0.000412"), (1, "0.000000000001"), (2_500_000_000_000, "2.5"), (-3 * 10**12, "-3")],
)
def test_amounts_are_exact_decimals(picos: int, text: str) -> None:
    assert amount(picos) == text
