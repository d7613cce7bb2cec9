"""Typed exceptions built from a router's ErrorInfo (spec chapter 11).

Client code catches what it can act on: ``NoEligibleEndpointError`` carries
the decision with every candidate's exclusions; ``InvalidRequestError``
carries the field violations; ``error.retryable`` comes from the registry,
not from guesswork about gRPC codes.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import grpc

from rolemodel.error_reasons import ERROR_SPECS, ErrorReason
from rolemodel.status import status_from_trailers, unpack_details
from rolemodel.v1 import decision_pb2


class RoleModelError(Exception):
    """A rolemodel.v1 error: a gRPC status with an ErrorInfo.

    ``reason`` is None only for ``ProtocolError``: a status that carried no
    ErrorInfo, which a conforming router never sends.
    """

    def __init__(
        self,
        code: grpc.StatusCode,
        message: str,
        reason: ErrorReason | None = None,
        *,
        metadata: Mapping[str, str] | None = None,
        field_violations: Sequence[tuple[str, str]] = (),
        decision: decision_pb2.Decision | None = None,
    ) -> None:
        super().__init__(f"{reason.value if reason else code.name}: {message}")
        self.code = code
        self.message = message
        self.reason = reason
        self.metadata = dict(metadata or {})
        self.field_violations = list(field_violations)
        self.decision = decision

    @property
    def retryable(self) -> bool:
        """Whether repeating the same call unchanged may succeed, per the registry."""
        return self.reason is not None and ERROR_SPECS[self.reason].retryable


class ProtocolError(RoleModelError):
    """The status had no ErrorInfo from the rolemodel domain (a transport failure or a non-conforming router)."""


class VersionError(RoleModelError):
    """The router does not serve the requested protocol version; see ``metadata['supported_versions']``."""


class InvalidRequestError(RoleModelError):
    """The request broke field rules; ``field_violations`` lists (path, description)."""


class RequestTooLargeError(RoleModelError):
    """The request exceeded the router's size limit."""


class NoEligibleEndpointError(RoleModelError):
    """Nothing could serve the request; ``decision.candidates`` says why for each endpoint."""


class NotFoundError(RoleModelError):
    """The decision is unknown to the router."""


class ConflictError(RoleModelError):
    """The decision already has an outcome."""


class CapabilityNotSupportedError(RoleModelError):
    """The router does not claim the capability the call needs."""


class AuthError(RoleModelError):
    """Missing or bad credentials, or a role outside the token's scope."""


class UnavailableError(RoleModelError):
    """The router or the endpoints behind it are unavailable; often retryable."""


class StateLimitError(RoleModelError):
    """The router keeps as many decisions as its caps allow and may drop none yet; retry later."""


class DeadlineError(RoleModelError):
    """The deadline passed before the router answered."""


class InternalError(RoleModelError):
    """The router failed unexpectedly."""


_CLASS_BY_REASON: dict[ErrorReason, type[RoleModelError]] = {
    ErrorReason.PROTOCOL_VERSION_REQUIRED: VersionError,
    ErrorReason.UNSUPPORTED_PROTOCOL_VERSION: VersionError,
    ErrorReason.REQUEST_INVALID: InvalidRequestError,
    ErrorReason.UNKNOWN_ROLE: InvalidRequestError,
    ErrorReason.UNKNOWN_ENDPOINT: InvalidRequestError,
    ErrorReason.DIGEST_MISMATCH: InvalidRequestError,
    ErrorReason.ENDPOINT_NOT_IN_DECISION: InvalidRequestError,
    ErrorReason.IDEMPOTENCY_KEY_REUSED: InvalidRequestError,
    ErrorReason.REQUEST_TOO_LARGE: RequestTooLargeError,
    ErrorReason.NO_ELIGIBLE_ENDPOINT: NoEligibleEndpointError,
    ErrorReason.PINNED_ENDPOINT_INELIGIBLE: NoEligibleEndpointError,
    ErrorReason.DECISION_NOT_FOUND: NotFoundError,
    ErrorReason.OUTCOME_ALREADY_REPORTED: ConflictError,
    ErrorReason.CAPABILITY_NOT_SUPPORTED: CapabilityNotSupportedError,
    ErrorReason.UNAUTHENTICATED: AuthError,
    ErrorReason.ROLE_NOT_PERMITTED: AuthError,
    ErrorReason.STATE_STORE_UNAVAILABLE: UnavailableError,
    ErrorReason.STATE_LIMIT_REACHED: StateLimitError,
    ErrorReason.BACKEND_UNAVAILABLE: UnavailableError,
    ErrorReason.BACKEND_STREAM_INTERRUPTED: UnavailableError,
    ErrorReason.BUDGET_EXHAUSTED: NoEligibleEndpointError,
    ErrorReason.DEADLINE_TOO_SHORT: DeadlineError,
    ErrorReason.INTERNAL_ERROR: InternalError,
}


def error_from_status(
    code: grpc.StatusCode, message: str, trailers: Sequence[tuple[str, str | bytes]] | None
) -> RoleModelError:
    """The typed exception for a failed call's code, message and trailing metadata."""
    status = status_from_trailers(trailers)
    if status is None:
        return ProtocolError(code, message)
    info, violations, others = unpack_details(status)
    if info is None or info.reason not in ErrorReason.__members__:
        return ProtocolError(code, message)
    reason = ErrorReason(info.reason)
    decision = None
    for detail in others:
        if detail.Is(decision_pb2.Decision.DESCRIPTOR):
            decision = decision_pb2.Decision()
            detail.Unpack(decision)
    cls = _CLASS_BY_REASON.get(reason, RoleModelError)
    return cls(
        code,
        status.message or message,
        reason,
        metadata=info.metadata,
        field_violations=[(v.field, v.description) for v in violations],
        decision=decision,
    )


def error_from_rpc_error(error: grpc.RpcError) -> RoleModelError:
    """Convert what grpcio raises (sync ``grpc.Call`` or ``grpc.aio.AioRpcError``) into a typed exception."""
    code_fn = getattr(error, "code", None)
    details_fn = getattr(error, "details", None)
    trailers_fn = getattr(error, "trailing_metadata", None)
    code = code_fn() if callable(code_fn) else grpc.StatusCode.UNKNOWN
    details = (details_fn() if callable(details_fn) else None) or str(error)
    trailers = trailers_fn() if callable(trailers_fn) else None
    return error_from_status(code, details, list(trailers or ()))
