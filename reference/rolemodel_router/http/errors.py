"""The front door's one error boundary: a RouterError in the shape each dialect's clients expect (spec 14.7).

Every error keeps the protocol's reason where a client can find it whatever it speaks:

- the header ``x-rolemodel-error-reason``;
- the body's ``error.details``: the ``google.rpc.Status`` details (ErrorInfo first, then the
  BadRequest and any further detail, such as the decision of ``NO_ELIGIBLE_ENDPOINT``) in the
  proto3 JSON mapping, exactly what a gRPC client would get in its trailer;
- the message, prefixed with the reason, because some tools show nothing else;
- for OpenAI, ``error.code`` (and ``error.param``, the first field in violation).

The HTTP status follows the reason's gRPC code (the usual mapping of google.rpc codes), except
``REQUEST_TOO_LARGE``, which is 413. ``x-should-retry`` carries the registry's retryability,
because the official OpenAI and Anthropic SDKs obey it, so that they never repeat a call the
protocol says must not be repeated unchanged (RM-ERR-010).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

import grpc
from google.protobuf import json_format
from starlette.responses import JSONResponse

from rolemodel.dialects import anthropic_messages, openai_chat
from rolemodel.dialects.json_fields import JSONObject
from rolemodel.error_reasons import ERROR_SPECS, ErrorReason
from rolemodel.status import build_status
from rolemodel_router.engine.errors import RouterError

REASON_HEADER = "x-rolemodel-error-reason"
SHOULD_RETRY_HEADER = "x-should-retry"

_STATUS_BY_CODE = {
    grpc.StatusCode.INVALID_ARGUMENT: 400,
    grpc.StatusCode.FAILED_PRECONDITION: 400,
    grpc.StatusCode.OUT_OF_RANGE: 400,
    grpc.StatusCode.UNAUTHENTICATED: 401,
    grpc.StatusCode.PERMISSION_DENIED: 403,
    grpc.StatusCode.NOT_FOUND: 404,
    grpc.StatusCode.ALREADY_EXISTS: 409,
    grpc.StatusCode.ABORTED: 409,
    grpc.StatusCode.RESOURCE_EXHAUSTED: 429,
    grpc.StatusCode.CANCELLED: 499,
    grpc.StatusCode.UNIMPLEMENTED: 501,
    grpc.StatusCode.UNAVAILABLE: 503,
    grpc.StatusCode.DEADLINE_EXCEEDED: 504,
}
_STATUS_BY_REASON = {ErrorReason.REQUEST_TOO_LARGE: 413}


class Dialect(StrEnum):
    """Whose error shape an endpoint answers in."""

    OPENAI = "openai"
    ANTHROPIC = "anthropic"
    #: The front door's own endpoints: google.rpc.Status in its JSON mapping (AIP-193).
    ROLEMODEL = "rolemodel"


def http_status(reason: ErrorReason) -> int:
    """The HTTP status of a reason: by its gRPC code, 500 for codes without a mapping."""
    return _STATUS_BY_REASON.get(reason) or _STATUS_BY_CODE.get(ERROR_SPECS[reason].code, 500)


@dataclass(frozen=True)
class HttpError:
    """A RouterError made ready for HTTP: status, text, status details, retryability."""

    reason: ErrorReason
    status: int
    message: str
    grpc_code: grpc.StatusCode
    details: list[JSONObject]
    first_field: str | None
    retryable: bool
    extra_headers: dict[str, str] = field(default_factory=dict)

    @classmethod
    def of(cls, error: RouterError, extra_headers: dict[str, str] | None = None) -> HttpError:
        rich = build_status(error.reason, error.message, error.metadata, error.violations, error.details)
        details = json_format.MessageToDict(rich.status, preserving_proto_field_name=True).get("details", [])
        return cls(
            reason=error.reason,
            status=http_status(error.reason),
            message=f"{error.reason.value}: {error.message}",
            grpc_code=rich.code,
            details=details,
            first_field=error.violations[0].field if error.violations else None,
            retryable=ERROR_SPECS[error.reason].retryable,
            extra_headers=dict(extra_headers or {}),
        )

    def headers(self) -> dict[str, str]:
        return {
            **self.extra_headers,
            REASON_HEADER: self.reason.value,
            SHOULD_RETRY_HEADER: "true" if self.retryable else "false",
        }


def error_body(dialect: Dialect, error: HttpError) -> JSONObject:
    """The error body of ``dialect``, with the status details added as ``error.details``."""
    body: JSONObject
    if dialect == Dialect.OPENAI:
        body = openai_chat.encode_error(error.status, error.message, code=error.reason.value, param=error.first_field)
    elif dialect == Dialect.ANTHROPIC:
        body = anthropic_messages.encode_error(error.status, error.message)
    else:
        body = {"error": {"code": error.status, "message": error.message, "status": error.grpc_code.name}}
    body["error"]["details"] = error.details
    return body


def stream_error_event(dialect: Dialect, error: HttpError) -> JSONObject:
    """The event that ends a stream that already sent its status: OpenAI's error chunk, Anthropic's ``error``."""
    event: JSONObject
    if dialect == Dialect.ANTHROPIC:
        event = {"type": "error", "error": {"type": anthropic_messages.errors.error_type(error.status)}}
        event["error"]["message"] = error.message
        event["error"]["details"] = error.details
        return event
    event = openai_chat.encode_error(error.status, error.message, code=error.reason.value, param=error.first_field)
    event["error"]["details"] = error.details
    return event


def error_response(dialect: Dialect, error: RouterError, extra_headers: dict[str, str] | None = None) -> JSONResponse:
    ready = HttpError.of(error, extra_headers)
    return JSONResponse(error_body(dialect, ready), status_code=ready.status, headers=ready.headers())


def internal_error() -> RouterError:
    return RouterError(ErrorReason.INTERNAL_ERROR, "the router failed unexpectedly; nothing was changed")
