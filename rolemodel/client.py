"""The synchronous client. See ``rolemodel.aio`` for asyncio.

    with RouterClient("127.0.0.1:50051") as client:
        decision = client.route(request)
        client.report_outcome(outcome)

Each call carries the version metadata and a deadline, and is retried only
when the error registry marks the failure retryable.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Mapping
from typing import TypeVar

import grpc

from rolemodel.client_options import ClientOptions, with_idempotency_key
from rolemodel.credentials import credential_metadata
from rolemodel.errors import RoleModelError, error_from_rpc_error
from rolemodel.v1 import card_pb2, decision_pb2, outcome_pb2, router_service_pb2, router_service_pb2_grpc

T = TypeVar("T")


class RouterClient:
    def __init__(self, target: str, options: ClientOptions | None = None) -> None:
        self.options = options or ClientOptions()
        if self.options.tls is not None:
            self._channel = grpc.secure_channel(target, self.options.tls.credentials(), options=self._channel_options())
        else:
            self._channel = grpc.insecure_channel(target, options=self._channel_options())
        self._stub = router_service_pb2_grpc.RouterServiceStub(self._channel)

    def _channel_options(self) -> list[tuple[str, int | str]]:
        opts = list(self.options.channel_options)
        if self.options.tls is not None and self.options.tls.server_name_override:
            opts.append(("grpc.ssl_target_name_override", self.options.tls.server_name_override))
        return opts

    def __enter__(self) -> RouterClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self._channel.close()

    def _call(self, invoke: Callable[[], T]) -> T:
        attempt = 1
        while True:
            try:
                return invoke()
            except grpc.RpcError as rpc_error:
                error = error_from_rpc_error(rpc_error)
                if not self.options.retry.should_retry(error, attempt):
                    raise error from None
                time.sleep(self.options.retry.backoff(attempt))
                attempt += 1

    def get_router_card(self, timeout_s: float | None = None) -> card_pb2.RouterCard:
        """Discovery; needs no version header."""
        response = self._call(
            lambda: self._stub.GetRouterCard(
                router_service_pb2.GetRouterCardRequest(),
                timeout=timeout_s or self.options.timeout_s,
                metadata=self.options.metadata(with_version=False),
            )
        )
        return response.card

    def route(self, request: router_service_pb2.RouteRequest, timeout_s: float | None = None) -> decision_pb2.Decision:
        """Ask for a decision. Raises a RoleModelError subclass on refusal."""
        response = self._call(
            lambda: self._stub.Route(
                request, timeout=timeout_s or self.options.timeout_s, metadata=self.options.metadata()
            )
        )
        return response.decision

    def report_outcome(
        self, outcome: outcome_pb2.Outcome, timeout_s: float | None = None
    ) -> router_service_pb2.ReportOutcomeResponse:
        """Report what happened. Safe to retry: one idempotency key covers every attempt."""
        keyed = with_idempotency_key(outcome)
        return self._call(
            lambda: self._stub.ReportOutcome(
                router_service_pb2.ReportOutcomeRequest(outcome=keyed),
                timeout=timeout_s or self.options.timeout_s,
                metadata=self.options.metadata(),
            )
        )

    def execute(
        self,
        request: router_service_pb2.ExecuteRequest,
        timeout_s: float | None = None,
        *,
        client_credential: Mapping[str, str] | None = None,
    ) -> Iterator[router_service_pb2.ExecuteResponse]:
        """Stream an Execute call's events. Not retried: the router already falls back.

        The events come as the router sends them (spec 10.1): ``started`` with the decision; then for
        each attempt an ``attempt_started`` naming the endpoint called, followed by that endpoint's
        deltas or its ``attempt_failed``; then ``completed`` or ``failed``. The endpoint whose words
        arrive is the one the latest ``attempt_started`` named. A router older than that event sends
        none; the served endpoint is then known from ``completed`` or ``failed`` only.

        ``client_credential`` holds the headers of the caller's own login (spec 12.4), such as
        ``{"authorization": "Bearer …", "chatgpt-account-id": "…"}``; the router sends them only to
        endpoints whose catalog entry asks for them.
        """
        stream = self._stub.Execute(
            request,
            timeout=timeout_s or self.options.timeout_s,
            metadata=(*self.options.metadata(), *credential_metadata(client_credential or {})),
        )
        try:
            yield from stream
        except grpc.RpcError as rpc_error:
            raise error_from_rpc_error(rpc_error) from None


__all__ = ["RoleModelError", "RouterClient"]
