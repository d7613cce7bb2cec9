"""Failures before the first token fall back (RM-EXEC-010, -012, -014); each fault kind of the scripted backend."""

from __future__ import annotations

import time
from pathlib import Path

import grpc
import pytest

from rolemodel import ClientOptions, RetryPolicy, RouterClient
from rolemodel.error_reasons import ErrorReason
from rolemodel.v1 import common_pb2, decision_pb2
from rolemodel_router.backends.scripted import Fault, Reply, ScriptedBackend
from tests.execute.catalog import CLAUDE_MODEL, LOCAL_MODEL, MINI_MODEL
from tests.execute.conftest import router_process
from tests.execute.events import execute_request, run, user

OC = common_pb2


@pytest.mark.parametrize(
    ("fault", "outcome_class"),
    [
        (Fault.rate_limited(retry_after=0), OC.OUTCOME_CLASS_RATE_LIMITED),
        (Fault.server_error(500), OC.OUTCOME_CLASS_SERVER_ERROR),
        (Fault.server_error(529), OC.OUTCOME_CLASS_SERVER_ERROR),
        (Fault.hang(), OC.OUTCOME_CLASS_TIMEOUT),
        (Fault.invalid_json(), OC.OUTCOME_CLASS_SERVER_ERROR),
        (Fault.cut(after_deltas=0), OC.OUTCOME_CLASS_SERVER_ERROR),
        (Fault.context_overflow(), OC.OUTCOME_CLASS_CONTEXT_OVERFLOW),
    ],
    ids=["429", "500", "529", "hang", "invalid-json", "cut-before-first-token", "context-overflow"],
)
def test_a_failure_before_the_first_token_moves_to_the_next_fallback(
    client: RouterClient, backend: ScriptedBackend, fault: Fault, outcome_class: int
) -> None:
    backend.script(LOCAL_MODEL, [fault])
    backend.script(MINI_MODEL, [Reply(text="Served by the fallback.")])
    result = run(client, execute_request([user("Hello?")]))

    assert result.error is None, result.error
    assert result.kinds[:4] == ["started", "attempt_started", "attempt_failed", "attempt_started"], (
        "no delta of the failed attempt reaches the client"
    )
    assert result.attempts_started == [(1, "ex-local"), (2, "ex-mini")]
    (failed,) = result.attempts_failed
    assert (failed.attempt, failed.endpoint_id, failed.outcome_class) == (1, "ex-local", outcome_class)
    assert failed.detail
    assert result.text == "Served by the fallback."
    assert result.completed.served_endpoint_id == "ex-mini"
    assert result.completed.effects.served_endpoint_id == "ex-mini"
    assert backend.requests_for(CLAUDE_MODEL) == []
    card = client.get_router_card()
    status = {p.endpoint.id: p.status for p in card.endpoints}
    assert status["ex-local"].observed_outcomes == 1 and status["ex-local"].observed_failure_rate == 1.0
    assert status["ex-mini"].observed_outcomes == 1 and status["ex-mini"].observed_failure_rate == 0.0


def test_a_refused_connection_moves_to_the_next_fallback(backend: ScriptedBackend, tmp_path: Path) -> None:
    with (
        router_process(backend, tmp_path, unreachable_local="http://127.0.0.1:9/v1") as router,
        RouterClient(router.address, ClientOptions(retry=RetryPolicy(max_attempts=1))) as client,
    ):
        backend.script(MINI_MODEL, [Reply(text="ok")])
        result = run(client, execute_request([user("Hello?")]))
    assert [f.outcome_class for f in result.attempts_failed] == [OC.OUTCOME_CLASS_SERVER_ERROR]
    assert "connection" in result.attempts_failed[0].detail
    assert result.completed.served_endpoint_id == "ex-mini"


def test_every_attempt_failing_ends_with_backend_unavailable(client: RouterClient, backend: ScriptedBackend) -> None:
    backend.script(LOCAL_MODEL, [Fault.server_error(503)])
    backend.script(MINI_MODEL, [Fault.rate_limited(retry_after=0)])
    backend.script(CLAUDE_MODEL, [Fault.server_error(529)])
    result = run(client, execute_request([user("Hello?")]))

    assert result.kinds == ["started", *["attempt_started", "attempt_failed"] * 3, "failed"]
    assert [f.endpoint_id for f in result.attempts_failed] == ["ex-local", "ex-mini", "ex-claude"]
    assert [(f.attempt, f.endpoint_id) for f in result.attempts_failed] == result.attempts_started
    failed = result.failed
    assert failed.reason == "BACKEND_UNAVAILABLE" and not failed.after_first_token
    assert failed.served_endpoint_id == "ex-claude"
    assert result.error is not None
    assert result.error.code == grpc.StatusCode.UNAVAILABLE
    assert result.error.reason == ErrorReason.BACKEND_UNAVAILABLE
    assert result.error.metadata["attempts"] == "3"


def test_attempts_are_bounded(backend: ScriptedBackend, tmp_path: Path) -> None:
    with (
        router_process(backend, tmp_path, "--execute-max-attempts", "2") as router,
        RouterClient(router.address, ClientOptions(retry=RetryPolicy(max_attempts=1))) as client,
    ):
        backend.script(LOCAL_MODEL, [Fault.server_error(500)])
        backend.script(MINI_MODEL, [Fault.server_error(500)])
        result = run(client, execute_request([user("Hello?")]))
    assert [f.endpoint_id for f in result.attempts_failed] == ["ex-local", "ex-mini"]
    assert backend.requests_for(CLAUDE_MODEL) == []
    assert result.attempts_started == [(1, "ex-local"), (2, "ex-mini")], "the fallback not tried is not announced"
    assert result.failed.served_endpoint_id == "ex-mini"
    assert result.error is not None and result.error.metadata["attempts"] == "2"


def test_retry_after_holds_the_endpoint_off_for_other_calls(client: RouterClient, backend: ScriptedBackend) -> None:
    backend.script(LOCAL_MODEL, [Fault.rate_limited(retry_after=30)])
    backend.script(MINI_MODEL, [Reply(text="first"), Reply(text="second")])
    before_ms = time.time() * 1000
    first = run(client, execute_request([user("One?")]))
    second = run(client, execute_request([user("Two?")]))

    assert first.completed.served_endpoint_id == "ex-mini"
    (local,) = [c for c in second.decision.decision.candidates if c.endpoint_id == "ex-local"]
    assert [x.code for x in local.exclusions] == [decision_pb2.EXCLUSION_CODE_UNHEALTHY]
    assert "cooling down" in local.exclusions[0].detail
    assert second.completed.served_endpoint_id == "ex-mini"
    assert len(backend.requests_for(LOCAL_MODEL)) == 1, "nobody called it again before Retry-After"
    card = client.get_router_card()
    (status,) = [p.status for p in card.endpoints if p.endpoint.id == "ex-local"]
    assert status.cooldown_until.ToMilliseconds() >= before_ms + 29_000
