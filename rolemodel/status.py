"""Rich gRPC statuses: google.rpc.Status with ErrorInfo and BadRequest.

The detail travels in the ``grpc-status-details-bin`` trailer, as gRPC's
richer error model defines it. Building and reading it needs only protobuf
and googleapis-common-protos, so the SDK stays free of grpcio-status.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

import grpc
from google.protobuf import any_pb2
from google.protobuf.message import DecodeError, Message
from google.rpc import error_details_pb2, status_pb2

from rolemodel.error_reasons import ERROR_DOMAIN, ERROR_SPECS, ErrorReason

DETAILS_TRAILER = "grpc-status-details-bin"


@dataclass(frozen=True)
class FieldViolation:
    """One broken field rule: a dotted path such as ``hints.difficulty`` and why."""

    field: str
    description: str


@dataclass(frozen=True)
class RichStatus:
    """A status ready to be sent: code, message and the trailer that carries details."""

    code: grpc.StatusCode
    message: str
    trailing_metadata: tuple[tuple[str, bytes], ...]
    status: status_pb2.Status


def build_status(
    reason: ErrorReason,
    message: str,
    metadata: Mapping[str, str] | None = None,
    violations: Sequence[FieldViolation] = (),
    extra_details: Iterable[Message] = (),
) -> RichStatus:
    """Build the status the registry prescribes for ``reason``.

    The gRPC code comes from the registry, never from the caller, so that a
    reason cannot travel with the wrong code.
    """
    spec = ERROR_SPECS[reason]
    info = error_details_pb2.ErrorInfo(reason=reason.value, domain=ERROR_DOMAIN, metadata=dict(metadata or {}))
    details = [info]
    if violations:
        details.append(
            error_details_pb2.BadRequest(
                field_violations=[
                    error_details_pb2.BadRequest.FieldViolation(field=v.field, description=v.description)
                    for v in violations
                ]
            )
        )
    packed = []
    for detail in [*details, *extra_details]:
        holder = any_pb2.Any()
        holder.Pack(detail)
        packed.append(holder)
    code_value = spec.code.value[0]
    status = status_pb2.Status(code=code_value, message=message, details=packed)
    return RichStatus(spec.code, message, ((DETAILS_TRAILER, status.SerializeToString()),), status)


def status_from_trailers(trailers: Iterable[tuple[str, str | bytes]] | None) -> status_pb2.Status | None:
    """The google.rpc.Status in a call's trailing metadata, if any and well formed."""
    for key, value in trailers or ():
        if key == DETAILS_TRAILER and isinstance(value, bytes):
            try:
                return status_pb2.Status.FromString(value)
            except DecodeError:
                return None
    return None


def unpack_details(
    status: status_pb2.Status,
) -> tuple[error_details_pb2.ErrorInfo | None, list[error_details_pb2.BadRequest.FieldViolation], list[any_pb2.Any]]:
    """Split a status's details into its ErrorInfo, its field violations and the rest."""
    info: error_details_pb2.ErrorInfo | None = None
    violations: list[error_details_pb2.BadRequest.FieldViolation] = []
    others: list[any_pb2.Any] = []
    for detail in status.details:
        if detail.Is(error_details_pb2.ErrorInfo.DESCRIPTOR) and info is None:
            info = error_details_pb2.ErrorInfo()
            detail.Unpack(info)
        elif detail.Is(error_details_pb2.BadRequest.DESCRIPTOR):
            bad = error_details_pb2.BadRequest()
            detail.Unpack(bad)
            violations.extend(bad.field_violations)
        else:
            others.append(detail)
    return info, violations, others
