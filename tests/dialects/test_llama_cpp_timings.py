"""llama.cpp's ``timings`` on Chat Completions answers, whole and streamed (spec 10.4)."""

from __future__ import annotations

import json

from rolemodel.dialects.canonical import ServerTimings
from rolemodel.dialects.openai_chat import ChatStreamDecoder, decode_response

TIMINGS = {
    "cache_n": 1612,
    "prompt_n": 204,
    "prompt_ms": 5.1,
    "prompt_per_second": 40_000.0,
    "predicted_n": 16,
    "predicted_ms": 8.0,
    "predicted_per_second": 2_000.0,
}
EXPECTED = ServerTimings(
    cached_tokens=1612,
    prefilled_tokens=204,
    prefill_tokens_per_second=40_000.0,
    output_tokens=16,
    output_tokens_per_second=2_000.0,
)


def test_a_whole_answer_keeps_the_servers_timings() -> None:
    body = {
        "id": "chatcmpl-1",
        "model": "tiny",
        "choices": [{"index": 0, "message": {"role": "assistant", "content": "hi"}, "finish_reason": "length"}],
        "usage": {"prompt_tokens": 1816, "completion_tokens": 16, "prompt_tokens_details": {"cached_tokens": 1612}},
        "timings": TIMINGS,
    }
    completion = decode_response(body)
    assert completion.timings == EXPECTED
    assert completion.usage is not None and completion.usage.cache_read_tokens == 1612


def test_a_stream_keeps_the_timings_of_its_last_chunk() -> None:
    decoder = ChatStreamDecoder()
    chunks = [
        {"id": "c", "choices": [{"index": 0, "delta": {"role": "assistant", "content": "hi"}, "finish_reason": None}]},
        {"id": "c", "choices": [{"index": 0, "delta": {}, "finish_reason": "length"}], "timings": TIMINGS},
    ]
    raw = b"".join(f"data: {json.dumps(c)}\n\n".encode() for c in chunks) + b"data: [DONE]\n\n"
    decoder.feed_bytes(raw)
    assert decoder.completion().timings == EXPECTED


def test_an_answer_without_timings_has_none() -> None:
    body = {"choices": [{"index": 0, "message": {"role": "assistant", "content": "hi"}, "finish_reason": "stop"}]}
    assert decode_response(body).timings is None
