"""Anthropic server tools and the blocks they leave: hosted tools and hosted-tool parts, kept whole (spec 14.11)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from rolemodel.dialects import anthropic_messages
from rolemodel.dialects.deltas import message_to_deltas
from rolemodel.dialects.errors import DialectError
from rolemodel.v1 import conversation_pb2 as c

SEARCH = {"type": "web_search_20250305", "name": "web_search", "max_uses": 3, "allowed_domains": ["example.com"]}
CALL = {"type": "server_tool_use", "id": "srvtoolu_01", "name": "web_search", "input": {"query": "port 8080"}}
RESULT = {
    "type": "web_search_tool_result",
    "tool_use_id": "srvtoolu_01",
    "content": [
        {"type": "web_search_result", "url": "https://example.com/", "title": "Ports", "encrypted_content": "Eq"}
    ],
}
ANSWER_TEXT = {"type": "text", "text": "Port 8080 is an alternative HTTP port."}


def body(**fields: Any) -> dict[str, Any]:
    return {"model": "claude", "max_tokens": 100, "messages": [{"role": "user", "content": "hi"}], **fields}


def test_a_server_tool_is_a_hosted_tool_named_by_its_type_and_sent_back_unchanged() -> None:
    request = anthropic_messages.decode_request(body(tools=[{**SEARCH, "cache_control": {"type": "ephemeral"}}]))
    (tool,) = request.tools
    assert (tool.name, tool.kind) == ("web_search_20250305", c.TOOL_KIND_HOSTED)
    assert anthropic_messages.encode_request(request)["tools"] == [SEARCH]


def test_server_tool_blocks_round_trip_as_hosted_tool_parts() -> None:
    history = [
        {"role": "user", "content": "What is port 8080?"},
        {"role": "assistant", "content": [CALL, {**RESULT, "cache_control": {"type": "ephemeral"}}, ANSWER_TEXT]},
    ]
    request = anthropic_messages.decode_request(body(messages=history))
    call, result, text = request.messages[1].parts
    assert (call.hosted_tool.provider, call.hosted_tool.type, call.hosted_tool.item_id) == (
        "anthropic", "server_tool_use", "srvtoolu_01"
    )  # fmt: skip
    assert result.hosted_tool.item_id == "srvtoolu_01" and result.HasField("cache_breakpoint")
    assert json.loads(result.hosted_tool.item_json) == RESULT, "the breakpoint has its own place, not the item"
    sent = anthropic_messages.encode_request(request)["messages"][1]["content"]
    assert sent == [CALL, {**RESULT, "cache_control": {"type": "ephemeral"}}, ANSWER_TEXT]
    assert text.text.text == ANSWER_TEXT["text"]


def test_an_openai_hosted_item_cannot_be_sent_to_anthropic() -> None:
    part = c.ContentPart(hosted_tool=c.HostedToolPart(provider="openai", type="web_search_call", item_json="{}"))
    request = anthropic_messages.decode_request(body())
    request.messages.append(c.Message(role=c.MESSAGE_ROLE_ASSISTANT, parts=[part]))
    with pytest.raises(DialectError, match="web_search_call"):
        anthropic_messages.encode_request(request)


def test_a_response_with_server_tool_blocks_streams_them_whole_and_decodes_back() -> None:
    message = {
        "id": "msg_1", "type": "message", "role": "assistant", "model": "claude",
        "content": [CALL, RESULT, ANSWER_TEXT], "stop_reason": "end_turn", "stop_sequence": None,
        "usage": {"input_tokens": 10, "output_tokens": 5},
    }  # fmt: skip
    completion = anthropic_messages.decode_response(message)
    assert [p.WhichOneof("kind") for p in completion.message.parts] == ["hosted_tool", "hosted_tool", "text"]
    assert anthropic_messages.encode_response(completion)["content"] == [CALL, RESULT, ANSWER_TEXT]
    encoder = anthropic_messages.MessagesStreamEncoder(response_id="msg_1", model="claude")
    events = encoder.start()
    for delta in message_to_deltas(completion.message):
        events += encoder.delta(delta)
    events += encoder.finish(completion.finish_reason, completion.usage)
    starts = [e["content_block"] for e in events if e["type"] == "content_block_start"]
    assert starts[:2] == [CALL, RESULT]
    decoder = anthropic_messages.MessagesStreamDecoder()
    for event in events:
        decoder.feed_event(event)
    assert decoder.completion().message == completion.message


def test_a_streamed_server_tool_call_gathers_its_input_from_deltas() -> None:
    decoder = anthropic_messages.MessagesStreamDecoder()

    def json_delta(text: str) -> dict[str, Any]:
        return {"type": "content_block_delta", "index": 0, "delta": {"type": "input_json_delta", "partial_json": text}}

    events: list[dict[str, Any]] = [
        {"type": "message_start", "message": {"id": "m", "model": "claude", "usage": {"input_tokens": 3}}},
        {"type": "content_block_start", "index": 0, "content_block": {**CALL, "input": {}}},
        json_delta('{"query": '),
        json_delta('"port 8080"}'),
        {"type": "content_block_stop", "index": 0},
        {"type": "content_block_start", "index": 1, "content_block": RESULT},
        {"type": "content_block_stop", "index": 1},
        {"type": "message_delta", "delta": {"stop_reason": "end_turn"}, "usage": {"output_tokens": 4}},
        {"type": "message_stop"},
    ]  # fmt: skip
    for event in events:
        decoder.feed_event(event)
    call, result = decoder.completion().message.parts
    assert json.loads(call.hosted_tool.item_json) == CALL
    assert json.loads(result.hosted_tool.item_json) == RESULT
