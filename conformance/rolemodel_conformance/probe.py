"""The suite's gRPC client: exact control over what is sent, and every answer handed to the auditors.

The SDK client is made for applications: it adds idempotency keys, retries and
always sends the version header. A conformance suite needs the opposite: it
sends broken requests on purpose, omits headers, appends unknown fields, and
must see every error exactly as the router sent it. So this module talks to
the stubs directly and turns each failed call into a ``RouterRefusal`` that
keeps the raw status, its ErrorInfo and its BadRequest.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import TypeVar

import grpc
from google.protobuf import message as protobuf_message
from google.rpc import error_details_pb2
from grpc_health.v1 import health_pb2, health_pb2_grpc

from rolemodel.credentials import credential_metadata
from rolemodel.status import status_from_trailers, unpack_details
from rolemodel.v1 import card_pb2, decision_pb2, outcome_pb2, router_service_pb2, router_service_pb2_grpc
from rolemodel.versions import METADATA_KEY

SERVICE = "/rolemodel.v1.RouterService/"
DEFAULT_TIMEOUT_S = 10.0
M = TypeVar("M", bound=protobuf_message.Message)
#: Sentinel: send the suite's protocol version.
DEFAULT_VERSION = "__default__"


@dataclass
class RouterRefusal(Exception):
    """A call that ended with a non-OK status, as the router (or the transport) answered it."""

    rpc: str
    code: grpc.StatusCode
    message: str
    info: error_details_pb2.ErrorInfo | None
    violations: list[error_details_pb2.BadRequest.FieldViolation]
    decision: decision_pb2.Decision | None
    has_status_details: bool
    detail_type_urls: list[str] = field(default_factory=list)

    def __str__(self) -> str:
        reason = self.info.reason if self.info is not None else "no ErrorInfo"
        return f"{self.rpc} answered {self.code.name} ({reason}): {self.message}"

    @property
    def reason(self) -> str:
        return self.info.reason if self.info is not None else ""

    @property
    def metadata(self) -> dict[str, str]:
        return dict(self.info.metadata) if self.info is not None else {}

    @property
    def fields(self) -> list[str]:
        return [v.field for v in self.violations]


def refusal_from(rpc: str, error: grpc.RpcError) -> RouterRefusal:
    """Parse what grpcio raised: code, message, and the rich status in the trailers."""
    call = error if isinstance(error, grpc.Call) else None
    code = call.code() if call is not None else grpc.StatusCode.UNKNOWN
    message = (call.details() if call is not None else None) or ""
    trailers: list[tuple[str, str | bytes]] = list(call.trailing_metadata() or ()) if call is not None else []
    status = status_from_trailers(trailers)
    if status is None:
        return RouterRefusal(rpc, code, message, None, [], None, False)
    info, violations, others = unpack_details(status)
    decision = None
    for detail in others:
        if detail.Is(decision_pb2.Decision.DESCRIPTOR):
            decision = decision_pb2.Decision()
            detail.Unpack(decision)
    urls = [d.type_url for d in status.details]
    return RouterRefusal(rpc, code, message, info, list(violations), decision, True, urls)


DecisionObserver = Callable[[decision_pb2.Decision, router_service_pb2.RouteRequest], None]
RefusalObserver = Callable[[RouterRefusal], None]


@dataclass
class Connection:
    """How to reach the router: an open channel, and the credentials to send."""

    channel: grpc.Channel
    target: str
    version: str
    token: str | None = None


class RouterProbe:
    """Calls the router and reports every decision and refusal to its observers."""

    def __init__(self, connection: Connection) -> None:
        self.connection = connection
        self.stub = router_service_pb2_grpc.RouterServiceStub(connection.channel)
        self.health_stub = health_pb2_grpc.HealthStub(connection.channel)
        self.decision_observers: list[DecisionObserver] = []
        self.refusal_observers: list[RefusalObserver] = []

    def metadata(
        self, version: str | None = DEFAULT_VERSION, token: bool = True
    ) -> tuple[tuple[str, str | bytes], ...]:
        pairs: list[tuple[str, str | bytes]] = []
        chosen = self.connection.version if version == DEFAULT_VERSION else version
        if chosen is not None:
            pairs.append((METADATA_KEY, chosen))
        if token and self.connection.token:
            pairs.append(("authorization", f"Bearer {self.connection.token}"))
        return tuple(pairs)

    def _refused(self, rpc: str, error: grpc.RpcError) -> RouterRefusal:
        refusal = refusal_from(rpc, error)
        for observer in self.refusal_observers:
            observer(refusal)
        return refusal

    def card(self, version: str | None = None, token: bool = True) -> card_pb2.RouterCard:
        try:
            response = self.stub.GetRouterCard(
                router_service_pb2.GetRouterCardRequest(),
                timeout=DEFAULT_TIMEOUT_S,
                metadata=self.metadata(version, token),
            )
        except grpc.RpcError as error:
            raise self._refused("GetRouterCard", error) from None
        return response.card

    def route(
        self,
        request: router_service_pb2.RouteRequest,
        *,
        version: str | None = DEFAULT_VERSION,
        token: bool = True,
        timeout_s: float = DEFAULT_TIMEOUT_S,
    ) -> decision_pb2.Decision:
        """A decision, or ``RouterRefusal``; every decision is handed to the auditors with its request."""
        try:
            response = self.stub.Route(request, timeout=timeout_s, metadata=self.metadata(version, token))
        except grpc.RpcError as error:
            raise self._refused("Route", error) from None
        for observer in self.decision_observers:
            observer(response.decision, request)
        return response.decision

    def report(
        self,
        outcome: outcome_pb2.Outcome,
        *,
        version: str | None = DEFAULT_VERSION,
        token: bool = True,
        timeout_s: float = DEFAULT_TIMEOUT_S,
    ) -> router_service_pb2.ReportOutcomeResponse:
        try:
            response: router_service_pb2.ReportOutcomeResponse = self.stub.ReportOutcome(
                router_service_pb2.ReportOutcomeRequest(outcome=outcome),
                timeout=timeout_s,
                metadata=self.metadata(version, token),
            )
        except grpc.RpcError as error:
            raise self._refused("ReportOutcome", error) from None
        return response

    def execute(
        self,
        request: router_service_pb2.ExecuteRequest,
        *,
        version: str | None = DEFAULT_VERSION,
        token: bool = True,
        timeout_s: float = DEFAULT_TIMEOUT_S,
        credential: Mapping[str, str] | None = None,
    ) -> tuple[list[router_service_pb2.ExecuteResponse], RouterRefusal | None]:
        """Every event of an Execute stream, and the status it ended with when that was not OK.

        ``credential`` is a client's own login for subscription endpoints (spec 12.4), sent as
        ``rolemodel-credential-<header>`` metadata.
        """
        events: list[router_service_pb2.ExecuteResponse] = []
        metadata = (*self.metadata(version, token), *credential_metadata(credential or {}))
        try:
            stream: Iterator[router_service_pb2.ExecuteResponse] = self.stub.Execute(
                request, timeout=timeout_s, metadata=metadata
            )
            for event in stream:
                events.append(event)
                if event.HasField("started"):
                    for observer in self.decision_observers:
                        observer(
                            event.started.decision,
                            router_service_pb2.RouteRequest(conversation=request.conversation, hints=request.hints),
                        )
        except grpc.RpcError as error:
            return events, self._refused("Execute", error)
        return events, None

    def execute_then_cancel(
        self,
        request: router_service_pb2.ExecuteRequest,
        cancel_after: Callable[[router_service_pb2.ExecuteResponse], bool],
        *,
        timeout_s: float = DEFAULT_TIMEOUT_S,
    ) -> tuple[list[router_service_pb2.ExecuteResponse], bool, RouterRefusal | None]:
        """Read an Execute stream until ``cancel_after`` says so, then cancel the call as a client would.

        Returns the events, whether the suite cancelled, and the status the stream ended with when
        it ended by itself with an error. The cancellation is the suite's own, so it is not an
        error the router sent and is not handed to the auditors.
        """
        events: list[router_service_pb2.ExecuteResponse] = []
        call = self.stub.Execute(request, timeout=timeout_s, metadata=self.metadata())
        try:
            for event in call:
                events.append(event)
                if event.HasField("started"):
                    for observer in self.decision_observers:
                        observer(
                            event.started.decision,
                            router_service_pb2.RouteRequest(conversation=request.conversation, hints=request.hints),
                        )
                if cancel_after(event):
                    call.cancel()
                    return events, True, None
        except grpc.RpcError as error:
            return events, False, self._refused("Execute", error)
        return events, False, None

    def execute_or_raise(
        self,
        request: router_service_pb2.ExecuteRequest,
        *,
        version: str | None = DEFAULT_VERSION,
        timeout_s: float = DEFAULT_TIMEOUT_S,
    ) -> list[router_service_pb2.ExecuteResponse]:
        """Execute, raising the refusal when the stream ends with an error before any event."""
        events, refusal = self.execute(request, version=version, timeout_s=timeout_s)
        if refusal is not None and not events:
            raise refusal
        return events

    def raw(self, method: str, payload: bytes, response_type: type[M], *, version: str | None = DEFAULT_VERSION) -> M:
        """A unary call with hand-made request bytes (unknown fields, for example)."""
        call = self.connection.channel.unary_unary(
            SERVICE + method,
            request_serializer=lambda data: data,
            response_deserializer=response_type.FromString,
        )
        try:
            result: M = call(payload, timeout=DEFAULT_TIMEOUT_S, metadata=self.metadata(version))
        except grpc.RpcError as error:
            raise self._refused(method, error) from None
        return result

    def health(self, service: str = "", token: bool = False) -> int:
        """The health status of ``service`` (``HealthCheckResponse.ServingStatus``)."""
        request = health_pb2.HealthCheckRequest(service=service)
        response = self.health_stub.Check(request, timeout=DEFAULT_TIMEOUT_S, metadata=self.metadata(None, token))
        status: int = response.status
        return status


def describe(refusal: RouterRefusal) -> str:
    """A one-line account of a refusal for reports: code, reason, the first field paths, the message."""
    parts = [f"{refusal.code.name}", refusal.reason or "no ErrorInfo"]
    if refusal.fields:
        parts.append("fields " + ", ".join(refusal.fields[:5]))
    return ", ".join(parts) + (f": {refusal.message}" if refusal.message else "")
