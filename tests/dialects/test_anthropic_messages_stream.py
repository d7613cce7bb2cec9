"""Anthropic Messages streams: a real transcript, and deltas through both directions."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from rolemodel.dialects.anthropic_messages import MessagesStreamDecoder, MessagesStreamEncoder, event_frame
from rolemodel.dialects.errors import DialectError, IncompleteStreamError, ProviderStreamError
from rolemodel.v1 import conversation_pb2 as c
from rolemodel.v1 import outcome_pb2
from rolemodel.v1 import router_service_pb2 as rs
from tests.dialects import projections
from tests.dialects.strategies import answers, byte_splits, finish_reasons, fragmented_deltas, usages

TRANSCRIPT = (Path(__file__).parent / "transcripts" / "anthropic_thinking_tool_use.sse").read_bytes()


def test_a_real_stream_with_thinking_text_and_a_tool_call() -> None:
    decoder = MessagesStreamDecoder()
    deltas = decoder.feed_bytes(TRANSCRIPT)
    assert [d.WhichOneof("kind") for d in deltas] == [
        "reasoning_text",
        "reasoning_text",
        "reasoning_signature",
        "text",
        "text",
        "tool_call",
        "tool_call",
        "tool_call",
    ]
    assert decoder.done
    completion = decoder.completion()
    reasoning, text, call = completion.message.parts
    assert reasoning.reasoning == c.ReasoningPart(
        text="The user wants the weather. I'll call the tool.",
        provider="anthropic",
        signature="EqQBCgIYAhIM1gbcDa9GJwZA",
    )
    assert text.text.text == "Let me check the weather."
    assert call.tool_call == c.ToolCallPart(
        id="toolu_01T1x1fJ34qAmk2tNTrN7Up6", name="get_weather", arguments_json='{"location": "San Francisco, CA"}'
    )
    assert completion.finish_reason == "tool_calls"
    assert completion.usage == outcome_pb2.Usage(
        input_tokens=9672, cache_read_tokens=8000, cache_write_tokens=1200, output_tokens=89
    )


def test_an_error_event_raises() -> None:
    decoder = MessagesStreamDecoder()
    with pytest.raises(ProviderStreamError, match="overloaded_error"):
        decoder.feed_bytes(
            b'event: error\ndata: {"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}\n\n'
        )


def test_a_cut_stream_is_incomplete() -> None:
    decoder = MessagesStreamDecoder()
    decoder.feed_bytes(
        TRANSCRIPT[: TRANSCRIPT.index(b'event: content_block_stop\ndata: {"type":"content_block_stop","index":2')]
    )
    with pytest.raises(IncompleteStreamError):
        decoder.completion()
    partial = decoder.partial_completion().message
    assert partial.parts[2].tool_call.arguments_json == '{"location": "San Francisco, CA"}'


def test_unknown_events_are_ignored_and_unknown_blocks_refused() -> None:
    """Server-tool blocks are hosted-tool parts (test_anthropic_messages_server_tools); a block type nobody
    defined is refused by name."""
    decoder = MessagesStreamDecoder()
    assert decoder.feed_event({"type": "future_event", "x": 1}) == []
    with pytest.raises(DialectError, match="future_block"):
        decoder.feed_event({"type": "content_block_start", "index": 0, "content_block": {"type": "future_block"}})


def _encode(deltas: list[rs.ContentDelta], finish: str, usage: outcome_pb2.Usage, stop_sequence: str = "") -> bytes:
    encoder = MessagesStreamEncoder(response_id="msg_9", model="claude")
    prompt_usage = outcome_pb2.Usage()
    prompt_usage.CopyFrom(usage)
    prompt_usage.output_tokens = 0
    events = encoder.start(prompt_usage) + [e for d in deltas for e in encoder.delta(d)]
    events += encoder.finish(finish, usage, stop_sequence)
    return b"".join(event_frame(e) for e in events)


@given(answers(), finish_reasons, usages, st.data())
def test_canonical_deltas_to_anthropic_events_and_back(
    answer: c.Message, finish: str, usage: outcome_pb2.Usage, data: st.DataObject
) -> None:
    deltas = data.draw(fragmented_deltas(answer))
    stream = _encode(deltas, finish, usage)
    decoder = MessagesStreamDecoder()
    decoded = [d for piece in data.draw(byte_splits(stream)) for d in decoder.feed_bytes(piece)]
    assert decoded == projections.anthropic_deltas(deltas)
    completion = decoder.completion()
    assert completion.message == answer
    assert (completion.finish_reason, completion.usage, completion.response_id) == (finish, usage, "msg_9")


@given(answers(), finish_reasons, usages, st.data())
def test_anthropic_events_to_canonical_and_back_are_the_same_events(
    answer: c.Message, finish: str, usage: outcome_pb2.Usage, data: st.DataObject
) -> None:
    stream = _encode(data.draw(fragmented_deltas(answer)), finish, usage)
    decoder = MessagesStreamDecoder()
    deltas = decoder.feed_bytes(stream)
    completion = decoder.completion()
    assert completion.usage is not None
    assert _encode(deltas, completion.finish_reason, completion.usage, completion.stop_sequence) == _encode(
        projections.meaningful(deltas), finish, usage
    )


def test_the_encoder_names_events_and_closes_blocks_when_the_kind_changes() -> None:
    encoder = MessagesStreamEncoder(response_id="msg_1", model="claude")
    deltas = [
        rs.ContentDelta(reasoning_text="hmm"),
        rs.ContentDelta(reasoning_signature="sig"),
        rs.ContentDelta(text="Hi"),
        rs.ContentDelta(tool_call=rs.ToolCallDelta(index=0, id="toolu_1", name="f", arguments_json_delta='{"a":')),
        rs.ContentDelta(tool_call=rs.ToolCallDelta(index=0, arguments_json_delta="1}")),
    ]
    events = encoder.start() + [e for d in deltas for e in encoder.delta(d)] + encoder.finish("tool_calls", None)
    assert [(e["type"], e.get("index")) for e in events] == [
        ("message_start", None),
        ("ping", None),
        ("content_block_start", 0),
        ("content_block_delta", 0),
        ("content_block_delta", 0),
        ("content_block_stop", 0),
        ("content_block_start", 1),
        ("content_block_delta", 1),
        ("content_block_stop", 1),
        ("content_block_start", 2),
        ("content_block_delta", 2),
        ("content_block_delta", 2),
        ("content_block_stop", 2),
        ("message_delta", None),
        ("message_stop", None),
    ]
    assert events[-2]["delta"] == {"stop_reason": "tool_use", "stop_sequence": None}
    frame = event_frame(events[0]).decode()
    assert frame.startswith("event: message_start\ndata: ")
    assert json.loads(frame.split("data: ", 1)[1])["message"]["usage"]["input_tokens"] == 0


def test_interleaved_tool_calls_cannot_become_anthropic_blocks() -> None:
    encoder = MessagesStreamEncoder(response_id="m", model="c")
    encoder.delta(rs.ContentDelta(tool_call=rs.ToolCallDelta(index=0, id="a", name="f")))
    encoder.delta(rs.ContentDelta(tool_call=rs.ToolCallDelta(index=1, id="b", name="g")))
    with pytest.raises(DialectError, match="interleave"):
        encoder.delta(rs.ContentDelta(tool_call=rs.ToolCallDelta(index=0, arguments_json_delta="{}")))


def test_an_encoded_error_event_decodes_as_a_provider_error() -> None:
    encoder = MessagesStreamEncoder(response_id="m", model="c")
    decoder = MessagesStreamDecoder()
    decoder.feed_bytes(b"".join(event_frame(e) for e in encoder.start()))
    with pytest.raises(ProviderStreamError) as caught:
        decoder.feed_bytes(event_frame(encoder.error("Overloaded", error_type="overloaded_error")))
    assert (caught.value.error_type, caught.value.message) == ("overloaded_error", "Overloaded")
