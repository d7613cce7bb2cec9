"""Anthropic Messages responses: usage conversion, stop reasons and round trips."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from rolemodel.dialects.anthropic_messages import decode_response, encode_response
from rolemodel.dialects.anthropic_messages.response import decode_usage, encode_usage
from rolemodel.dialects.canonical import Completion
from rolemodel.dialects.errors import DialectError
from rolemodel.v1 import conversation_pb2 as c
from rolemodel.v1 import outcome_pb2
from tests.dialects import projections
from tests.dialects.strategies import answers, finish_reasons, usages

RESPONSE: dict[str, Any] = {
    "id": "msg_01Aq9w938a90dw8q",
    "type": "message",
    "role": "assistant",
    "model": "claude-opus-4-1",
    "content": [
        {"type": "thinking", "thinking": "Paris is the capital.", "signature": "EqQBCgIYAhIM"},
        {"type": "text", "text": "The capital of France is Paris.", "citations": None},
    ],
    "stop_reason": "end_turn",
    "stop_sequence": None,
    "usage": {
        "input_tokens": 50,
        "cache_creation_input_tokens": 1000,
        "cache_read_input_tokens": 20000,
        "cache_creation": {"ephemeral_5m_input_tokens": 1000, "ephemeral_1h_input_tokens": 0},
        "output_tokens": 40,
        "service_tier": "standard",
    },
}


def test_anthropic_input_tokens_exclude_the_cache_and_canonical_ones_include_it() -> None:
    completion = decode_response(RESPONSE)
    assert completion.usage == outcome_pb2.Usage(
        input_tokens=21050, cache_read_tokens=20000, cache_write_tokens=1000, output_tokens=40
    )
    assert encode_usage(completion.usage) == {
        "input_tokens": 50,
        "cache_creation_input_tokens": 1000,
        "cache_read_input_tokens": 20000,
        "output_tokens": 40,
    }
    assert completion.finish_reason == "stop"
    assert completion.message.parts[0].reasoning.signature == "EqQBCgIYAhIM"


def test_a_usage_whose_cache_exceeds_the_prompt_cannot_be_encoded() -> None:
    with pytest.raises(DialectError, match="cached tokens"):
        encode_usage(outcome_pb2.Usage(input_tokens=10, cache_read_tokens=8, cache_write_tokens=8))


@pytest.mark.parametrize(
    ("stop_reason", "finish", "back"),
    [
        ("end_turn", "stop", "end_turn"),
        ("max_tokens", "length", "max_tokens"),
        ("tool_use", "tool_calls", "tool_use"),
        ("refusal", "content_filter", "refusal"),
        ("pause_turn", "pause_turn", "pause_turn"),
        ("model_context_window_exceeded", "length", "max_tokens"),
    ],
)
def test_stop_reasons(stop_reason: str, finish: str, back: str) -> None:
    completion = decode_response({**RESPONSE, "stop_reason": stop_reason})
    assert completion.finish_reason == finish
    assert encode_response(completion)["stop_reason"] == back


def test_a_stop_sequence_survives_the_round_trip() -> None:
    completion = decode_response({**RESPONSE, "stop_reason": "stop_sequence", "stop_sequence": "</done>"})
    assert (completion.finish_reason, completion.stop_sequence) == ("stop", "</done>")
    body = encode_response(completion)
    assert (body["stop_reason"], body["stop_sequence"]) == ("stop_sequence", "</done>")


@given(answers(), finish_reasons, usages, st.sampled_from(["", "###"]))
def test_canonical_to_anthropic_to_canonical(
    answer: c.Message, finish: str, usage: outcome_pb2.Usage, stop_sequence: str
) -> None:
    stop_sequence = stop_sequence if finish == "stop" else ""
    completion = Completion(answer, finish, usage, model="claude", response_id="msg_1", stop_sequence=stop_sequence)
    decoded = decode_response(json.loads(json.dumps(encode_response(completion))))
    expected = Completion(projections.anthropic_messages([answer])[0], finish, usage, "claude", "msg_1", stop_sequence)
    assert decoded == expected


@given(answers(), finish_reasons, usages)
def test_anthropic_to_canonical_to_anthropic(answer: c.Message, finish: str, usage: outcome_pb2.Usage) -> None:
    body = encode_response(Completion(answer, finish, usage, model="claude", response_id="msg_1"))
    assert encode_response(decode_response(body)) == body


def test_the_split_of_cache_writes_by_ttl_survives_a_round_trip() -> None:
    usage = {
        "input_tokens": 10,
        "cache_creation_input_tokens": 3000,
        "cache_read_input_tokens": 0,
        "output_tokens": 5,
        "cache_creation": {"ephemeral_5m_input_tokens": 2000, "ephemeral_1h_input_tokens": 1000},
    }
    decoded = decode_usage(usage, "usage")
    assert (decoded.cache_write_tokens, decoded.cache_write_long_ttl_tokens) == (3000, 1000)
    assert encode_usage(decoded) == usage
    assert "cache_creation" not in encode_usage(decode_usage({**usage, "cache_creation": {}}, "usage"))
