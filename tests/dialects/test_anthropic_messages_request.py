"""Anthropic Messages request bodies: realistic examples and round-trip properties."""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from rolemodel.dialects.anthropic_messages import decode_request, encode_request
from rolemodel.dialects.canonical import CanonicalRequest
from rolemodel.dialects.errors import DialectError
from rolemodel.v1 import conversation_pb2 as c
from rolemodel.v1 import router_service_pb2
from tests.dialects import projections
from tests.dialects.strategies import conversations, generation_params, tool_definitions
from tests.strategies import ids, json_arguments, texts

PNG = b"\x89PNG\r\n\x1a\n fake"

# A Claude Code style turn: cached system blocks, extended thinking, a tool loop.
AGENT_TURN: dict[str, Any] = {
    "model": "claude-sonnet-4-5",
    "max_tokens": 32000,
    "system": [
        {"type": "text", "text": "You are Claude Code."},
        {"type": "text", "text": "Project rules: ...", "cache_control": {"type": "ephemeral", "ttl": "1h"}},
    ],
    "messages": [
        {"role": "user", "content": "Fix the failing test."},
        {
            "role": "assistant",
            "content": [
                {"type": "thinking", "thinking": "Look at the test first.", "signature": "EqQBCgIYAhIM1gbcDa9GJwZA"},
                {"type": "redacted_thinking", "data": "EmwKAhgBEgy3va3pzix/LafPsn4a"},
                {"type": "text", "text": "Reading the test."},
                {"type": "tool_use", "id": "toolu_01A", "name": "Read", "input": {"file_path": "tests/test_app.py"}},
            ],
        },
        {
            "role": "user",
            "content": [
                {
                    "type": "tool_result",
                    "tool_use_id": "toolu_01A",
                    "content": [
                        {"type": "text", "text": "assert add(1, 2) == 4"},
                        {
                            "type": "image",
                            "source": {
                                "type": "base64",
                                "media_type": "image/png",
                                "data": base64.b64encode(PNG).decode(),
                            },
                        },
                    ],
                },
                {"type": "tool_result", "tool_use_id": "toolu_01B", "content": "permission denied", "is_error": True},
                {"type": "text", "text": "Go on.", "cache_control": {"type": "ephemeral"}},
            ],
        },
    ],
    "tools": [
        {
            "name": "Read",
            "description": "Read a file.",
            "input_schema": {"type": "object", "properties": {"file_path": {"type": "string"}}},
            "cache_control": {"type": "ephemeral"},
        }
    ],
    "thinking": {"type": "enabled", "budget_tokens": 10000},
    "temperature": 1,
    "stop_sequences": ["</done>"],
    "stream": True,
    "metadata": {"user_id": "u"},
}


def test_an_agent_turn_decodes_to_canonical_messages() -> None:
    request = decode_request(AGENT_TURN)
    system, user, assistant, results = request.messages
    assert system.role == c.MESSAGE_ROLE_SYSTEM
    assert system.parts[1].cache_breakpoint == c.CacheBreakpoint(ttl_seconds=3600)
    assert not system.parts[0].HasField("cache_breakpoint")
    assert user.parts[0].text.text == "Fix the failing test."
    assert assistant.parts[0].reasoning == c.ReasoningPart(
        text="Look at the test first.", provider="anthropic", signature="EqQBCgIYAhIM1gbcDa9GJwZA"
    )
    assert assistant.parts[1].reasoning == c.ReasoningPart(
        provider="anthropic", signature="EmwKAhgBEgy3va3pzix/LafPsn4a", redacted=True
    )
    assert assistant.parts[3].tool_call == c.ToolCallPart(
        id="toolu_01A", name="Read", arguments_json='{"file_path":"tests/test_app.py"}'
    )
    assert results.role == c.MESSAGE_ROLE_TOOL
    first, second, text = results.parts
    assert first.tool_result.content[1].image == c.ImagePart(media_type="image/png", data=PNG)
    assert second.tool_result == c.ToolResultPart(
        tool_call_id="toolu_01B",
        content=[c.ToolResultContent(text=c.TextPart(text="permission denied"))],
        is_error=True,
    )
    assert text.cache_breakpoint == c.CacheBreakpoint()
    assert (request.params.max_output_tokens, request.params.temperature) == (32000, 1.0)
    assert list(request.params.stop) == ["</done>"]


def test_the_agent_turn_encodes_back_with_its_blocks_and_breakpoints() -> None:
    body = encode_request(decode_request(AGENT_TURN))
    assert body["system"] == AGENT_TURN["system"]
    assert body["messages"][1] == AGENT_TURN["messages"][1]
    assert body["messages"][2]["content"][1]["content"] == [{"type": "text", "text": "permission denied"}]
    assert body["messages"][2]["content"][2] == AGENT_TURN["messages"][2]["content"][2]
    assert "cache_control" not in body["tools"][0]
    assert body["thinking"] == AGENT_TURN["thinking"]
    assert body["metadata"] == AGENT_TURN["metadata"]


# What Claude Code 2.1.332 sends besides its messages, system and tools (read from a real session).
CLAUDE_CODE_PARAMS: dict[str, Any] = {
    "metadata": {"user_id": '{"device_id":"d","account_uuid":"","session_id":"s"}'},
    "max_tokens": 32000,
    "thinking": {"type": "adaptive", "display": "omitted"},
    "context_management": {"edits": [{"type": "clear_thinking_20251015", "keep": "all"}]},
    "output_config": {"effort": "high"},
    "stream": True,
}


def test_claude_code_s_parameters_reach_an_anthropic_endpoint_unchanged() -> None:
    body = {"model": "claude-sonnet-4-6", "messages": [{"role": "user", "content": "hi"}], **CLAUDE_CODE_PARAMS}
    request = decode_request(body)
    reasoning = request.params.reasoning
    assert (reasoning.adaptive, reasoning.effort) == (True, router_service_pb2.REASONING_EFFORT_HIGH)
    assert set(request.params.passthrough) == {
        "anthropic_messages:context_management",
        "anthropic_messages:thinking.display",
    }
    encoded = encode_request(request)
    assert {k: encoded[k] for k in CLAUDE_CODE_PARAMS} == CLAUDE_CODE_PARAMS
    plain = encode_request(request, reasoning=False)
    assert "thinking" not in plain and "output_config" not in plain


@pytest.mark.parametrize(
    "fields",
    [
        {"thinking": {"type": "enabled", "budget_tokens": 2048}},
        {"thinking": {"type": "disabled"}},
        {"output_config": {"effort": "max"}},
        {"tool_choice": {"type": "any", "disable_parallel_tool_use": True}},
        {"tool_choice": {"type": "tool", "name": "Read"}},
        {"tool_choice": {"type": "none"}},
        {"top_p": 0.9, "top_k": 40, "service_tier": "standard_only", "speed": "fast"},
    ],
)
def test_parameters_round_trip_through_the_canonical_form(fields: dict[str, Any]) -> None:
    hello = [{"role": "user", "content": [{"type": "text", "text": "hi"}]}]
    body = {"model": "m", "max_tokens": 4096, "messages": hello, **fields}
    body["tools"] = [{"name": "Read", "input_schema": {"type": "object", "properties": {}}}]
    assert encode_request(decode_request(body)) == body


@pytest.mark.parametrize(
    ("fields", "path"),
    [
        ({"container": "c-1"}, "container"),
        ({"mcp_servers": [{"type": "url", "url": "u", "name": "n"}]}, "mcp_servers"),
        ({"betas": ["x"]}, "betas"),
        ({"thinking": {"type": "enabled"}}, "thinking.budget_tokens"),
        ({"thinking": {"type": "sometimes"}}, "thinking.type"),
        ({"output_config": {"effort": "extreme"}}, "output_config.effort"),
        ({"tool_choice": {"type": "maybe"}}, "tool_choice.type"),
        ({"metadata": {"tenant": "t"}}, "metadata.tenant"),
    ],
)
def test_fields_the_router_cannot_honour_are_refused_by_name(fields: dict[str, Any], path: str) -> None:
    with pytest.raises(DialectError) as caught:
        decode_request({"model": "m", "messages": [], **fields})
    assert caught.value.path == path


def test_a_string_system_and_string_content_and_top_level_cache_control() -> None:
    body = {
        "model": "claude-haiku-4-5",
        "max_tokens": 100,
        "system": "Be brief.",
        "cache_control": {"type": "ephemeral", "ttl": "5m"},
        "messages": [{"role": "user", "content": "Hi"}],
        "output_config": {"format": {"type": "json_schema", "schema": {"type": "object"}}},
    }
    request = decode_request(body)
    assert request.messages[0].parts[0].text.text == "Be brief."
    assert request.messages[1].parts[0].cache_breakpoint == c.CacheBreakpoint(ttl_seconds=300)
    assert request.params.response_json_schema == '{"type":"object"}'
    encoded = encode_request(request)
    assert encoded["messages"] == [
        {
            "role": "user",
            "content": [{"type": "text", "text": "Hi", "cache_control": {"type": "ephemeral", "ttl": "5m"}}],
        }
    ]
    assert encoded["output_config"] == {"format": {"type": "json_schema", "schema": {"type": "object"}}}


def test_an_unusual_ttl_rounds_up_to_one_anthropic_offers() -> None:
    part = c.ContentPart(text=c.TextPart(text="x"), cache_breakpoint=c.CacheBreakpoint(ttl_seconds=900))
    request = CanonicalRequest(model="m", messages=[c.Message(role=c.MESSAGE_ROLE_USER, parts=[part])])
    assert encode_request(request)["messages"][0]["content"][0]["cache_control"] == {"type": "ephemeral", "ttl": "1h"}


def _request(*messages: c.Message) -> CanonicalRequest:
    return CanonicalRequest(model="m", messages=list(messages))


def test_system_entries_inside_messages_stay_in_place() -> None:
    """Claude Code sends ``role: "system"`` entries in ``messages`` for models it does not know as Claude."""
    body: dict[str, Any] = {
        "model": "rolemodel/code.plan",
        "max_tokens": 100,
        "messages": [
            {"role": "system", "content": "You are Claude Code."},
            {"role": "user", "content": "Plan the change."},
            {
                "role": "system",
                "content": [{"type": "text", "text": "Stay in plan mode.", "cache_control": {"type": "ephemeral"}}],
            },
            {"role": "user", "content": "Go on."},
        ],
    }
    request = decode_request(body)
    roles = [m.role for m in request.messages]
    assert roles == [c.MESSAGE_ROLE_SYSTEM, c.MESSAGE_ROLE_USER, c.MESSAGE_ROLE_SYSTEM, c.MESSAGE_ROLE_USER]
    assert request.messages[2].parts[0].cache_breakpoint == c.CacheBreakpoint()
    encoded = encode_request(request)
    assert encoded["system"] == [{"type": "text", "text": "You are Claude Code."}]
    assert encoded["messages"][1] == {
        "role": "system",
        "content": [{"type": "text", "text": "Stay in plan mode.", "cache_control": {"type": "ephemeral"}}],
    }
    assert [m["role"] for m in encoded["messages"]] == ["user", "system", "user"]


def test_what_the_messages_api_cannot_carry_is_refused() -> None:
    user = c.Message(role=c.MESSAGE_ROLE_USER, parts=[c.ContentPart(text=c.TextPart(text="hi"))])
    late_image = c.Message(
        role=c.MESSAGE_ROLE_SYSTEM, parts=[c.ContentPart(image=c.ImagePart(url="https://example.com/a.png"))]
    )
    with pytest.raises(DialectError, match="system") as caught:
        encode_request(_request(user, late_image))
    assert caught.value.path == "messages[1][0]"
    foreign = c.ContentPart(reasoning=c.ReasoningPart(text="t", provider="deepseek"))
    with pytest.raises(DialectError, match="deepseek"):
        encode_request(_request(user, c.Message(role=c.MESSAGE_ROLE_ASSISTANT, parts=[foreign])))
    bad_arguments = c.ContentPart(tool_call=c.ToolCallPart(id="t", name="n", arguments_json="[1]"))
    with pytest.raises(DialectError, match="object"):
        encode_request(_request(user, c.Message(role=c.MESSAGE_ROLE_ASSISTANT, parts=[bad_arguments])))


@pytest.mark.parametrize(
    ("body", "path"),
    [
        ({"model": "m", "messages": [{"role": "tool", "content": "x"}]}, "messages[0].role"),
        (
            {
                "model": "m",
                "messages": [{"role": "system", "content": [{"type": "image", "source": {"type": "url", "url": "u"}}]}],
            },
            "messages[0].content[0]",
        ),
        (
            {"model": "m", "messages": [{"role": "user", "content": [{"type": "document"}]}]},
            "messages[0].content[0].type",
        ),
        (
            {
                "model": "m",
                "messages": [
                    {
                        "role": "user",
                        "content": [{"type": "text", "text": "x", "cache_control": {"type": "ephemeral", "ttl": "2h"}}],
                    }
                ],
            },
            "messages[0].content[0].cache_control.ttl",
        ),
        (
            {
                "model": "m",
                "messages": [
                    {
                        "role": "user",
                        "content": [
                            {"type": "image", "source": {"type": "base64", "media_type": "image/png", "data": "***"}}
                        ],
                    }
                ],
            },
            "messages[0].content[0].source.data",
        ),
        ({"model": "m", "messages": [], "system": [{"type": "image"}]}, "system[0].source"),
    ],
)
def test_malformed_bodies_name_the_offending_field(body: dict[str, Any], path: str) -> None:
    with pytest.raises(DialectError) as caught:
        decode_request(body)
    assert caught.value.path == path


@given(
    conversations(reasoning_provider="anthropic"),
    st.lists(tool_definitions(), max_size=3),
    generation_params(require_max_tokens=True),
    st.booleans(),
)
def test_canonical_to_anthropic_to_canonical_loses_only_what_anthropic_cannot_express(
    messages: list[c.Message], tools: list[c.ToolDefinition], params: Any, stream: bool
) -> None:
    request = CanonicalRequest(model="claude-x", messages=messages, tools=tools, params=params, stream=stream)
    decoded = decode_request(json.loads(json.dumps(encode_request(request))))
    assert decoded.messages == projections.anthropic_messages(messages)
    assert decoded.tools == tools
    assert decoded.params == params
    assert decoded.stream == stream


cache_controls = st.sampled_from(
    [None, {"type": "ephemeral"}, {"type": "ephemeral", "ttl": "5m"}, {"type": "ephemeral", "ttl": "1h"}]
)
sources = st.sampled_from(
    [
        {"type": "base64", "media_type": "image/png", "data": "iVBORw0KGgo="},
        {"type": "url", "url": "https://example.com/a.png"},
    ]
)


@st.composite
def blocks(draw: st.DrawFn, role: str) -> dict[str, Any]:
    if role == "system":  # a system entry inside messages (one in first place would move to ``system``)
        kind = "text"
    elif role == "assistant":
        kind = draw(st.sampled_from(["text", "tool_use", "thinking", "redacted_thinking"]))
    else:
        kind = draw(st.sampled_from(["text", "image", "tool_result"]))
    block: dict[str, Any]
    if kind == "text":
        block = {"type": "text", "text": draw(texts)}
    elif kind == "image":
        block = {"type": "image", "source": draw(sources)}
    elif kind == "tool_use":
        block = {"type": "tool_use", "id": draw(ids), "name": draw(ids), "input": json.loads(draw(json_arguments()))}
    elif kind == "thinking":
        return {"type": "thinking", "thinking": draw(texts), "signature": draw(ids)}
    elif kind == "redacted_thinking":
        return {"type": "redacted_thinking", "data": draw(ids)}
    else:
        content = draw(
            st.lists(
                st.sampled_from(
                    [
                        {"type": "text", "text": "out"},
                        {"type": "image", "source": {"type": "url", "url": "https://x/y.png"}},
                    ]
                ),
                max_size=2,
            )
        )
        block = {"type": "tool_result", "tool_use_id": draw(ids)}
        if content:
            block["content"] = content
        if draw(st.booleans()):
            block["is_error"] = True
    control = draw(cache_controls)
    if control is not None:
        block["cache_control"] = control
    return block


@st.composite
def anthropic_bodies(draw: st.DrawFn) -> dict[str, Any]:
    first = draw(st.sampled_from(["user", "assistant"]))
    later = draw(st.lists(st.sampled_from(["user", "assistant", "system"]), max_size=4))
    messages = [
        {"role": role, "content": draw(st.lists(blocks(role), min_size=1, max_size=4))} for role in [first, *later]
    ]
    body: dict[str, Any] = {"model": "claude-x", "max_tokens": draw(st.integers(1, 64000)), "messages": messages}
    system = [{"type": "text", "text": draw(texts)} for _ in range(draw(st.integers(0, 2)))]
    if system:
        body["system"] = system
    if draw(st.booleans()):
        body["tools"] = [{"name": "f", "input_schema": {"type": "object", "properties": {}}, "description": "d"}]
    if draw(st.booleans()):
        body.update(temperature=0.5, stop_sequences=["###"], stream=True)
    return body


@given(anthropic_bodies())
def test_anthropic_to_canonical_to_anthropic_is_the_identity(body: dict[str, Any]) -> None:
    assert encode_request(decode_request(body)) == body
