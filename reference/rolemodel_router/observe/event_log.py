"""The log lines of decisions and Execute events, the same for every transport.

Lines carry ids, counts and reasons, never message content (RM-SEC-011). ``context`` adds what
the transport knows (``transport``, ``dialect``), so a line from the front door and one from gRPC
differ only there. Nothing is built for a line the log level drops: these run on every call.
"""

from __future__ import annotations

import logging

from rolemodel.v1 import decision_pb2, router_service_pb2

log = logging.getLogger("rolemodel.router")


def reason_name(code: decision_pb2.ReasonCode.ValueType) -> str:
    return decision_pb2.ReasonCode.Name(code).removeprefix("REASON_CODE_")


def log_decision(decision: decision_pb2.Decision, **context: str) -> None:
    if not log.isEnabledFor(logging.INFO):
        return
    log.info(
        "decision",
        extra={
            **context,
            "decision_id": decision.decision_id,
            "conversation_id": decision.conversation_id,
            "role": decision.role,
            "endpoint": decision.chosen_endpoint_id,
            "reasons": [reason_name(r.code) for r in decision.reasons],
        },
    )


def log_execute_event(event: router_service_pb2.ExecuteResponse, **context: str) -> None:
    """Any Execute event but a delta: the decision, fallback and failed attempts, and how the call ended."""
    if not log.isEnabledFor(logging.INFO):
        return
    kind = event.WhichOneof("event")
    if kind == "started":
        log_decision(event.started.decision, **context)
    elif kind == "attempt_started" and event.attempt_started.attempt > 1:
        # The first attempt calls the endpoint the decision line names (this router skips an endpoint only
        # after a failure); a later one says which fallback it called, before that answers or hangs.
        started = event.attempt_started
        log.info("fallback attempt", extra={**context, "endpoint": started.endpoint_id, "attempt": started.attempt})
    elif kind == "attempt_failed":
        failed = event.attempt_failed
        log.info(
            "attempt failed",
            extra={
                **context,
                "endpoint": failed.endpoint_id,
                "attempt": failed.attempt,
                "outcome_class": failed.outcome_class,
            },
        )
    elif kind == "completed":
        done = event.completed
        log.info(
            "executed",
            extra={
                **context,
                "decision_id": done.decision_id,
                "endpoint": done.served_endpoint_id,
                "input_tokens": done.usage.input_tokens,
                "cache_read_tokens": done.usage.cache_read_tokens,
                "output_tokens": done.usage.output_tokens,
                "ttft_ms": done.ttft_ms,
            },
        )
    elif kind == "failed":
        failed_call = event.failed
        log.info(
            "execute failed",
            extra={
                **context,
                "decision_id": failed_call.decision_id,
                "endpoint": failed_call.served_endpoint_id,
                "reason": failed_call.reason,
            },
        )
