"""Register the RouterService with deserializers that never let a malformed request escape as INTERNAL.

grpcio answers a request it cannot parse with a bare INTERNAL status and no
details. The protocol promises every error an ErrorInfo (RM-ERR-001), so the
service is registered here with deserializers that turn unparseable bytes
(random bytes, invalid UTF-8 in a string field, truncated messages) into a
``Malformed`` marker; the handler answers it with REQUEST_INVALID.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import grpc
import grpc.aio
from google.protobuf.message import DecodeError, Message

from rolemodel.error_reasons import ErrorReason
from rolemodel.status import FieldViolation
from rolemodel.v1 import router_service_pb2 as pb
from rolemodel_router.engine.errors import RouterError

SERVICE = "rolemodel.v1.RouterService"


@dataclass(frozen=True)
class Malformed:
    """Bytes that do not parse as the RPC's request message."""

    message_type: str
    error: str
    size: int


def tolerant(message: type[Message]) -> Callable[[bytes], Message | Malformed]:
    def parse(data: bytes) -> Message | Malformed:
        try:
            return message.FromString(data)
        except (DecodeError, RuntimeError, ValueError) as error:
            return Malformed(message.DESCRIPTOR.full_name, type(error).__name__, len(data))

    return parse


def reject_malformed(request: object) -> None:
    """Raise REQUEST_INVALID for a request that did not parse."""
    if isinstance(request, Malformed):
        raise RouterError(
            ErrorReason.REQUEST_INVALID,
            f"the request is not a valid {request.message_type} ({request.size} bytes)",
            {"violation_count": "1"},
            [FieldViolation("(request)", f"not a parseable {request.message_type}: {request.error}")],
        )


def add_router_service(servicer: Any, server: grpc.aio.Server) -> None:
    handlers = {
        "GetRouterCard": grpc.unary_unary_rpc_method_handler(
            servicer.GetRouterCard, tolerant(pb.GetRouterCardRequest), pb.GetRouterCardResponse.SerializeToString
        ),
        "Route": grpc.unary_unary_rpc_method_handler(
            servicer.Route, tolerant(pb.RouteRequest), pb.RouteResponse.SerializeToString
        ),
        "ReportOutcome": grpc.unary_unary_rpc_method_handler(
            servicer.ReportOutcome, tolerant(pb.ReportOutcomeRequest), pb.ReportOutcomeResponse.SerializeToString
        ),
        "Execute": grpc.unary_stream_rpc_method_handler(
            servicer.Execute, tolerant(pb.ExecuteRequest), pb.ExecuteResponse.SerializeToString
        ),
    }
    server.add_generic_rpc_handlers((grpc.method_handlers_generic_handler(SERVICE, handlers),))
