"""OpenAI Chat Completions request bodies: realistic examples and round-trip properties."""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from rolemodel.dialects.canonical import CanonicalRequest
from rolemodel.dialects.errors import DialectError
from rolemodel.dialects.openai_chat import decode_request, encode_request, stream_include_usage
from rolemodel.v1 import conversation_pb2 as c
from rolemodel.v1 import router_service_pb2
from tests.dialects import projections
from tests.dialects.strategies import conversations, generation_params, tool_definitions
from tests.strategies import ids, json_arguments, texts

PNG = b"\x89PNG\r\n\x1a\n fake"

# An agent turn as a coding assistant sends it: system prompt, an image, a tool loop.
AGENT_TURN: dict[str, Any] = {
    "model": "gpt-5-mini",
    "messages": [
        {"role": "developer", "content": "You are a careful coding agent."},
        {
            "role": "user",
            "content": [
                {"type": "text", "text": "Why does this screenshot show a failing test?"},
                {"type": "image_url", "image_url": {"url": "data:image/png;base64," + base64.b64encode(PNG).decode()}},
                {"type": "image_url", "image_url": {"url": "https://example.com/ci.png", "detail": "low"}},
            ],
        },
        {
            "role": "assistant",
            "content": None,
            "tool_calls": [
                {
                    "id": "call_Hk3",
                    "type": "function",
                    "function": {"name": "read_file", "arguments": '{"path": "tests/test_app.py"}'},
                },
                {"id": "call_Hk4", "type": "function", "function": {"name": "run_tests", "arguments": "{}"}},
            ],
        },
        {"role": "tool", "tool_call_id": "call_Hk3", "content": "def test_app():\n    assert add(1, 2) == 4\n"},
        {"role": "tool", "tool_call_id": "call_Hk4", "content": [{"type": "text", "text": "1 failed"}]},
    ],
    "tools": [
        {
            "type": "function",
            "function": {
                "name": "read_file",
                "description": "Read a file of the repository.",
                "parameters": {"type": "object", "properties": {"path": {"type": "string"}}, "required": ["path"]},
                "strict": True,
            },
        }
    ],
    "tool_choice": "auto",
    "max_completion_tokens": 2048,
    "temperature": 0.2,
    "stop": "\n\nUser:",
    "stream": True,
    "stream_options": {"include_usage": True},
    "response_format": {
        "type": "json_schema",
        "json_schema": {"name": "verdict", "strict": True, "schema": {"type": "object"}},
    },
}


def test_an_agent_turn_decodes_to_canonical_messages() -> None:
    request = decode_request(AGENT_TURN)
    roles = [m.role for m in request.messages]
    assert roles == [
        c.MESSAGE_ROLE_SYSTEM,
        c.MESSAGE_ROLE_USER,
        c.MESSAGE_ROLE_ASSISTANT,
        c.MESSAGE_ROLE_TOOL,
        c.MESSAGE_ROLE_TOOL,
    ]
    user = request.messages[1]
    assert user.parts[1].image == c.ImagePart(media_type="image/png", data=PNG)
    assert user.parts[2].image == c.ImagePart(url="https://example.com/ci.png")
    calls = [p.tool_call for p in request.messages[2].parts]
    assert calls[0] == c.ToolCallPart(id="call_Hk3", name="read_file", arguments_json='{"path": "tests/test_app.py"}')
    assert request.messages[4].parts[0].tool_result.content[0].text.text == "1 failed"
    assert request.tools[0].parameters_json_schema == (
        '{"type":"object","properties":{"path":{"type":"string"}},"required":["path"]}'
    )
    params = request.params
    assert (params.max_output_tokens, params.temperature, list(params.stop)) == (2048, 0.2, ["\n\nUser:"])
    assert params.response_json_schema == '{"type":"object"}'
    assert request.stream
    assert stream_include_usage(AGENT_TURN)


def test_the_agent_turn_encodes_back_to_the_same_wire_meaning() -> None:
    body = encode_request(decode_request(AGENT_TURN))
    assert body["messages"][0] == {"role": "system", "content": "You are a careful coding agent."}
    assert body["messages"][1]["content"][2] == {
        "type": "image_url",
        "image_url": {"url": "https://example.com/ci.png"},
    }
    assert body["messages"][2]["tool_calls"] == AGENT_TURN["messages"][2]["tool_calls"]
    assert body["messages"][4] == {"role": "tool", "tool_call_id": "call_Hk4", "content": "1 failed"}
    assert body["response_format"]["json_schema"]["schema"] == {"type": "object"}
    assert body["stream_options"] == {"include_usage": True}
    assert body["tool_choice"] == "auto"


def test_reasoning_sampling_and_tool_choice_map_and_the_rest_passes_through() -> None:
    body: dict[str, Any] = {
        "model": "gpt-5",
        "messages": [{"role": "user", "content": "hi"}],
        "tools": AGENT_TURN["tools"],
        "tool_choice": {"type": "function", "function": {"name": "read_file"}},
        "parallel_tool_calls": False,
        "reasoning_effort": "low",
        "seed": 7,
        "top_p": 0.5,
        "n": 1,
        "logprobs": False,
        "frequency_penalty": 0.1,
        "user": "u-1",
    }
    request = decode_request(body)
    params = request.params
    assert params.reasoning.effort == router_service_pb2.REASONING_EFFORT_LOW
    assert (params.seed, params.top_p, params.parallel_tool_calls) == (7, 0.5, False)
    assert params.tool_choice == router_service_pb2.ToolChoice(
        mode=router_service_pb2.TOOL_CHOICE_MODE_NAMED, name="read_file"
    )
    encoded = encode_request(request)
    for key in ("tool_choice", "parallel_tool_calls", "reasoning_effort", "seed", "top_p", "frequency_penalty", "user"):
        assert encoded[key] == body[key], key
    assert "reasoning_effort" not in encode_request(request, reasoning=False)


def test_a_thinking_budget_becomes_an_effort() -> None:
    request = decode_request({"model": "m", "messages": [{"role": "user", "content": "hi"}]})
    for budget, effort in ((1024, "low"), (4096, "low"), (10000, "medium"), (32000, "high")):
        request.params.reasoning.budget_tokens = budget
        assert encode_request(request)["reasoning_effort"] == effort


@pytest.mark.parametrize(
    ("fields", "path"),
    [
        ({"n": 2}, "n"),
        ({"logprobs": True}, "logprobs"),
        ({"top_logprobs": 3}, "top_logprobs"),
        ({"response_format": {"type": "json_object"}}, "response_format.type"),
        ({"functions": []}, "functions"),
        ({"audio": {"voice": "alloy"}}, "audio"),
        ({"reasoning_effort": "extreme"}, "reasoning_effort"),
        ({"tool_choice": "sometimes"}, "tool_choice"),
        ({"made_up_field": 1}, "made_up_field"),
    ],
)
def test_fields_the_router_cannot_honour_are_refused_by_name(fields: dict[str, Any], path: str) -> None:
    with pytest.raises(DialectError) as caught:
        decode_request({"model": "m", "messages": [{"role": "user", "content": "hi"}], **fields})
    assert caught.value.path == path


def test_legacy_max_tokens_and_a_deepseek_reasoning_history() -> None:
    body = {
        "model": "deepseek-reasoner",
        "max_tokens": 512,
        "messages": [
            {"role": "user", "content": "2+2?"},
            {"role": "assistant", "content": "4", "reasoning_content": "Adding two and two."},
        ],
    }
    request = decode_request(body, reasoning_provider="deepseek")
    assert request.params.max_output_tokens == 512
    assert request.messages[1].parts[0].reasoning == c.ReasoningPart(text="Adding two and two.", provider="deepseek")
    encoded = encode_request(request, max_tokens_field="max_tokens")
    assert encoded["max_tokens"] == 512
    assert encoded["messages"][1] == {"role": "assistant", "content": "4", "reasoning_content": "Adding two and two."}


@pytest.mark.parametrize(
    ("body", "path"),
    [
        ({"messages": []}, "model"),
        ({"model": "m", "messages": [{"role": "function", "content": "x"}]}, "messages[0].role"),
        (
            {"model": "m", "messages": [{"role": "user", "content": [{"type": "input_audio"}]}]},
            "messages[0].content[0]",
        ),
        ({"model": "m", "messages": [{"role": "tool", "content": "x"}]}, "messages[0].tool_call_id"),
        ({"model": "m", "messages": [{"role": "user", "content": 5}]}, "messages[0].content"),
        ({"model": "m", "messages": "hi"}, "messages"),
        ({"model": "m", "messages": [], "max_tokens": -1}, "max_tokens"),
        ({"model": "m", "messages": [], "temperature": "hot"}, "temperature"),
        (
            {
                "model": "m",
                "messages": [{"role": "user", "content": [{"type": "image_url", "image_url": {"url": "data:x"}}]}],
            },
            "messages[0].content[0].image_url",
        ),
    ],
)
def test_malformed_bodies_name_the_offending_field(body: dict[str, Any], path: str) -> None:
    with pytest.raises(DialectError) as caught:
        decode_request(body)
    assert caught.value.path == path


def test_an_image_in_a_tool_result_cannot_be_sent() -> None:
    result = c.ToolResultPart(tool_call_id="x", content=[c.ToolResultContent(image=c.ImagePart(url="https://x/y.png"))])
    message = c.Message(role=c.MESSAGE_ROLE_TOOL, parts=[c.ContentPart(tool_result=result)])
    with pytest.raises(DialectError, match="image"):
        encode_request(CanonicalRequest(model="m", messages=[message]))


@given(
    conversations(tool_result_images=False),
    st.lists(tool_definitions(), max_size=3),
    generation_params(),
    st.booleans(),
    st.sampled_from(["", "deepseek"]),
)
def test_canonical_to_openai_to_canonical_loses_only_what_openai_cannot_express(
    messages: list[c.Message], tools: list[c.ToolDefinition], params: Any, stream: bool, provider: str
) -> None:
    for message in messages:
        for part in message.parts:
            if part.HasField("reasoning"):
                part.reasoning.provider = provider
    request = CanonicalRequest(model="gpt-x", messages=messages, tools=tools, params=params, stream=stream)
    decoded = decode_request(json.loads(json.dumps(encode_request(request))), reasoning_provider=provider)
    assert decoded.messages == projections.openai_messages(messages, provider)
    assert decoded.tools == tools
    assert decoded.params == params
    assert decoded.stream == stream


@st.composite
def openai_messages(draw: st.DrawFn) -> list[dict[str, Any]]:
    """Wire messages in the form the encoder writes (string content when a message is one text)."""
    out: list[dict[str, Any]] = []
    for _ in range(draw(st.integers(1, 6))):
        role = draw(st.sampled_from(["system", "user", "assistant", "tool"]))
        if role == "system":
            out.append({"role": "system", "content": draw(texts)})
        elif role == "user":
            content: Any = draw(texts)
            if draw(st.booleans()):
                content = [
                    {"type": "text", "text": draw(texts)},
                    {"type": "image_url", "image_url": {"url": draw(urls)}},
                ]
            out.append({"role": "user", "content": content})
        elif role == "tool":
            out.append({"role": "tool", "tool_call_id": draw(ids), "content": draw(texts)})
        else:
            message: dict[str, Any] = {"role": "assistant", "content": draw(st.none() | texts.filter(bool))}
            if draw(st.booleans()):
                message["reasoning_content"] = draw(texts.filter(bool))
            calls = [
                {
                    "id": draw(ids),
                    "type": "function",
                    "function": {"name": draw(ids), "arguments": draw(json_arguments())},
                }
                for _ in range(draw(st.integers(0 if message["content"] else 1, 3)))
            ]
            if calls:
                message["tool_calls"] = calls
            out.append(message)
    return out


urls = st.sampled_from(
    ["https://example.com/a.png", "data:image/png;base64,iVBORw0KGgo=", "data:image/gif;base64,R0lG"]
)


@given(openai_messages(), st.booleans())
def test_openai_to_canonical_to_openai_is_the_identity(messages: list[dict[str, Any]], stream: bool) -> None:
    body: dict[str, Any] = {
        "model": "gpt-x",
        "messages": messages,
        "tools": [
            {"type": "function", "function": {"name": "f", "description": "d", "parameters": {"type": "object"}}}
        ],
        "max_completion_tokens": 100,
        "temperature": 0.5,
        "stop": ["END"],
    }
    if stream:
        body.update(stream=True, stream_options={"include_usage": True})
    assert encode_request(decode_request(body)) == body
