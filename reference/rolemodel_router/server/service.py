"""The gRPC service: the one place where router errors become statuses.

Every handler runs inside ``_boundary``: a RouterError becomes its rich
status (code from the registry, ErrorInfo, BadRequest); anything unexpected
becomes INTERNAL_ERROR and is logged without message content, and the server
keeps running (RM-ERR-006).
"""

from __future__ import annotations

import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import aclosing, nullcontext
from typing import Any, NoReturn, TypeVar

import grpc
import grpc.aio
from google.protobuf.message import Message

from rolemodel.error_reasons import ErrorReason
from rolemodel.status import build_status
from rolemodel.v1 import decision_pb2, router_service_pb2, router_service_pb2_grpc
from rolemodel_router.access import check_role
from rolemodel_router.core import RouterCore
from rolemodel_router.engine.errors import RouterError
from rolemodel_router.execute.credentials import ClientCredential
from rolemodel_router.execute.failures import failed_event_error
from rolemodel_router.observe.event_log import log_decision, log_execute_event
from rolemodel_router.observe.metrics import Metrics
from rolemodel_router.observe.tracing import Tracing
from rolemodel_router.server.registration import Received, reject_malformed, unwrap

T = TypeVar("T")
Context = grpc.aio.ServicerContext[Any, Any]
log = logging.getLogger("rolemodel.router")


def _reason_name(code: decision_pb2.ReasonCode.ValueType) -> str:
    return decision_pb2.ReasonCode.Name(code).removeprefix("REASON_CODE_")


class RouterServicer(router_service_pb2_grpc.RouterServiceServicer):
    def __init__(self, core: RouterCore, metrics: Metrics | None = None, tracing: Tracing | None = None) -> None:
        self.core = core
        self.metrics = metrics
        self.tracing = tracing

    async def _boundary(
        self,
        rpc: str,
        context: Context,
        work: Callable[[], Awaitable[T]],
        observe: Callable[[T, float, Any], None] | None = None,
    ) -> T:
        started = time.perf_counter()
        with self.tracing.span(f"rolemodel.{rpc}") if self.tracing else nullcontext() as span:
            try:
                result = await work()
            except Exception as error:
                await self._abort(rpc, context, span, error)
            seconds = time.perf_counter() - started
            if observe is not None:
                observe(result, seconds, span)
        log.debug("served", extra={"rpc": rpc, "ms": round(seconds * 1000, 3)})
        return result

    async def _abort(self, rpc: str, context: Context, span: Any, error: Exception) -> NoReturn:
        """A RouterError becomes its rich status; anything else INTERNAL_ERROR, logged without content (RM-ERR-006)."""
        if isinstance(error, RouterError):
            log.info("refused", extra={"rpc": rpc, "reason": error.reason.value, "detail": error.message})
            self._failed(span, error.reason.value)
            rich = build_status(error.reason, error.message, error.metadata, error.violations, error.details)
        else:
            log.error("internal error", extra={"rpc": rpc}, exc_info=error)
            self._failed(span, ErrorReason.INTERNAL_ERROR.value)
            rich = build_status(ErrorReason.INTERNAL_ERROR, "the router failed unexpectedly; nothing was changed")
        await context.abort(rich.code, rich.message, trailing_metadata=rich.trailing_metadata)

    def _failed(self, span: Any, reason: str) -> None:
        if self.metrics is not None:
            self.metrics.error(reason)
        if span is not None:
            span.set_attribute("rolemodel.error_reason", reason)

    def _observe_decision(self, decision: decision_pb2.Decision, seconds: float, span: Any) -> None:
        if self.metrics is not None:
            self.metrics.decision(decision, seconds)
        if span is not None:
            span.set_attribute("rolemodel.decision_id", decision.decision_id)
            span.set_attribute("rolemodel.role", decision.role)
            span.set_attribute("rolemodel.endpoint", decision.chosen_endpoint_id)
            span.set_attribute("rolemodel.reasons", [_reason_name(r.code) for r in decision.reasons])

    def _check_size(self, request: Message, data: bytes | None = None) -> None:
        """REQUEST_TOO_LARGE above the limit; the size is that of the bytes received, when kept."""
        size = len(data) if data is not None else request.ByteSize()
        limit = self.core.limits.max_request_bytes
        if size > limit:
            raise RouterError(
                ErrorReason.REQUEST_TOO_LARGE,
                f"the request has {size} bytes, the limit is {limit}",
                {"max_request_bytes": str(limit), "request_bytes": str(size)},
            )

    async def GetRouterCard(
        self, request: router_service_pb2.GetRouterCardRequest, context: Context
    ) -> router_service_pb2.GetRouterCardResponse:
        async def work() -> router_service_pb2.GetRouterCardResponse:
            reject_malformed(request)
            return router_service_pb2.GetRouterCardResponse(card=await self.core.card())

        return await self._boundary("GetRouterCard", context, work)

    async def Route(
        self, request: Received[router_service_pb2.RouteRequest] | router_service_pb2.RouteRequest, context: Context
    ) -> router_service_pb2.RouteResponse:
        return router_service_pb2.RouteResponse(decision=await self.route_decision(request, context))

    async def route_decision(
        self, request: Received[router_service_pb2.RouteRequest] | router_service_pb2.RouteRequest, context: Context
    ) -> decision_pb2.Decision:
        """Route's answer as the bare decision: the server writes the RouteResponse around it without a copy."""

        async def work() -> decision_pb2.Decision:
            message, data = unwrap(request)
            self._check_size(message, data)
            check_role(message.hints.role)
            route_input = self.core.validate_route(message, data)
            decision = await self.core.route(route_input, self.core.commit_deadline(context.time_remaining()))
            log_decision(decision)
            return decision

        return await self._boundary("Route", context, work, self._observe_decision)

    async def ReportOutcome(
        self, request: router_service_pb2.ReportOutcomeRequest, context: Context
    ) -> router_service_pb2.ReportOutcomeResponse:
        async def work() -> router_service_pb2.ReportOutcomeResponse:
            reject_malformed(request)
            self._check_size(request)
            response = await self.core.report(request.outcome, self.core.commit_deadline(context.time_remaining()))
            log.info(
                "outcome",
                extra={
                    "decision_id": request.outcome.decision_id,
                    "endpoint": request.outcome.served_endpoint_id,
                    "outcome_class": request.outcome.outcome_class,
                    "replayed": response.replayed,
                },
            )
            return response

        def observe(response: router_service_pb2.ReportOutcomeResponse, seconds: float, span: Any) -> None:
            if self.metrics is not None:
                self.metrics.outcome(request.outcome, response)
            if span is not None:
                span.set_attribute("rolemodel.decision_id", request.outcome.decision_id)
                span.set_attribute("rolemodel.endpoint", request.outcome.served_endpoint_id)

        return await self._boundary("ReportOutcome", context, work, observe)

    async def Execute(
        self, request: Received[router_service_pb2.ExecuteRequest] | router_service_pb2.ExecuteRequest, context: Context
    ) -> AsyncIterator[router_service_pb2.ExecuteResponse]:
        """Relays the executor's events; a ``failed`` event is followed by its status (RM-EXEC-011, -012)."""
        started = time.perf_counter()
        attempts = 0
        budget = 0
        try:
            message, data = unwrap(request)
            self._check_size(message, data)
            check_role(message.hints.role)
            credential = ClientCredential.from_metadata(context.invocation_metadata())
            events = self.core.execute(message, deadline_s=context.time_remaining(), credential=credential, data=data)
            async with aclosing(events):
                async for event in events:
                    kind = event.WhichOneof("event")
                    if kind == "started":
                        budget = event.started.decision.policy.turn_budget_picos
                        self._observe_decision(event.started.decision, time.perf_counter() - started, None)
                    elif kind == "attempt_failed":
                        attempts += 1
                    if kind != "delta":
                        log_execute_event(event)
                        if self.metrics is not None:
                            self.metrics.execute_event(event)
                    yield event
                    if kind == "failed":
                        failed = event.failed
                        raise failed_event_error(
                            failed.reason,
                            failed.detail,
                            attempts=attempts,
                            endpoint_id=failed.served_endpoint_id,
                            budget_picos=budget,
                        )
        except Exception as error:
            await self._abort("Execute", context, None, error)
