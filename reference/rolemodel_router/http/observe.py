"""What the front door tells the router's logs and metrics: the same as an Execute call over gRPC.

Front-door requests never pass the gRPC servicer, so this module gives them the servicer's
observability: a ``decision`` log line and the decision metrics when a request is decided, the
Execute event metrics (attempt failures, outcomes), and the error counter for every refusal.
Lines carry ids, counts and reasons, never message content (RM-SEC-011).
"""

from __future__ import annotations

import logging

from rolemodel.v1 import decision_pb2, outcome_pb2, router_service_pb2
from rolemodel_router.observe.event_log import log_decision, log_execute_event
from rolemodel_router.observe.metrics import Metrics

log = logging.getLogger("rolemodel.router")


class Observer:
    """Logs and, when the router exposes them, metrics for front-door requests."""

    def __init__(self, metrics: Metrics | None = None) -> None:
        self.metrics = metrics

    def decided(self, decision: decision_pb2.Decision, seconds: float, dialect: str) -> None:
        log_decision(decision, transport="http", dialect=dialect)
        if self.metrics is not None:
            self.metrics.decision(decision, seconds)

    def event(self, event: router_service_pb2.ExecuteResponse) -> None:
        """An Execute event other than ``started`` and deltas."""
        if event.WhichOneof("event") == "completed":
            log_execute_event(event, transport="http")
        if self.metrics is not None:
            self.metrics.execute_event(event)

    def reported(self, outcome: outcome_pb2.Outcome, response: router_service_pb2.ReportOutcomeResponse) -> None:
        if self.metrics is not None:
            self.metrics.outcome(outcome, response)

    def refused(self, reason: str, detail: str, dialect: str) -> None:
        if log.isEnabledFor(logging.INFO):
            log.info("refused", extra={"transport": "http", "dialect": dialect, "reason": reason, "detail": detail})
        if self.metrics is not None:
            self.metrics.error(reason)
