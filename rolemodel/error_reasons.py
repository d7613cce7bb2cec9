"""Error reasons of rolemodel.v1.

Generated from spec/registry/errors.yaml by tools/generate.py. Do not edit.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

import grpc

ERROR_DOMAIN = "rolemodel.dev"


class ErrorReason(enum.StrEnum):
    """The `reason` of a rolemodel.v1 ErrorInfo."""

    PROTOCOL_VERSION_REQUIRED = "PROTOCOL_VERSION_REQUIRED"
    UNSUPPORTED_PROTOCOL_VERSION = "UNSUPPORTED_PROTOCOL_VERSION"
    REQUEST_INVALID = "REQUEST_INVALID"
    UNKNOWN_ROLE = "UNKNOWN_ROLE"
    UNKNOWN_ENDPOINT = "UNKNOWN_ENDPOINT"
    DIGEST_MISMATCH = "DIGEST_MISMATCH"
    REQUEST_TOO_LARGE = "REQUEST_TOO_LARGE"
    NO_ELIGIBLE_ENDPOINT = "NO_ELIGIBLE_ENDPOINT"
    PINNED_ENDPOINT_INELIGIBLE = "PINNED_ENDPOINT_INELIGIBLE"
    DECISION_NOT_FOUND = "DECISION_NOT_FOUND"
    ENDPOINT_NOT_IN_DECISION = "ENDPOINT_NOT_IN_DECISION"
    OUTCOME_ALREADY_REPORTED = "OUTCOME_ALREADY_REPORTED"
    IDEMPOTENCY_KEY_REUSED = "IDEMPOTENCY_KEY_REUSED"
    CAPABILITY_NOT_SUPPORTED = "CAPABILITY_NOT_SUPPORTED"
    UNAUTHENTICATED = "UNAUTHENTICATED"
    ROLE_NOT_PERMITTED = "ROLE_NOT_PERMITTED"
    STATE_STORE_UNAVAILABLE = "STATE_STORE_UNAVAILABLE"
    STATE_LIMIT_REACHED = "STATE_LIMIT_REACHED"
    BACKEND_UNAVAILABLE = "BACKEND_UNAVAILABLE"
    BACKEND_STREAM_INTERRUPTED = "BACKEND_STREAM_INTERRUPTED"
    BACKEND_REJECTED = "BACKEND_REJECTED"
    BUDGET_EXHAUSTED = "BUDGET_EXHAUSTED"
    DEADLINE_TOO_SHORT = "DEADLINE_TOO_SHORT"
    STREAM_DEADLINE_EXCEEDED = "STREAM_DEADLINE_EXCEEDED"
    INTERNAL_ERROR = "INTERNAL_ERROR"


@dataclass(frozen=True)
class ErrorSpec:
    """What the registry says about one reason."""

    code: grpc.StatusCode
    retryable: bool
    bad_request: bool
    metadata_keys: tuple[str, ...]


ERROR_SPECS: dict[ErrorReason, ErrorSpec] = {
    ErrorReason.PROTOCOL_VERSION_REQUIRED: ErrorSpec(grpc.StatusCode.FAILED_PRECONDITION, False, False, ("supported_versions",)),
    ErrorReason.UNSUPPORTED_PROTOCOL_VERSION: ErrorSpec(grpc.StatusCode.FAILED_PRECONDITION, False, False, ("requested_version", "supported_versions")),
    ErrorReason.REQUEST_INVALID: ErrorSpec(grpc.StatusCode.INVALID_ARGUMENT, False, True, ("violation_count",)),
    ErrorReason.UNKNOWN_ROLE: ErrorSpec(grpc.StatusCode.INVALID_ARGUMENT, False, True, ("role",)),
    ErrorReason.UNKNOWN_ENDPOINT: ErrorSpec(grpc.StatusCode.INVALID_ARGUMENT, False, True, ("endpoint_id",)),
    ErrorReason.DIGEST_MISMATCH: ErrorSpec(grpc.StatusCode.INVALID_ARGUMENT, False, True, ("message_index",)),
    ErrorReason.REQUEST_TOO_LARGE: ErrorSpec(grpc.StatusCode.RESOURCE_EXHAUSTED, False, False, ("max_request_bytes", "request_bytes")),
    ErrorReason.NO_ELIGIBLE_ENDPOINT: ErrorSpec(grpc.StatusCode.FAILED_PRECONDITION, False, False, ("role", "exclusions")),
    ErrorReason.PINNED_ENDPOINT_INELIGIBLE: ErrorSpec(grpc.StatusCode.FAILED_PRECONDITION, False, False, ("endpoint_id", "exclusions")),
    ErrorReason.DECISION_NOT_FOUND: ErrorSpec(grpc.StatusCode.NOT_FOUND, False, False, ("decision_id",)),
    ErrorReason.ENDPOINT_NOT_IN_DECISION: ErrorSpec(grpc.StatusCode.INVALID_ARGUMENT, False, True, ("decision_id", "endpoint_id")),
    ErrorReason.OUTCOME_ALREADY_REPORTED: ErrorSpec(grpc.StatusCode.ALREADY_EXISTS, False, False, ("decision_id",)),
    ErrorReason.IDEMPOTENCY_KEY_REUSED: ErrorSpec(grpc.StatusCode.INVALID_ARGUMENT, False, True, ("idempotency_key",)),
    ErrorReason.CAPABILITY_NOT_SUPPORTED: ErrorSpec(grpc.StatusCode.UNIMPLEMENTED, False, False, ("capability",)),
    ErrorReason.UNAUTHENTICATED: ErrorSpec(grpc.StatusCode.UNAUTHENTICATED, False, False, ()),
    ErrorReason.ROLE_NOT_PERMITTED: ErrorSpec(grpc.StatusCode.PERMISSION_DENIED, False, False, ("role",)),
    ErrorReason.STATE_STORE_UNAVAILABLE: ErrorSpec(grpc.StatusCode.UNAVAILABLE, True, False, ()),
    ErrorReason.STATE_LIMIT_REACHED: ErrorSpec(grpc.StatusCode.RESOURCE_EXHAUSTED, True, False, ("state", "scope", "limit")),
    ErrorReason.BACKEND_UNAVAILABLE: ErrorSpec(grpc.StatusCode.UNAVAILABLE, True, False, ("attempts",)),
    ErrorReason.BACKEND_STREAM_INTERRUPTED: ErrorSpec(grpc.StatusCode.UNAVAILABLE, False, False, ("endpoint_id",)),
    ErrorReason.BACKEND_REJECTED: ErrorSpec(grpc.StatusCode.INVALID_ARGUMENT, False, False, ("endpoint_id",)),
    ErrorReason.BUDGET_EXHAUSTED: ErrorSpec(grpc.StatusCode.FAILED_PRECONDITION, False, False, ("max_cost_picos",)),
    ErrorReason.DEADLINE_TOO_SHORT: ErrorSpec(grpc.StatusCode.DEADLINE_EXCEEDED, True, False, ("remaining_ms",)),
    ErrorReason.STREAM_DEADLINE_EXCEEDED: ErrorSpec(grpc.StatusCode.DEADLINE_EXCEEDED, True, False, ("endpoint_id",)),
    ErrorReason.INTERNAL_ERROR: ErrorSpec(grpc.StatusCode.INTERNAL, False, False, ()),
}
