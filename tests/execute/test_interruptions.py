"""Failures after the first token end the call (RM-EXEC-011); cancellation and deadlines (RM-EXEC-013)."""

from __future__ import annotations

import asyncio
import time

import grpc
import pytest

from rolemodel import AsyncRouterClient, ClientOptions, RetryPolicy, RoleModelError, RouterClient
from rolemodel.error_reasons import ErrorReason
from rolemodel.v1 import common_pb2, outcome_pb2
from rolemodel_router.backends.scripted import Fault, Reply, ScriptedBackend
from tests.execute.catalog import LOCAL_MODEL, MINI_MODEL
from tests.execute.events import execute_request, run, user
from tests.requests import new_id
from tests.router.harness import RouterProcess

OC = common_pb2
LONG = Reply(text="One two three four five six seven eight nine ten eleven twelve.", chunk_chars=6)


@pytest.mark.parametrize(
    ("fault", "outcome_class"),
    [
        (Fault.cut(after_deltas=2, reply=LONG), OC.OUTCOME_CLASS_SERVER_ERROR),
        (Fault.stream_error(after_deltas=2, reply=LONG), OC.OUTCOME_CLASS_SERVER_ERROR),
        (Fault.invalid_json(after_deltas=2, reply=LONG), OC.OUTCOME_CLASS_SERVER_ERROR),
        (Fault.hang(after_deltas=2, reply=LONG), OC.OUTCOME_CLASS_TIMEOUT),
    ],
    ids=["cut", "error-event", "invalid-json", "stall"],
)
def test_a_failure_after_the_first_token_ends_the_call_without_retrying(
    client: RouterClient, backend: ScriptedBackend, fault: Fault, outcome_class: int
) -> None:
    backend.script(LOCAL_MODEL, [fault])
    result = run(client, execute_request([user("Count to twelve.")]))

    assert result.kinds == ["started", "attempt_started", "delta", "delta", "failed"]
    assert result.text == "One two three"[: len(result.text)] and result.text
    failed = result.failed
    assert failed.reason == "BACKEND_STREAM_INTERRUPTED"
    assert failed.after_first_token and failed.served_endpoint_id == "ex-local"
    assert failed.outcome_class == outcome_class
    assert result.error is not None
    assert result.error.code == grpc.StatusCode.UNAVAILABLE
    assert result.error.reason == ErrorReason.BACKEND_STREAM_INTERRUPTED
    assert result.error.metadata == {"endpoint_id": "ex-local"}
    assert backend.requests_for(MINI_MODEL) == [], "nothing is retried once the answer has started"
    card = client.get_router_card()
    (local,) = [p.status for p in card.endpoints if p.endpoint.id == "ex-local"]
    assert local.observed_outcomes == 1 and local.observed_failure_rate == 1.0


def _second_report(client: RouterClient, decision_id: str) -> ErrorReason | None:
    """The refusal a late report gets: OUTCOME_ALREADY_REPORTED proves the router recorded one itself."""
    try:
        client.report_outcome(
            outcome_pb2.Outcome(
                decision_id=decision_id,
                served_endpoint_id="ex-local",
                outcome_class=OC.OUTCOME_CLASS_SUCCESS,
                idempotency_key=new_id("late"),
            )
        )
    except RoleModelError as error:
        return error.reason
    return None


def _eventually(check: object, timeout_s: float = 30.0) -> None:
    """Wait for ``check`` to hold; the limit only matters when it never does (a loaded machine is slow)."""
    deadline = time.monotonic() + timeout_s
    while not check():  # type: ignore[operator]
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        time.sleep(0.05)


def test_a_passed_deadline_cancels_the_backend_call_and_records_a_timeout(
    client: RouterClient, backend: ScriptedBackend
) -> None:
    backend.script(LOCAL_MODEL, [Reply(text="Too slow to matter.", first_token_delay=0.8)])
    result = run(client, execute_request([user("Slowly, please.")]), timeout_s=0.4)

    assert result.error is not None and result.error.code == grpc.StatusCode.DEADLINE_EXCEEDED
    decision_id = result.decision.decision.decision_id
    _eventually(lambda: _second_report(client, decision_id) == ErrorReason.OUTCOME_ALREADY_REPORTED)
    card = client.get_router_card()
    (local,) = [p.status for p in card.endpoints if p.endpoint.id == "ex-local"]
    assert local.observed_outcomes == 1 and local.observed_failure_rate == 1.0, "a timeout counts as a failure"


def test_a_client_cancelling_mid_answer_records_a_cancelled_outcome(
    router: RouterProcess, client: RouterClient, backend: ScriptedBackend
) -> None:
    backend.script(LOCAL_MODEL, [Reply(text="a b c d e f g h i j k l m n o p", chunk_chars=2, delta_delay=0.3)])

    async def read_two_deltas_then_cancel() -> str:
        options = ClientOptions(retry=RetryPolicy(max_attempts=1), timeout_s=30.0)
        async with AsyncRouterClient(router.address, options) as aio:
            stream = aio.execute(execute_request([user("Letters, slowly.")]))
            decision_id = ""
            deltas = 0
            async for event in stream:
                if event.HasField("started"):
                    decision_id = event.started.decision.decision_id
                deltas += event.HasField("delta")
                if deltas == 2:
                    break
            await stream.aclose()
            return decision_id

    decision_id = asyncio.run(read_two_deltas_then_cancel())
    _eventually(lambda: _second_report(client, decision_id) == ErrorReason.OUTCOME_ALREADY_REPORTED)
    card = client.get_router_card()
    (local,) = [p.status for p in card.endpoints if p.endpoint.id == "ex-local"]
    assert local.observed_outcomes == 0, "a cancelled call says nothing about the endpoint's health"
    recorded = backend.requests_for(LOCAL_MODEL)
    assert len(recorded) == 1
