"""OpenAI Responses codec: a Codex-shaped request, refusals by name, and streams checked against the SDK's types."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest
from openai.types.responses import Response, ResponseStreamEvent
from pydantic import TypeAdapter

from rolemodel.dialects import openai_responses
from rolemodel.dialects.accumulator import StreamAccumulator
from rolemodel.dialects.canonical import Completion
from rolemodel.dialects.deltas import message_to_deltas
from rolemodel.dialects.errors import DialectError
from rolemodel.v1 import conversation_pb2 as c
from rolemodel.v1 import outcome_pb2
from rolemodel.v1 import router_service_pb2 as r

EVENTS = TypeAdapter(ResponseStreamEvent)

# What Codex 0.171 sends on its second turn: developer instructions, a user task, its reasoning
# item with encrypted content, a shell call and its output; tools of every kind.
CODEX_TURN: dict[str, Any] = {
    "model": "gpt-5.4",
    "instructions": "",
    "input": [
        {
            "type": "message",
            "id": "msg_a",
            "role": "developer",
            "content": [{"type": "input_text", "text": "Be brief."}],
        },
        {"type": "message", "role": "user", "content": [{"type": "input_text", "text": "run echo hi"}]},
        {
            "type": "reasoning",
            "id": "rs_1",
            "summary": [{"type": "summary_text", "text": "Run it."}],
            "content": None,
            "encrypted_content": "ENC1",
        },
        {
            "type": "function_call",
            "status": "completed",
            "id": "fc_1",
            "name": "exec_command",
            "arguments": '{"cmd":"echo hi"}',
            "call_id": "call_1",
        },
        {"type": "function_call_output", "id": "fco_1", "call_id": "call_1", "output": "hi\n"},
    ],
    "tools": [
        {"type": "function", "name": "exec_command", "strict": False, "parameters": {"type": "object"}},
        {
            "type": "namespace",
            "name": "multi_agent_v1",
            "description": "Sub-agents.",
            "tools": [{"type": "function", "name": "spawn_agent", "parameters": {"type": "object"}}],
        },
        {"type": "web_search", "external_web_access": False},
    ],
    "tool_choice": "auto",
    "parallel_tool_calls": True,
    "reasoning": {"effort": "high", "summary": "auto"},
    "store": False,
    "stream": True,
    "include": ["reasoning.encrypted_content"],
    "prompt_cache_key": "thread-1",
    "client_metadata": {"x-codex-turn-metadata": "{}"},
    "text": {"verbosity": "low"},
}


def test_a_codex_turn_decodes_into_canonical_messages_and_params() -> None:
    request = openai_responses.decode_request(CODEX_TURN)
    roles = [m.role for m in request.messages]
    assert roles == [c.MESSAGE_ROLE_SYSTEM, c.MESSAGE_ROLE_USER, c.MESSAGE_ROLE_ASSISTANT, c.MESSAGE_ROLE_TOOL]
    reasoning, call = request.messages[2].parts
    assert reasoning.reasoning == c.ReasoningPart(
        provider="openai", signature="ENC1", summary=["Run it."], item_id="rs_1"
    )
    assert call.tool_call == c.ToolCallPart(
        id="call_1", name="exec_command", arguments_json='{"cmd":"echo hi"}', item_id="fc_1", kind=c.TOOL_KIND_FUNCTION
    )
    assert request.messages[3].parts[0].tool_result.tool_call_id == "call_1"
    kinds = [t.kind for t in request.tools]
    assert kinds == [c.TOOL_KIND_FUNCTION, c.TOOL_KIND_NAMESPACE, c.TOOL_KIND_HOSTED]
    assert request.tools[1].tools[0].name == "spawn_agent"
    assert request.tools[2].name == "web_search"
    params = request.params
    assert params.reasoning.effort == r.REASONING_EFFORT_HIGH
    assert params.reasoning.summary == r.REASONING_SUMMARY_AUTO
    assert params.tool_choice.mode == r.TOOL_CHOICE_MODE_AUTO
    assert params.parallel_tool_calls is True
    assert params.verbosity == r.VERBOSITY_LOW
    assert params.prompt_cache_key == "thread-1"
    assert dict(params.client_metadata) == {"x-codex-turn-metadata": "{}"}


def test_encoding_for_a_responses_endpoint_replays_reasoning_ids_and_tools_unchanged() -> None:
    request = openai_responses.decode_request(CODEX_TURN)
    body = openai_responses.encode_request(request, include_reasoning=True)
    assert body["store"] is False
    assert body["include"] == ["reasoning.encrypted_content"]
    assert body["tools"] == CODEX_TURN["tools"]
    items = body["input"]
    assert items[2] == {
        "id": "rs_1",
        "type": "reasoning",
        "summary": [{"type": "summary_text", "text": "Run it."}],
        "encrypted_content": "ENC1",
    }
    assert items[3] == {
        "type": "function_call",
        "id": "fc_1",
        "call_id": "call_1",
        "name": "exec_command",
        "arguments": '{"cmd":"echo hi"}',
    }
    assert items[4] == {"type": "function_call_output", "call_id": "call_1", "output": "hi\n"}
    assert body["reasoning"] == {"effort": "high", "summary": "auto"}
    assert body["text"] == {"verbosity": "low"}
    again = openai_responses.decode_request({**body, "stream": True})
    assert [m.SerializeToString() for m in again.messages[1:]] == [m.SerializeToString() for m in request.messages[1:]]


@pytest.mark.parametrize(
    ("change", "path"),
    [
        ({"previous_response_id": "resp_1"}, "previous_response_id"),
        ({"conversation": "conv_1"}, "conversation"),
        ({"frobnicate": 1}, "frobnicate"),
        ({"include": ["message.output_text.logprobs"]}, "include[0]"),
        ({"truncation": "auto"}, "truncation"),
        ({"background": True}, "background"),
        ({"text": {"format": {"type": "json_object"}}}, "text.format.type"),
        ({"tool_choice": {"type": "allowed_tools", "tools": []}}, "tool_choice.type"),
        ({"reasoning": {"effort": "extreme"}}, "reasoning.effort"),
        ({"input": [{"type": "item_reference", "id": "x"}]}, "input[0].type"),
    ],
)
def test_fields_the_router_cannot_honour_are_refused_by_name(change: dict[str, Any], path: str) -> None:
    body = {**copy.deepcopy(CODEX_TURN), **change}
    with pytest.raises(DialectError) as refused:
        openai_responses.decode_request(body)
    assert refused.value.path == path


def test_every_field_of_the_sdk_create_params_is_in_the_field_table() -> None:
    from openai.types.responses.response_create_params import ResponseCreateParamsBase

    known = {rule.name for rule in openai_responses.REQUEST_FIELDS}
    sdk = set(ResponseCreateParamsBase.__annotations__)
    # Fields the table leaves out are refused as unknown, by name, like any other.
    for name in sdk - known:
        with pytest.raises(DialectError) as refused:
            openai_responses.decode_request({"model": "m", "input": "hi", name: 1})
        assert refused.value.path == name


def _answer() -> c.Message:
    return c.Message(
        role=c.MESSAGE_ROLE_ASSISTANT,
        parts=[
            c.ContentPart(
                reasoning=c.ReasoningPart(
                    provider="openai", signature="ENC2", summary=["First.", "Second."], item_id="rs_9"
                )
            ),
            c.ContentPart(text=c.TextPart(text="Running it now.")),
            c.ContentPart(
                tool_call=c.ToolCallPart(
                    id="call_9",
                    name="exec_command",
                    arguments_json='{"cmd":"ls"}',
                    item_id="fc_9",
                    kind=c.TOOL_KIND_FUNCTION,
                )
            ),
            c.ContentPart(
                tool_call=c.ToolCallPart(
                    id="call_10",
                    name="spawn_agent",
                    arguments_json="{}",
                    item_id="fc_10",
                    kind=c.TOOL_KIND_FUNCTION,
                    namespace="multi_agent_v1",
                )
            ),
        ],
    )


def _stream(message: c.Message, usage: outcome_pb2.Usage, *, keep_encrypted: bool = True) -> list[dict[str, Any]]:
    encoder = openai_responses.ResponsesStreamEncoder(
        response_id="resp_abc",
        model="gpt-5.4",
        created_at=1,
        echo=openai_responses.echo_fields(CODEX_TURN),
        keep_encrypted=keep_encrypted,
    )
    events = encoder.start()
    for delta in message_to_deltas(message, chunk_chars=4):
        events.extend(encoder.delta(delta))
    events.extend(encoder.finish("tool_calls", usage))
    return events


def test_the_stream_is_the_responses_event_sequence_and_every_event_is_an_sdk_event() -> None:
    usage = outcome_pb2.Usage(input_tokens=1200, cache_read_tokens=1024, output_tokens=80, reasoning_tokens=40)
    events = _stream(_answer(), usage)
    for event in events:
        EVENTS.validate_python(event)
    assert [e["sequence_number"] for e in events] == list(range(len(events)))
    kinds = [e["type"] for e in events]
    collapsed = [k for i, k in enumerate(kinds) if i == 0 or kinds[i - 1] != k]
    assert collapsed == [
        "response.created",
        "response.in_progress",
        "response.output_item.added",
        "response.reasoning_summary_part.added",
        "response.reasoning_summary_text.delta",
        "response.reasoning_summary_text.done",
        "response.reasoning_summary_part.done",
        "response.reasoning_summary_part.added",
        "response.reasoning_summary_text.delta",
        "response.reasoning_summary_text.done",
        "response.reasoning_summary_part.done",
        "response.output_item.done",
        "response.output_item.added",
        "response.content_part.added",
        "response.output_text.delta",
        "response.output_text.done",
        "response.content_part.done",
        "response.output_item.done",
        "response.output_item.added",
        "response.function_call_arguments.delta",
        "response.function_call_arguments.done",
        "response.output_item.done",
        "response.output_item.added",
        "response.function_call_arguments.delta",
        "response.function_call_arguments.done",
        "response.output_item.done",
        "response.completed",
    ]
    completed = Response.model_validate(events[-1]["response"])
    assert completed.usage is not None
    assert completed.usage.input_tokens_details.cached_tokens == 1024
    assert completed.usage.output_tokens_details.reasoning_tokens == 40
    assert [item.id for item in completed.output] == ["rs_9", "msg_abc_1", "fc_9", "fc_10"]
    assert events[2]["item"]["id"] == "rs_9"


def test_a_stream_decodes_back_to_the_same_answer() -> None:
    usage = outcome_pb2.Usage(input_tokens=10, cache_read_tokens=0, output_tokens=5, reasoning_tokens=2)
    frames = b"".join(openai_responses.event_frame(e) for e in _stream(_answer(), usage))
    decoder = openai_responses.ResponsesStreamDecoder()
    accumulator = StreamAccumulator(reasoning_provider="openai")
    for i in range(0, len(frames), 97):
        accumulator.extend(decoder.feed_bytes(frames[i : i + 97]))
    completion = decoder.completion()
    assert completion.finish_reason == "tool_calls"
    assert completion.usage == usage
    assert completion.message == _answer()
    assert accumulator.message() == _answer()


def test_encrypted_reasoning_reaches_the_client_only_when_included() -> None:
    events = _stream(_answer(), outcome_pb2.Usage(), keep_encrypted=False)
    done = [e["item"] for e in events if e["type"] == "response.output_item.done" and e["item"]["type"] == "reasoning"]
    assert done and "encrypted_content" not in done[0]


def test_a_whole_response_is_an_sdk_response_and_decodes_back() -> None:
    completion = Completion(
        message=_answer(),
        finish_reason="tool_calls",
        usage=outcome_pb2.Usage(input_tokens=7, output_tokens=3),
        model="gpt-5.4",
        response_id="resp_x",
    )
    body = openai_responses.encode_response(completion, created_at=5, echo=openai_responses.echo_fields(CODEX_TURN))
    Response.model_validate(body)
    assert body["store"] is False
    again = openai_responses.decode_response(body)
    assert again.message == _answer()
    assert again.finish_reason == "tool_calls"


def test_a_cut_answer_is_incomplete_and_a_failure_is_response_failed() -> None:
    encoder = openai_responses.ResponsesStreamEncoder(response_id="resp_y", model="m")
    events = [*encoder.start(), *encoder.delta(r.ContentDelta(text="par")), *encoder.finish("length", None)]
    assert events[-1]["type"] == "response.incomplete"
    assert events[-1]["response"]["incomplete_details"] == {"reason": "max_output_tokens"}
    failed = encoder.failed("backend_stream_interrupted: cut", code="server_error")
    for event in [*events, *failed, encoder.error("boom", code="server_error")]:
        EVENTS.validate_python(event)
    decoder = openai_responses.ResponsesStreamDecoder()
    with pytest.raises(Exception, match="cut"):
        decoder.feed_bytes(openai_responses.event_frame(failed[0]))


def test_hosted_tool_items_and_foreign_reasoning_survive_a_stream() -> None:
    search = {
        "id": "ws_1",
        "type": "web_search_call",
        "status": "completed",
        "action": {"type": "search", "query": "x"},
    }
    message = c.Message(
        role=c.MESSAGE_ROLE_ASSISTANT,
        parts=[
            c.ContentPart(reasoning=c.ReasoningPart(text="DeepSeek thinks.", provider="")),
            c.ContentPart(
                hosted_tool=c.HostedToolPart(
                    provider="openai", type="web_search_call", item_id="ws_1", item_json=json.dumps(search)
                )
            ),
            c.ContentPart(text=c.TextPart(text="Found it.")),
        ],
    )
    events = _stream(message, outcome_pb2.Usage())
    for event in events:
        EVENTS.validate_python(event)
    output = events[-1]["response"]["output"]
    assert output[0]["content"] == [{"type": "reasoning_text", "text": "DeepSeek thinks."}]
    assert output[1] == search
    decoded = openai_responses.decode_request({"model": "m", "input": output})
    assert decoded.messages[0].parts[0].reasoning.text == "DeepSeek thinks."
    assert decoded.messages[0].parts[0].reasoning.provider == ""
    assert decoded.messages[0].parts[1].hosted_tool.type == "web_search_call"
