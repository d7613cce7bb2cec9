"""Execute end to end: the answer streams through, usage and cost come back, the outcome is recorded."""

from __future__ import annotations

import grpc
import pytest

from rolemodel import RoleModelError, RouterClient
from rolemodel.error_reasons import ErrorReason
from rolemodel.v1 import card_pb2, common_pb2, conversation_pb2, outcome_pb2
from rolemodel_router.backends.scripted import Reply, ScriptedBackend, ToolCall
from tests.execute.catalog import LOCAL_MODEL
from tests.execute.events import execute_request, run, system, user
from tests.requests import new_id

C = conversation_pb2


def test_the_answer_streams_as_deltas_and_completes_with_usage_and_cost(
    client: RouterClient, backend: ScriptedBackend
) -> None:
    backend.script(LOCAL_MODEL, [Reply(text="The capital of France is Paris, on the Seine.", chunk_chars=8)])
    result = run(client, execute_request([system("Be brief."), user("What is the capital of France?")]))

    assert result.error is None
    assert result.kinds[0] == "started" and result.kinds[-1] == "completed"
    assert result.kinds.count("delta") >= 5
    assert result.decision.decision.chosen_endpoint_id == "ex-local"
    assert not result.decision.decision.handoff.messages, "the started event does not echo the conversation"
    done = result.completed
    assert result.text == "The capital of France is Paris, on the Seine."
    assert done.message.parts[0].text.text == result.text
    assert done.message.origin_endpoint_id == "ex-local"
    assert done.served_endpoint_id == "ex-local"
    assert done.decision_id == result.decision.decision.decision_id
    assert done.finish_reason == "stop"
    assert done.usage.input_tokens > 0 and done.usage.output_tokens > 0
    assert done.reported_cost.currency == "USD"
    assert done.effects.served_endpoint_id == "ex-local"
    assert done.ttft_ms > 0 and done.latency_ms >= done.ttft_ms
    assert backend.remaining(LOCAL_MODEL) == 0


def test_the_outcome_is_recorded_as_if_the_client_had_reported_it(
    client: RouterClient, backend: ScriptedBackend
) -> None:
    backend.script(LOCAL_MODEL, [Reply(text="Done.")])
    result = run(client, execute_request([user("Say done.")]))
    decision_id = result.completed.decision_id

    outcome = outcome_pb2.Outcome(
        decision_id=decision_id,
        served_endpoint_id="ex-local",
        outcome_class=common_pb2.OUTCOME_CLASS_SUCCESS,
        idempotency_key=new_id("late"),
    )
    with pytest.raises(RoleModelError) as refused:
        client.report_outcome(outcome)
    assert refused.value.reason == ErrorReason.OUTCOME_ALREADY_REPORTED
    card = client.get_router_card()
    (local,) = [p for p in card.endpoints if p.endpoint.id == "ex-local"]
    assert local.status.observed_outcomes == 1


def test_tool_calls_stream_as_tool_call_deltas_and_end_in_one_message(
    client: RouterClient, backend: ScriptedBackend
) -> None:
    backend.script(
        LOCAL_MODEL,
        [Reply(text="Let me look.", tool_calls=[ToolCall("search", {"query": "weather in Paris"}, id="call_1")])],
    )
    tool = C.ToolDefinition(name="search", parameters_json_schema='{"type":"object"}')
    result = run(client, execute_request([user("Weather?")], tools=[tool]))

    deltas = [e.delta.tool_call for e in result.events if e.HasField("delta") and e.delta.HasField("tool_call")]
    assert deltas and deltas[0].id == "call_1" and deltas[0].name == "search"
    assert "".join(d.arguments_json_delta for d in deltas) == '{"query": "weather in Paris"}'
    done = result.completed
    assert done.finish_reason == "tool_calls"
    calls = [p.tool_call for p in done.message.parts if p.HasField("tool_call")]
    assert [(c.id, c.name, c.arguments_json) for c in calls] == [("call_1", "search", '{"query": "weather in Paris"}')]


def test_a_message_without_content_is_a_field_violation(client: RouterClient) -> None:
    request = execute_request([user("hello")])
    request.conversation.messages.add(token_count=12, digest=b"\x01" * 32)
    request.params.temperature = 7.0
    result = run(client, request)

    assert result.events == []
    assert result.error is not None
    assert result.error.code == grpc.StatusCode.INVALID_ARGUMENT
    assert result.error.reason == ErrorReason.REQUEST_INVALID
    fields = {field for field, _ in result.error.field_violations}
    assert {"conversation.messages[1]", "params.temperature"} <= fields


def test_execute_is_claimed_in_the_card(client: RouterClient) -> None:
    card = client.get_router_card()
    assert card_pb2.ROUTER_CAPABILITY_EXECUTE in card.capabilities
    assert all(not p.endpoint.HasField("connection") for p in card.endpoints), "base URLs and key names stay private"
