"""Execute events for scripted front-door tests: what an executor would send for a given answer."""

from __future__ import annotations

from rolemodel.dialects.accumulator import StreamAccumulator
from rolemodel.dialects.canonical import FINISH_STOP, FINISH_TOOL_CALLS
from rolemodel.v1 import common_pb2, decision_pb2, outcome_pb2, router_service_pb2

E = router_service_pb2


def text(value: str) -> E.ExecuteResponse:
    return E.ExecuteResponse(delta=E.ContentDelta(text=value))


def reasoning(value: str) -> E.ExecuteResponse:
    return E.ExecuteResponse(delta=E.ContentDelta(reasoning_text=value))


def signature(value: str) -> E.ExecuteResponse:
    return E.ExecuteResponse(delta=E.ContentDelta(reasoning_signature=value))


def tool_call(index: int, arguments: str, *, call_id: str = "", name: str = "") -> E.ExecuteResponse:
    delta = E.ToolCallDelta(index=index, id=call_id, name=name, arguments_json_delta=arguments)
    return E.ExecuteResponse(delta=E.ContentDelta(tool_call=delta))


def attempt_started(endpoint_id: str, attempt: int = 1) -> E.ExecuteResponse:
    return E.ExecuteResponse(attempt_started=E.AttemptStarted(attempt=attempt, endpoint_id=endpoint_id))


def attempt_failed(endpoint_id: str, outcome_class: common_pb2.OutcomeClass.ValueType) -> E.ExecuteResponse:
    return E.ExecuteResponse(
        attempt_failed=E.AttemptFailed(attempt=1, endpoint_id=endpoint_id, outcome_class=outcome_class, detail="x")
    )


def completed(
    decision: decision_pb2.Decision,
    deltas: list[E.ExecuteResponse],
    *,
    served: str = "",
    usage: outcome_pb2.Usage | None = None,
    cost_picos: int = 0,
    reasoning_provider: str = "",
) -> E.ExecuteResponse:
    """The ``completed`` event of an answer made of ``deltas``, as the executor builds it."""
    accumulator = StreamAccumulator(reasoning_provider=reasoning_provider)
    accumulator.extend(d.delta for d in deltas if d.HasField("delta"))
    message = accumulator.message()
    calls = any(p.HasField("tool_call") for p in message.parts)
    return E.ExecuteResponse(
        completed=E.ExecuteCompleted(
            decision_id=decision.decision_id,
            served_endpoint_id=served or decision.chosen_endpoint_id,
            message=message,
            usage=usage or outcome_pb2.Usage(input_tokens=100, cache_read_tokens=64, output_tokens=20),
            reported_cost=decision_pb2.CostEstimate(currency="USD", total_picos=cost_picos),
            finish_reason=FINISH_TOOL_CALLS if calls else FINISH_STOP,
        )
    )


def failed(
    decision: decision_pb2.Decision, reason: str, *, after_first_token: bool, served: str = ""
) -> E.ExecuteResponse:
    return E.ExecuteResponse(
        failed=E.ExecuteFailed(
            decision_id=decision.decision_id,
            outcome_class=common_pb2.OUTCOME_CLASS_SERVER_ERROR,
            reason=reason,
            detail="the backend broke",
            after_first_token=after_first_token,
            served_endpoint_id=served or decision.chosen_endpoint_id,
        )
    )
