"""OpenAI Chat Completions streams: a real transcript, and tool-call deltas through both directions."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from rolemodel.dialects.errors import DialectError, IncompleteStreamError, ProviderStreamError
from rolemodel.dialects.openai_chat import DONE_FRAME, ChatStreamDecoder, ChatStreamEncoder, chunk_frame
from rolemodel.dialects.sse import encode_event
from rolemodel.v1 import conversation_pb2 as c
from rolemodel.v1 import outcome_pb2
from rolemodel.v1 import router_service_pb2 as rs
from tests.dialects import projections
from tests.dialects.strategies import answers, byte_splits, finish_reasons, fragmented_deltas, usages

# A parallel tool call streamed by the OpenAI API, with stream_options.include_usage.
TRANSCRIPT = (Path(__file__).parent / "transcripts" / "openai_parallel_tool_calls.sse").read_bytes()


def test_a_real_parallel_tool_call_stream() -> None:
    decoder = ChatStreamDecoder()
    deltas = decoder.feed_bytes(TRANSCRIPT)
    assert decoder.done
    assert [d.tool_call.index for d in deltas] == [0, 0, 0, 1, 1]
    completion = decoder.completion()
    assert completion.finish_reason == "tool_calls"
    assert [(p.tool_call.id, p.tool_call.arguments_json) for p in completion.message.parts] == [
        ("call_a", '{"location": "Paris"}'),
        ("call_b", '{"location": "Rome"}'),
    ]
    assert completion.usage == outcome_pb2.Usage(input_tokens=1500, cache_read_tokens=1280, output_tokens=40)


def test_deepseek_streams_reasoning_content_before_the_answer() -> None:
    chunks: list[dict[str, Any]] = [
        {
            "id": "d",
            "model": "deepseek-reasoner",
            "choices": [{"index": 0, "delta": {"role": "assistant", "content": ""}}],
        },
        {"choices": [{"index": 0, "delta": {"reasoning_content": "Two plus two"}}]},
        {"choices": [{"index": 0, "delta": {"reasoning_content": " is four."}}]},
        {"choices": [{"index": 0, "delta": {"content": "4"}, "finish_reason": "stop"}]},
    ]
    decoder = ChatStreamDecoder(reasoning_provider="deepseek")
    for chunk in chunks:
        decoder.feed_chunk(chunk)
    message = decoder.completion().message
    assert message.parts[0].reasoning == c.ReasoningPart(text="Two plus two is four.", provider="deepseek")
    assert message.parts[1].text.text == "4"


def test_a_cut_stream_is_incomplete_and_keeps_what_arrived() -> None:
    decoder = ChatStreamDecoder()
    decoder.feed_bytes(TRANSCRIPT[: TRANSCRIPT.index(b"data:", 600)])
    with pytest.raises(IncompleteStreamError):
        decoder.completion()
    assert decoder.partial_completion().message.parts[0].tool_call.id == "call_a"


def test_an_error_chunk_raises() -> None:
    decoder = ChatStreamDecoder()
    with pytest.raises(ProviderStreamError, match="server_error"):
        decoder.feed_bytes(b'data: {"error": {"message": "boom", "type": "server_error"}}\n\n')


def _encode(
    deltas: list[rs.ContentDelta], finish: str, usage: outcome_pb2.Usage | None, include_usage: bool = True
) -> bytes:
    encoder = ChatStreamEncoder(response_id="chatcmpl-9", model="m", created=7, include_usage=include_usage)
    chunks = encoder.start() + [chunk for d in deltas for chunk in encoder.delta(d)] + encoder.finish(finish, usage)
    return b"".join(chunk_frame(chunk) for chunk in chunks) + DONE_FRAME


@given(answers(reasoning_provider="deepseek", signed=False), finish_reasons, usages, st.data())
def test_canonical_deltas_to_openai_chunks_and_back(
    answer: c.Message, finish: str, usage: outcome_pb2.Usage, data: st.DataObject
) -> None:
    usage.cache_write_tokens = 0
    deltas = data.draw(fragmented_deltas(answer))
    stream = _encode(deltas, finish, usage)
    decoder = ChatStreamDecoder(reasoning_provider="deepseek")
    decoded = [d for piece in data.draw(byte_splits(stream)) for d in decoder.feed_bytes(piece)]
    assert decoded == projections.meaningful(deltas)
    completion = decoder.completion()
    assert completion.message == answer
    assert (completion.finish_reason, completion.usage, completion.response_id) == (finish, usage, "chatcmpl-9")
    assert decoder.done


@given(answers(reasoning_provider="anthropic"), st.data())
def test_signatures_are_dropped_and_everything_else_survives(answer: c.Message, data: st.DataObject) -> None:
    deltas = data.draw(fragmented_deltas(answer))
    decoder = ChatStreamDecoder(reasoning_provider="anthropic")
    decoder.feed_bytes(_encode(deltas, "stop", None, include_usage=False))
    completion = decoder.completion()
    assert completion.usage is None
    unsigned = c.Message()
    unsigned.CopyFrom(answer)
    for part in unsigned.parts:
        if part.HasField("reasoning"):
            part.reasoning.signature = ""
    assert completion.message == projections.accumulated(unsigned)


@given(answers(reasoning_provider="", signed=False), finish_reasons, usages, st.data())
def test_openai_chunks_to_canonical_and_back_are_the_same_chunks(
    answer: c.Message, finish: str, usage: outcome_pb2.Usage, data: st.DataObject
) -> None:
    usage.cache_write_tokens = 0
    stream = _encode(data.draw(fragmented_deltas(answer)), finish, usage)
    decoder = ChatStreamDecoder()
    deltas = decoder.feed_bytes(stream)
    completion = decoder.completion()
    assert _encode(deltas, completion.finish_reason, completion.usage) == stream


def test_the_encoder_writes_usage_null_on_every_chunk_but_the_last() -> None:
    stream = _encode([rs.ContentDelta(text="Hi")], "stop", outcome_pb2.Usage(input_tokens=3, output_tokens=1))
    chunks = [json.loads(line[6:]) for line in stream.decode().split("\n\n") if line and line != "data: [DONE]"]
    assert [chunk["usage"] is None for chunk in chunks] == [True, True, True, False]
    assert chunks[-1]["choices"] == []
    assert stream.endswith(b"data: [DONE]\n\n")


def test_an_encoded_error_chunk_decodes_as_a_provider_error() -> None:
    encoder = ChatStreamEncoder(response_id="c", model="m")
    decoder = ChatStreamDecoder()
    decoder.feed_bytes(b"".join(chunk_frame(c) for c in encoder.start()))
    with pytest.raises(ProviderStreamError) as caught:
        decoder.feed_bytes(chunk_frame(encoder.error("upstream failed", code="upstream_error")))
    assert (caught.value.error_type, caught.value.message) == ("server_error", "upstream failed")


@given(
    answers(reasoning_provider="deepseek"),
    st.text(max_size=12),
    st.text(max_size=12),
    st.integers(min_value=0, max_value=2**40),
    st.booleans(),
    st.data(),
)
def test_delta_frames_are_the_chunk_frames_of_delta_byte_for_byte(
    answer: c.Message, response_id: str, model: str, created: int, include_usage: bool, data: st.DataObject
) -> None:
    """The front door writes pre-serialised frames; they are exactly what serialising each chunk gives."""
    kwargs = {"response_id": response_id, "model": model, "created": created, "include_usage": include_usage}
    whole, fast = ChatStreamEncoder(**kwargs), ChatStreamEncoder(**kwargs)  # type: ignore[arg-type]
    for delta in data.draw(fragmented_deltas(answer)):
        assert fast.delta_frames(delta) == b"".join(chunk_frame(chunk) for chunk in whole.delta(delta))


@given(st.text())
def test_a_chunk_frame_is_one_data_line_as_the_sse_framing_would_write_it(text: str) -> None:
    chunk = {"choices": [{"delta": {"content": text}}]}
    assert chunk_frame(chunk) == encode_event(json.dumps(chunk, ensure_ascii=False, separators=(",", ":")))


@pytest.mark.parametrize(
    ("chunk", "path"),
    [
        ({"model": 5, "choices": [{"index": 0, "delta": {"content": "x"}}]}, "chunk 0.model"),
        ({"choices": [{"index": 0, "delta": {"content": 7}}]}, "chunk 0.choices[0].content"),
        ({"choices": [{"index": -1, "delta": {"content": "x"}}]}, "chunk 0.index"),
        ({"choices": [{"index": 0, "delta": {"content": "x", "reasoning": 1}}]}, "chunk 0.choices[0].reasoning"),
    ],
)
def test_a_text_chunk_with_a_field_of_the_wrong_type_is_refused_at_its_path(chunk: dict[str, Any], path: str) -> None:
    """Plain text chunks are read on a short path; one that only looks plain is refused as before."""
    with pytest.raises(DialectError) as refused:
        ChatStreamDecoder().feed_chunk(chunk)
    assert refused.value.path == path


def test_plain_text_chunks_keep_the_model_and_id_of_the_first_that_names_them() -> None:
    decoder = ChatStreamDecoder()
    for chunk in (
        {"choices": [{"delta": {"role": "assistant", "content": ""}}]},
        {"id": "c-1", "model": "m-1", "choices": [{"index": 0, "delta": {"content": "Hel"}, "logprobs": None}]},
        {"id": "c-2", "model": "m-2", "choices": [{"index": 0, "delta": {"content": "lo"}}]},
        {"choices": [{"index": 1, "delta": {"content": "other choice"}}]},
        {"choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]},
    ):
        decoder.feed_chunk(chunk)
    completion = decoder.completion()
    assert (completion.model, completion.response_id, decoder.chunk_count) == ("m-1", "c-1", 5)
    assert completion.message.parts[0].text.text == "Hello"
