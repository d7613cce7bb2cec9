"""The event log and the metrics follow an Execute call's attempts as its ``attempt_started`` events name them."""

from __future__ import annotations

import logging

import pytest
from prometheus_client import CollectorRegistry

from rolemodel.v1 import common_pb2, decision_pb2, router_service_pb2
from rolemodel_router.observe.event_log import log_execute_event
from rolemodel_router.observe.metrics import Metrics

E = router_service_pb2


def _fallback_call() -> list[E.ExecuteResponse]:
    """A call whose chosen endpoint fails before its first token and whose first fallback answers."""
    decision = decision_pb2.Decision(decision_id="d-1", role="code.plan", chosen_endpoint_id="gpt-5")
    decision.fallback_endpoint_ids.extend(["claude-opus-4-5"])
    return [
        E.ExecuteResponse(started=E.ExecuteStarted(decision=decision)),
        E.ExecuteResponse(attempt_started=E.AttemptStarted(attempt=1, endpoint_id="gpt-5")),
        E.ExecuteResponse(
            attempt_failed=E.AttemptFailed(
                attempt=1, endpoint_id="gpt-5", outcome_class=common_pb2.OUTCOME_CLASS_SERVER_ERROR
            )
        ),
        E.ExecuteResponse(attempt_started=E.AttemptStarted(attempt=2, endpoint_id="claude-opus-4-5")),
        E.ExecuteResponse(delta=E.ContentDelta(text="ok")),
        E.ExecuteResponse(completed=E.ExecuteCompleted(decision_id="d-1", served_endpoint_id="claude-opus-4-5")),
    ]


def test_metrics_count_each_endpoint_called_first_or_later() -> None:
    metrics = Metrics(CollectorRegistry())
    for event in _fallback_call():
        metrics.execute_event(event)

    def attempts(endpoint: str, attempt: str) -> float | None:
        labels = {"endpoint": endpoint, "attempt": attempt}
        return metrics.registry.get_sample_value("rolemodel_execute_attempts_total", labels)

    assert attempts("gpt-5", "first") == 1.0
    assert attempts("claude-opus-4-5", "later") == 1.0
    assert attempts("claude-opus-4-5", "first") is None, "a decision's fallback is not counted as chosen"
    failures = {"endpoint": "gpt-5", "class": "server_error"}
    assert metrics.registry.get_sample_value("rolemodel_execute_attempt_failures_total", failures) == 1.0


def test_the_log_names_the_fallback_the_router_called_and_numbers_the_failed_attempt(
    caplog: pytest.LogCaptureFixture,
) -> None:
    with caplog.at_level(logging.INFO, logger="rolemodel.router"):
        for event in _fallback_call():
            log_execute_event(event, transport="grpc")
    lines = [(r.getMessage(), getattr(r, "endpoint", ""), getattr(r, "attempt", None)) for r in caplog.records]
    assert lines == [
        ("decision", "gpt-5", None),
        ("attempt failed", "gpt-5", 1),
        ("fallback attempt", "claude-opus-4-5", 2),
        ("executed", "claude-opus-4-5", None),
    ]
