"""Every row of the Chat Completions field table, one test each: mapped, passed through, or refused by name.

The cases below are keyed by field name, and a test checks that they cover the table exactly, so a
field added to the table without a test of what happens to it fails here.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from rolemodel.dialects.canonical import CanonicalRequest
from rolemodel.dialects.errors import DialectError
from rolemodel.dialects.field_rules import Treatment
from rolemodel.dialects.openai_chat import decode_request, encode_request, stream_include_usage
from rolemodel.dialects.openai_chat.fields import PASSTHROUGH_PREFIX, REQUEST_FIELDS, RULES
from rolemodel.v1 import conversation_pb2 as c
from rolemodel.v1 import router_service_pb2 as r

BASE: dict[str, Any] = {"model": "gpt-5", "messages": [{"role": "user", "content": "hi"}]}
READ_FILE = {"type": "function", "function": {"name": "read_file", "parameters": {"type": "object"}}}

Check = Callable[[CanonicalRequest, dict[str, Any]], bool]

#: A value for each mapped field, and what the canonical request (and its re-encoding) must show for it.
MAPPED: dict[str, tuple[Any, Check]] = {
    "model": ("gpt-5-mini", lambda req, _: req.model == "gpt-5-mini"),
    "messages": (
        [{"role": "developer", "content": "be brief"}, {"role": "user", "content": "hi"}],
        lambda req, _: [m.role for m in req.messages] == [c.MESSAGE_ROLE_SYSTEM, c.MESSAGE_ROLE_USER],
    ),
    "tools": (
        [READ_FILE],
        lambda req, out: [t.name for t in req.tools] == ["read_file"] and out["tools"] == [READ_FILE],
    ),
    "tool_choice": (
        "required",
        lambda req, out: (
            req.params.tool_choice.mode == r.TOOL_CHOICE_MODE_REQUIRED and out["tool_choice"] == "required"
        ),
    ),
    "parallel_tool_calls": (
        False,
        lambda req, out: req.params.parallel_tool_calls is False and out["parallel_tool_calls"] is False,
    ),
    "max_completion_tokens": (300, lambda req, out: req.params.max_output_tokens == 300),
    "max_tokens": (200, lambda req, out: req.params.max_output_tokens == 200),
    "temperature": (0.25, lambda req, out: req.params.temperature == 0.25 and out["temperature"] == 0.25),
    "top_p": (0.5, lambda req, out: req.params.top_p == 0.5 and out["top_p"] == 0.5),
    "stop": (["END"], lambda req, out: list(req.params.stop) == ["END"] and out["stop"] == ["END"]),
    "seed": (7, lambda req, out: req.params.seed == 7 and out["seed"] == 7),
    "reasoning_effort": (
        "high",
        lambda req, out: req.params.reasoning.effort == r.REASONING_EFFORT_HIGH and out["reasoning_effort"] == "high",
    ),
    "response_format": (
        {"type": "json_schema", "json_schema": {"name": "x", "schema": {"type": "object"}}},
        lambda req, out: req.params.response_json_schema == '{"type":"object"}',
    ),
    "stream": (True, lambda req, out: req.stream and out["stream"] is True),
    "stream_options": ({"include_usage": True}, lambda req, out: out["stream_options"] == {"include_usage": True}),
    "n": (1, lambda req, out: "n" not in out),
    "logprobs": (False, lambda req, out: "logprobs" not in out),
    "prompt_cache_key": ("repo-7", lambda req, out: req.params.prompt_cache_key == "repo-7"),
}

#: A value for each field passed through; it must come back unchanged from the encoder.
PASSED: dict[str, Any] = {
    "frequency_penalty": 0.1,
    "presence_penalty": -0.2,
    "logit_bias": {"50256": -100},
    "user": "u-1",
    "safety_identifier": "hash-of-user",
    "metadata": {"ticket": "T-1"},
    "service_tier": "flex",
    "verbosity": "low",
}

#: A value for each refused field (and the refused values of mapped ones), and the path the 400 names.
REFUSED: dict[str, tuple[Any, str]] = {
    "top_logprobs": (2, "top_logprobs"),
    "modalities": (["text", "audio"], "modalities"),
    "audio": ({"voice": "alloy"}, "audio"),
    "prediction": ({"type": "content", "content": "x"}, "prediction"),
    "web_search_options": ({}, "web_search_options"),
    "functions": ([], "functions"),
    "function_call": ("auto", "function_call"),
    "store": (True, "store"),
    "prompt_cache_retention": ("24h", "prompt_cache_retention"),
}


def test_the_cases_cover_the_table_exactly() -> None:
    assert set(MAPPED) == {f.name for f in REQUEST_FIELDS if f.treatment == Treatment.MAPPED}
    assert set(PASSED) == {f.name for f in REQUEST_FIELDS if f.treatment == Treatment.PASSED_THROUGH}
    assert set(REFUSED) == {f.name for f in REQUEST_FIELDS if f.treatment == Treatment.REFUSED}


@pytest.mark.parametrize("name", sorted(MAPPED))
def test_a_mapped_field_reaches_the_canonical_request(name: str) -> None:
    value, check = MAPPED[name]
    body = {**BASE, name: value}
    if name == "stream_options":
        body["stream"] = True
        assert stream_include_usage(body)
    request = decode_request(body)
    assert check(request, encode_request(request)), name


@pytest.mark.parametrize("name", sorted(PASSED))
def test_a_passed_through_field_reaches_a_chat_completions_endpoint_unchanged(name: str) -> None:
    request = decode_request({**BASE, name: PASSED[name]})
    assert PASSTHROUGH_PREFIX + name in request.params.passthrough
    assert encode_request(request)[name] == PASSED[name]


@pytest.mark.parametrize("name", sorted(REFUSED))
def test_a_refused_field_is_answered_with_an_error_naming_it(name: str) -> None:
    value, path = REFUSED[name]
    with pytest.raises(DialectError) as caught:
        decode_request({**BASE, name: value})
    assert caught.value.path == path
    assert RULES[name].how in caught.value.reason


@pytest.mark.parametrize(
    ("name", "value", "path"),
    [
        ("n", 2, "n"),
        ("logprobs", True, "logprobs"),
        ("response_format", {"type": "json_object"}, "response_format.type"),
    ],
)
def test_a_mapped_field_with_a_value_the_router_cannot_honour_is_refused_by_name(
    name: str, value: Any, path: str
) -> None:
    with pytest.raises(DialectError) as caught:
        decode_request({**BASE, name: value})
    assert caught.value.path == path


def test_a_field_outside_the_table_is_refused_by_name() -> None:
    with pytest.raises(DialectError) as caught:
        decode_request({**BASE, "reasoning": {"effort": "low"}})
    assert caught.value.path == "reasoning"
