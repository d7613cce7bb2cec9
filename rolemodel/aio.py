"""The asyncio client, with the same contract as ``rolemodel.client.RouterClient``.

async with AsyncRouterClient("127.0.0.1:50051") as client:
    decision = await client.route(request)
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator, Awaitable, Callable, Mapping
from typing import TypeVar

import grpc
import grpc.aio

from rolemodel.client_options import ClientOptions, with_idempotency_key
from rolemodel.credentials import credential_metadata
from rolemodel.errors import error_from_rpc_error
from rolemodel.v1 import card_pb2, decision_pb2, outcome_pb2, router_service_pb2, router_service_pb2_grpc

T = TypeVar("T")


class AsyncRouterClient:
    def __init__(self, target: str, options: ClientOptions | None = None) -> None:
        self.options = options or ClientOptions()
        channel_options = list(self.options.channel_options)
        if self.options.tls is not None:
            if self.options.tls.server_name_override:
                channel_options.append(("grpc.ssl_target_name_override", self.options.tls.server_name_override))
            self._channel = grpc.aio.secure_channel(target, self.options.tls.credentials(), options=channel_options)
        else:
            self._channel = grpc.aio.insecure_channel(target, options=channel_options)
        self._stub = router_service_pb2_grpc.RouterServiceStub(self._channel)

    async def __aenter__(self) -> AsyncRouterClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    async def close(self) -> None:
        await self._channel.close()

    async def _call(self, invoke: Callable[[], Awaitable[T]]) -> T:
        attempt = 1
        while True:
            try:
                return await invoke()
            except grpc.RpcError as rpc_error:
                error = error_from_rpc_error(rpc_error)
                if not self.options.retry.should_retry(error, attempt):
                    raise error from None
                await asyncio.sleep(self.options.retry.backoff(attempt))
                attempt += 1

    async def get_router_card(self, timeout_s: float | None = None) -> card_pb2.RouterCard:
        response: router_service_pb2.GetRouterCardResponse = await self._call(
            lambda: self._stub.GetRouterCard(
                router_service_pb2.GetRouterCardRequest(),
                timeout=timeout_s or self.options.timeout_s,
                metadata=self.options.metadata(with_version=False),
            )
        )
        return response.card

    async def route(
        self, request: router_service_pb2.RouteRequest, timeout_s: float | None = None
    ) -> decision_pb2.Decision:
        response: router_service_pb2.RouteResponse = await self._call(
            lambda: self._stub.Route(
                request, timeout=timeout_s or self.options.timeout_s, metadata=self.options.metadata()
            )
        )
        return response.decision

    async def report_outcome(
        self, outcome: outcome_pb2.Outcome, timeout_s: float | None = None
    ) -> router_service_pb2.ReportOutcomeResponse:
        keyed = with_idempotency_key(outcome)
        response: router_service_pb2.ReportOutcomeResponse = await self._call(
            lambda: self._stub.ReportOutcome(
                router_service_pb2.ReportOutcomeRequest(outcome=keyed),
                timeout=timeout_s or self.options.timeout_s,
                metadata=self.options.metadata(),
            )
        )
        return response

    async def execute(
        self,
        request: router_service_pb2.ExecuteRequest,
        timeout_s: float | None = None,
        *,
        client_credential: Mapping[str, str] | None = None,
    ) -> AsyncGenerator[router_service_pb2.ExecuteResponse, None]:
        """Stream an Execute call's events; ``aclose()`` cancels the call. Not retried: the router falls back.

        The events come as the router sends them (spec 10.1): ``started`` with the decision; then for
        each attempt an ``attempt_started`` naming the endpoint called, followed by that endpoint's
        deltas or its ``attempt_failed``; then ``completed`` or ``failed``. The endpoint whose words
        arrive is the one the latest ``attempt_started`` named. A router older than that event sends
        none; the served endpoint is then known from ``completed`` or ``failed`` only.

        ``client_credential`` holds the headers of the caller's own login (spec 12.4), such as
        ``{"authorization": "Bearer …", "chatgpt-account-id": "…"}``; the router sends them only to
        endpoints whose catalog entry asks for them.
        """
        call = self._stub.Execute(
            request,
            timeout=timeout_s or self.options.timeout_s,
            metadata=(*self.options.metadata(), *credential_metadata(client_credential or {})),
        )
        try:
            async for event in call:
                yield event
        except grpc.RpcError as rpc_error:
            raise error_from_rpc_error(rpc_error) from None
