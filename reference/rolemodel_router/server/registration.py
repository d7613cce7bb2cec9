"""Register the RouterService with deserializers that never let a malformed request escape as INTERNAL.

grpcio answers a request it cannot parse with a bare INTERNAL status and no
details. The protocol promises every error an ErrorInfo (RM-ERR-001), so the
service is registered here with deserializers that turn unparseable bytes
(random bytes, invalid UTF-8 in a string field, truncated messages) into a
``Malformed`` marker; the handler answers it with REQUEST_INVALID.

Route and Execute keep the bytes they arrived as (:class:`Received`): their
length is the request's size, with no second serialization to measure it,
and the conversation's messages in them let the router skip the messages it
verified on the conversation's previous request.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

import grpc
import grpc.aio
from google.protobuf.message import DecodeError, Message

from rolemodel.error_reasons import ErrorReason
from rolemodel.status import FieldViolation
from rolemodel.v1 import decision_pb2
from rolemodel.v1 import router_service_pb2 as pb
from rolemodel_router.engine.errors import RouterError

SERVICE = "rolemodel.v1.RouterService"
M = TypeVar("M", bound=Message)


@dataclass(frozen=True)
class Malformed:
    """Bytes that do not parse as the RPC's request message."""

    message_type: str
    error: str
    size: int


@dataclass(frozen=True, slots=True)
class Received(Generic[M]):
    """A parsed request and the bytes it was parsed from."""

    message: M
    data: bytes


def tolerant(message: type[Message]) -> Callable[[bytes], Message | Malformed]:
    def parse(data: bytes) -> Message | Malformed:
        try:
            return message.FromString(data)
        except (DecodeError, RuntimeError, ValueError) as error:
            return Malformed(message.DESCRIPTOR.full_name, type(error).__name__, len(data))

    return parse


def tolerant_keeping_bytes(message: type[M]) -> Callable[[bytes], Received[M] | Malformed]:
    def parse(data: bytes) -> Received[M] | Malformed:
        try:
            return Received(message.FromString(data), data)
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


def unwrap(request: Received[M] | M | Malformed) -> tuple[M, bytes | None]:
    """The request and, when the transport kept them, its bytes; REQUEST_INVALID for bytes that did not parse."""
    reject_malformed(request)
    if isinstance(request, Received):
        return request.message, request.data
    assert not isinstance(request, Malformed)  # noqa: S101 - reject_malformed raised for it
    return request, None


#: The key of RouteResponse field 1 (``decision``, length-delimited) on the wire.
_DECISION_KEY = bytes([(pb.RouteResponse.DECISION_FIELD_NUMBER << 3) | 2])
#: A varint carries seven bits per byte; the high bit says another byte follows.
_SEVEN_BITS = 0x7F


def route_response_bytes(reply: decision_pb2.Decision | pb.RouteResponse) -> bytes:
    """A RouteResponse on the wire, written straight from its one field, the decision.

    Wrapping the decision in a RouteResponse message first would copy it whole (about as costly
    as serializing it) on every Route; the bytes are the same either way.
    """
    if isinstance(reply, pb.RouteResponse):
        return reply.SerializeToString()
    body = reply.SerializeToString()
    size, length = len(body), bytearray()
    while size > _SEVEN_BITS:
        length.append((size & _SEVEN_BITS) | 0x80)
        size >>= 7
    length.append(size)
    return _DECISION_KEY + bytes(length) + body


def add_router_service(servicer: Any, server: grpc.aio.Server) -> None:
    handlers: dict[str, grpc.RpcMethodHandler[Any, Any]] = {
        "GetRouterCard": grpc.unary_unary_rpc_method_handler(
            servicer.GetRouterCard, tolerant(pb.GetRouterCardRequest), pb.GetRouterCardResponse.SerializeToString
        ),
        "Route": grpc.unary_unary_rpc_method_handler(
            servicer.route_decision, tolerant_keeping_bytes(pb.RouteRequest), route_response_bytes
        ),
        "ReportOutcome": grpc.unary_unary_rpc_method_handler(
            servicer.ReportOutcome, tolerant(pb.ReportOutcomeRequest), pb.ReportOutcomeResponse.SerializeToString
        ),
        "Execute": grpc.unary_stream_rpc_method_handler(
            servicer.Execute, tolerant_keeping_bytes(pb.ExecuteRequest), pb.ExecuteResponse.SerializeToString
        ),
    }
    server.add_generic_rpc_handlers((grpc.method_handlers_generic_handler(SERVICE, handlers),))
