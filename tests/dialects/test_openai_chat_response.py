"""OpenAI Chat Completions responses: realistic bodies, usage and round trips."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given

from rolemodel.dialects.canonical import Completion
from rolemodel.dialects.errors import DialectError
from rolemodel.dialects.openai_chat import decode_response, encode_response
from rolemodel.v1 import conversation_pb2 as c
from rolemodel.v1 import outcome_pb2
from tests.dialects import projections
from tests.dialects.strategies import answers, finish_reasons, usages

# A response as OpenAI returns it for a tool call, with a warm prompt cache.
TOOL_CALL_RESPONSE: dict[str, Any] = {
    "id": "chatcmpl-B9MBs8CjcvOU2jLn4n570S5qMJKcT",
    "object": "chat.completion",
    "created": 1741569952,
    "model": "gpt-4.1-2025-04-14",
    "choices": [
        {
            "index": 0,
            "message": {
                "role": "assistant",
                "content": None,
                "tool_calls": [
                    {
                        "id": "call_12345xyz",
                        "type": "function",
                        "function": {"name": "get_weather", "arguments": '{"location":"Paris, France"}'},
                    }
                ],
                "refusal": None,
                "annotations": [],
            },
            "logprobs": None,
            "finish_reason": "tool_calls",
        }
    ],
    "usage": {
        "prompt_tokens": 2006,
        "completion_tokens": 300,
        "total_tokens": 2306,
        "prompt_tokens_details": {"cached_tokens": 1920, "audio_tokens": 0},
        "completion_tokens_details": {"reasoning_tokens": 0, "audio_tokens": 0},
    },
    "service_tier": "default",
    "system_fingerprint": "fp_50cad350e4",
}


def test_a_tool_call_response_with_cached_tokens() -> None:
    completion = decode_response(TOOL_CALL_RESPONSE)
    assert completion.finish_reason == "tool_calls"
    assert completion.response_id == "chatcmpl-B9MBs8CjcvOU2jLn4n570S5qMJKcT"
    assert completion.message.parts[0].tool_call == c.ToolCallPart(
        id="call_12345xyz", name="get_weather", arguments_json='{"location":"Paris, France"}'
    )
    assert completion.usage == outcome_pb2.Usage(input_tokens=2006, cache_read_tokens=1920, output_tokens=300)


def test_deepseek_reports_cache_hits_in_its_own_fields() -> None:
    body = {
        "id": "x",
        "model": "deepseek-chat",
        "choices": [{"index": 0, "message": {"role": "assistant", "content": "Hi"}, "finish_reason": "stop"}],
        "usage": {
            "prompt_tokens": 900,
            "completion_tokens": 2,
            "prompt_cache_hit_tokens": 640,
            "prompt_cache_miss_tokens": 260,
        },
    }
    assert decode_response(body).usage == outcome_pb2.Usage(input_tokens=900, cache_read_tokens=640, output_tokens=2)


def test_the_encoded_response_is_what_openai_sends() -> None:
    completion = decode_response(TOOL_CALL_RESPONSE)
    body = encode_response(completion, created=1741569952)
    choice = body["choices"][0]
    assert choice["message"] == {
        k: v for k, v in TOOL_CALL_RESPONSE["choices"][0]["message"].items() if k != "annotations"
    }
    assert body["usage"]["prompt_tokens_details"] == {"cached_tokens": 1920}
    assert body["usage"]["total_tokens"] == 2306


def test_a_response_without_choices_is_refused() -> None:
    with pytest.raises(DialectError, match="choice"):
        decode_response({"id": "x", "choices": []})


@given(answers(reasoning_provider="deepseek", signed=False), finish_reasons, usages)
def test_canonical_to_openai_to_canonical(answer: c.Message, finish: str, usage: outcome_pb2.Usage) -> None:
    completion = Completion(message=answer, finish_reason=finish, usage=usage, model="m", response_id="chatcmpl-1")
    decoded = decode_response(json.loads(json.dumps(encode_response(completion))), reasoning_provider="deepseek")
    expected_usage = outcome_pb2.Usage()
    expected_usage.CopyFrom(usage)
    expected_usage.cache_write_tokens = 0  # OpenAI reports no cache writes.
    assert decoded == Completion(
        message=projections.openai_messages([answer], "deepseek")[0],
        finish_reason=finish,
        usage=expected_usage,
        model="m",
        response_id="chatcmpl-1",
    )


@given(answers(reasoning_provider="", signed=False), finish_reasons, usages)
def test_openai_to_canonical_to_openai(answer: c.Message, finish: str, usage: outcome_pb2.Usage) -> None:
    usage.cache_write_tokens = 0
    body = encode_response(Completion(message=answer, finish_reason=finish, usage=usage, model="m", response_id="r"))
    assert encode_response(decode_response(body)) == body
