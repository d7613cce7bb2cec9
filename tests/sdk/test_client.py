"""The sync and asyncio clients against a real gRPC server on loopback.

The server here is a scripted stand-in for a router: it records the metadata
it receives and fails on cue, so the tests can see what the client sends and
when it retries.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from concurrent import futures
from dataclasses import dataclass, field

import grpc
import pytest

from rolemodel import AsyncRouterClient, ClientOptions, RetryPolicy, RouterClient
from rolemodel.error_reasons import ErrorReason
from rolemodel.errors import UnavailableError, VersionError
from rolemodel.status import build_status
from rolemodel.v1 import card_pb2, decision_pb2, outcome_pb2, router_service_pb2, router_service_pb2_grpc


@dataclass
class Script:
    failures: list[ErrorReason] = field(default_factory=list)
    metadata: list[dict[str, str]] = field(default_factory=list)
    outcome_keys: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)


class ScriptedRouter(router_service_pb2_grpc.RouterServiceServicer):
    def __init__(self, script: Script) -> None:
        self.script = script

    def _record(self, context: grpc.ServicerContext) -> None:
        with self.script.lock:
            self.script.metadata.append({k: v for k, v in context.invocation_metadata() if isinstance(v, str)})
            failure = self.script.failures.pop(0) if self.script.failures else None
        if failure is not None:
            rich = build_status(failure, "scripted failure", {})
            context.abort_with_status(_Status(rich.code, rich.message, rich.trailing_metadata))

    def GetRouterCard(self, request: object, context: grpc.ServicerContext) -> router_service_pb2.GetRouterCardResponse:
        self._record(context)
        return router_service_pb2.GetRouterCardResponse(
            card=card_pb2.RouterCard(router_name="scripted", supported_versions=["1.0"])
        )

    def Route(
        self, request: router_service_pb2.RouteRequest, context: grpc.ServicerContext
    ) -> router_service_pb2.RouteResponse:
        self._record(context)
        return router_service_pb2.RouteResponse(
            decision=decision_pb2.Decision(decision_id="d-1", chosen_endpoint_id="e")
        )

    def ReportOutcome(
        self, request: router_service_pb2.ReportOutcomeRequest, context: grpc.ServicerContext
    ) -> router_service_pb2.ReportOutcomeResponse:
        with self.script.lock:
            self.script.outcome_keys.append(request.outcome.idempotency_key)
        self._record(context)
        return router_service_pb2.ReportOutcomeResponse()

    def Execute(
        self, request: router_service_pb2.ExecuteRequest, context: grpc.ServicerContext
    ) -> Iterator[router_service_pb2.ExecuteResponse]:
        context.abort(grpc.StatusCode.UNIMPLEMENTED, "not scripted")


@dataclass(frozen=True)
class _Status(grpc.Status):
    code: grpc.StatusCode
    details: str
    trailing_metadata: tuple[tuple[str, bytes], ...]


@pytest.fixture
def router() -> Iterator[tuple[str, Script]]:
    script = Script()
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=4))
    router_service_pb2_grpc.add_RouterServiceServicer_to_server(ScriptedRouter(script), server)
    port = server.add_insecure_port("127.0.0.1:0")
    server.start()
    yield f"127.0.0.1:{port}", script
    server.stop(None)


TOKEN = "t0ken"  # a test credential, not a secret
FAST = ClientOptions(retry=RetryPolicy(max_attempts=3, initial_backoff_s=0.001, max_backoff_s=0.002), token=TOKEN)


def test_version_and_token_travel_on_every_call_but_discovery(router: tuple[str, Script]) -> None:
    target, script = router
    with RouterClient(target, FAST) as client:
        assert client.get_router_card().router_name == "scripted"
        client.route(router_service_pb2.RouteRequest())
    card_md, route_md = script.metadata
    assert "rolemodel-version" not in card_md
    assert route_md["rolemodel-version"] == "1.0"
    assert route_md["authorization"] == f"Bearer {TOKEN}"


def test_retryable_errors_are_retried_up_to_the_limit(router: tuple[str, Script]) -> None:
    target, script = router
    script.failures = [ErrorReason.STATE_STORE_UNAVAILABLE, ErrorReason.STATE_STORE_UNAVAILABLE]
    with RouterClient(target, FAST) as client:
        assert client.route(router_service_pb2.RouteRequest()).decision_id == "d-1"
    assert len(script.metadata) == 3

    script.failures = [ErrorReason.STATE_STORE_UNAVAILABLE] * 3
    with RouterClient(target, FAST) as client, pytest.raises(UnavailableError):
        client.route(router_service_pb2.RouteRequest())


def test_errors_the_registry_marks_final_are_not_retried(router: tuple[str, Script]) -> None:
    target, script = router
    script.failures = [ErrorReason.UNSUPPORTED_PROTOCOL_VERSION]
    with RouterClient(target, FAST) as client, pytest.raises(VersionError):
        client.route(router_service_pb2.RouteRequest())
    assert len(script.metadata) == 1


def test_outcome_retries_reuse_one_idempotency_key(router: tuple[str, Script]) -> None:
    target, script = router
    script.failures = [ErrorReason.STATE_STORE_UNAVAILABLE]
    with RouterClient(target, FAST) as client:
        client.report_outcome(outcome_pb2.Outcome(decision_id="d-1"))
    assert len(script.outcome_keys) == 2
    assert script.outcome_keys[0] and script.outcome_keys[0] == script.outcome_keys[1]


def test_the_asyncio_client_has_the_same_contract(router: tuple[str, Script]) -> None:
    target, script = router
    script.failures = [ErrorReason.STATE_STORE_UNAVAILABLE]

    async def scenario() -> str:
        async with AsyncRouterClient(target, FAST) as client:
            card = await client.get_router_card()
            decision = await client.route(router_service_pb2.RouteRequest())
            return card.router_name + "/" + decision.decision_id

    assert asyncio.run(scenario()) == "scripted/d-1"
    assert script.metadata[-1]["rolemodel-version"] == "1.0"
