"""A withheld capability is not applied, not only not claimed: the conformance suite's SKIP describes the router.

Each scenario runs twice on the fixture catalog, against a router that claims
everything and against one told to withhold the capability; the first shows
the rule at work, the second shows it gone. Real routers over gRPC on loopback.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from contextlib import contextmanager

import grpc
import pytest

from rolemodel.v1 import common_pb2, decision_pb2, hints_pb2, router_service_pb2, router_service_pb2_grpc
from rolemodel_conformance.builders import Prompt, outcome, pin, route_request
from tests.conformance.routers import running_router

VERSION = (("rolemodel-version", "1.0"),)


@contextmanager
def _router(withheld: str | None) -> Iterator[router_service_pb2_grpc.RouterServiceStub]:
    extra = ("--withhold-capability", withheld) if withheld else ()
    with running_router(extra=extra) as router, grpc.insecure_channel(router.address) as channel:
        yield router_service_pb2_grpc.RouterServiceStub(channel)


def _route(
    stub: router_service_pb2_grpc.RouterServiceStub, request: router_service_pb2.RouteRequest
) -> decision_pb2.Decision:
    decision: decision_pb2.Decision = stub.Route(request, metadata=VERSION, timeout=10).decision
    return decision


def _conversation() -> str:
    return f"withheld/{secrets.token_hex(6)}"


def _reasons(decision: decision_pb2.Decision) -> set[str]:
    return {decision_pb2.ReasonCode.Name(r.code).removeprefix("REASON_CODE_") for r in decision.reasons}


def _tool_loop(stub: router_service_pb2_grpc.RouterServiceStub) -> decision_pb2.Decision:
    """Turn 1 pinned to fx-gpt5, turn 2 a new prompt with a tool call pending (the affinity checks' scenario)."""
    conversation, first = _conversation(), Prompt.of([2000])
    _route(
        stub,
        route_request(
            first.ref(conversation), hints_pb2.RoutingHints(role="code.edit", endpoint_choice=pin("fx-gpt5"))
        ),
    )
    looped = Prompt.of([50000]).ref(conversation, 1, tool_call_pending=True)
    return _route(stub, route_request(looped, hints_pb2.RoutingHints(role="code.edit")))


def _after_a_failed_task(stub: router_service_pb2_grpc.RouterServiceStub) -> decision_pb2.Decision:
    """A chore whose tests failed, then the next chore of the conversation."""
    conversation, first = _conversation(), Prompt.of([800])
    done = _route(stub, route_request(first.ref(conversation), hints_pb2.RoutingHints(role="chore")))
    failed = outcome(done.decision_id, done.chosen_endpoint_id, secrets.token_hex(8))
    failed.outcome_class = common_pb2.OUTCOME_CLASS_TASK_FAILED
    stub.ReportOutcome(router_service_pb2.ReportOutcomeRequest(outcome=failed), metadata=VERSION, timeout=10)
    return _route(
        stub, route_request(first.extend([200, 50]).ref(conversation, 1), hints_pb2.RoutingHints(role="chore"))
    )


def _second_turn_cached(stub: router_service_pb2_grpc.RouterServiceStub) -> int:
    """Cached tokens of fx-deepseek's estimate on a conversation's second turn there."""
    conversation, first = _conversation(), Prompt.of([3000])
    routing = hints_pb2.RoutingHints(role="chat", endpoint_choice=pin("fx-deepseek"))
    _route(stub, route_request(first.ref(conversation), routing))
    second = _route(stub, route_request(first.extend([300, 100]).ref(conversation, 1), routing))
    return next(c.cost.cached_tokens for c in second.candidates if c.endpoint_id == "fx-deepseek")


@pytest.mark.slow
def test_without_affinity_a_tool_loop_is_not_pinned() -> None:
    with _router(None) as full:
        kept = _tool_loop(full)
    with _router("affinity") as bare:
        free = _tool_loop(bare)
    assert kept.chosen_endpoint_id == "fx-gpt5" and "TOOL_LOOP_PINNED" in _reasons(kept)
    assert free.chosen_endpoint_id != "fx-gpt5"
    assert not {"TOOL_LOOP_PINNED", "AFFINITY_KEPT"} & _reasons(free)


@pytest.mark.slow
def test_without_escalation_a_failed_task_raises_no_level() -> None:
    with _router(None) as full:
        escalated = _after_a_failed_task(full)
    with _router("escalation") as bare:
        flat = _after_a_failed_task(bare)
    assert escalated.policy.escalation_level == 1 and "ESCALATED" in _reasons(escalated)
    assert flat.policy.escalation_level == 0 and "ESCALATED" not in _reasons(flat)


@pytest.mark.slow
def test_without_cache_accounting_every_estimate_is_cold() -> None:
    with _router(None) as full:
        warm = _second_turn_cached(full)
    with _router("cache_accounting") as bare:
        cold = _second_turn_cached(bare)
    assert warm > 0
    assert cold == 0
