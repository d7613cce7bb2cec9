"""The official ``openai`` and ``anthropic`` SDKs as clients: proof that the wire format is the real one.

The SDKs parse every chunk and event into their own types and accumulate streamed tool calls
themselves, so a shape they do not expect fails here, independently of our codecs.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import anthropic
import openai
import pytest

from rolemodel_router.backends.scripted import CacheRules, Fault, Reply, ScriptedBackend, ToolCall
from tests.backends.dialect_calls import words

TOOL_REPLY = Reply(
    text="I'll read both files.",
    reasoning="The bug is probably in the parser.",
    tool_calls=[
        ToolCall("read_file", {"path": "src/parser.py"}),
        ToolCall("read_file", {"path": "tests/test_parser.py"}),
    ],
    chunk_chars=4,
)
OPENAI_TOOLS: list[openai.types.chat.ChatCompletionToolParam] = [
    {
        "type": "function",
        "function": {
            "name": "read_file",
            "description": "Read a file.",
            "parameters": {"type": "object", "properties": {"path": {"type": "string"}}, "required": ["path"]},
        },
    }
]
ANTHROPIC_TOOLS: list[anthropic.types.ToolParam] = [
    {
        "name": "read_file",
        "description": "Read a file.",
        "input_schema": {"type": "object", "properties": {"path": {"type": "string"}}, "required": ["path"]},
    }
]


@pytest.fixture
def openai_client(backend: ScriptedBackend) -> Iterator[openai.OpenAI]:
    with openai.OpenAI(base_url=backend.openai_base_url, api_key="sk-scripted", max_retries=0) as client:
        yield client


@pytest.fixture
def anthropic_client(backend: ScriptedBackend) -> Iterator[anthropic.Anthropic]:
    with anthropic.Anthropic(base_url=backend.base_url, api_key="sk-ant-scripted", max_retries=0) as client:
        yield client


def test_openai_sdk_streams_parallel_tool_calls(backend: ScriptedBackend, openai_client: openai.OpenAI) -> None:
    backend.script("gpt-scripted", [TOOL_REPLY])
    with openai_client.chat.completions.stream(
        model="gpt-scripted",
        messages=[{"role": "system", "content": "You fix bugs."}, {"role": "user", "content": "The parser fails."}],
        tools=OPENAI_TOOLS,
        stream_options={"include_usage": True},
    ) as events:
        kinds = {event.type for event in events}
        final = events.get_final_completion()
    assert "tool_calls.function.arguments.delta" in kinds
    message = final.choices[0].message
    assert message.content == "I'll read both files."
    assert [(c.function.name, c.function.arguments) for c in message.tool_calls or [] if c.type == "function"] == [
        ("read_file", '{"path": "src/parser.py"}'),
        ("read_file", '{"path": "tests/test_parser.py"}'),
    ]
    assert final.choices[0].finish_reason == "tool_calls"
    assert final.usage is not None and final.usage.prompt_tokens == backend.requests[0].prompt_tokens
    assert backend.requests[0].headers["authorization"] == "Bearer sk-scripted"


def test_openai_sdk_streams_a_responses_answer(backend: ScriptedBackend, openai_client: openai.OpenAI) -> None:
    """The Responses API: the SDK parses every event into its types and rebuilds the response itself."""
    backend.script("gpt-scripted", [TOOL_REPLY, Reply(text="Fixed.")])
    tool: openai.types.responses.FunctionToolParam = {
        "type": "function",
        "name": "read_file",
        "strict": False,
        "parameters": OPENAI_TOOLS[0]["function"]["parameters"],
    }
    with openai_client.responses.stream(
        model="gpt-scripted",
        instructions="You fix bugs.",
        input="The parser fails.",
        tools=[tool],
        include=["reasoning.encrypted_content"],
        store=False,
    ) as events:
        kinds = [event.type for event in events]
        final = events.get_final_response()
    assert kinds[0] == "response.created" and kinds[-1] == "response.completed"
    assert "response.reasoning_summary_text.delta" in kinds
    assert "response.function_call_arguments.delta" in kinds
    reasoning, message, *calls = final.output
    assert reasoning.type == "reasoning" and reasoning.encrypted_content
    assert [s.text for s in reasoning.summary] == ["The bug is probably in the parser."]
    assert message.type == "message" and final.output_text == "I'll read both files."
    assert [(c.name, c.arguments) for c in calls if c.type == "function_call"] == [
        ("read_file", '{"path": "src/parser.py"}'),
        ("read_file", '{"path": "tests/test_parser.py"}'),
    ]
    assert final.usage is not None and final.usage.input_tokens == backend.requests[0].prompt_tokens
    history: list[Any] = [{"role": "user", "content": "The parser fails."}]
    history += [item.model_dump(exclude_none=True) for item in final.output]
    history += [
        {"type": "function_call_output", "call_id": c.call_id, "output": "..."}
        for c in calls
        if c.type == "function_call"
    ]
    again = openai_client.responses.create(model="gpt-scripted", input=history, store=False)
    assert again.output_text == "Fixed."
    replayed = backend.requests[1].request
    assert replayed is not None and replayed.messages[1].parts[0].reasoning.signature == reasoning.encrypted_content


@pytest.mark.parametrize("stream", [False, True])
def test_responses_reasoning_comes_without_encrypted_content_unless_include_asks(
    backend: ScriptedBackend, openai_client: openai.OpenAI, stream: bool
) -> None:
    """As OpenAI does: the reasoning item (id, summary) always, its ``encrypted_content`` only when included."""
    backend.script("gpt-scripted", [Reply(text="Seven.", reasoning="Three plus four.")] * 2)
    answers: list[openai.types.responses.Response] = []
    includes: list[list[openai.types.responses.ResponseIncludable]] = [[], ["reasoning.encrypted_content"]]
    for include in includes:
        if stream:
            with openai_client.responses.stream(
                model="gpt-scripted", input="Three plus four?", include=include, store=False
            ) as events:
                answers.append(events.get_final_response())
        else:
            answers.append(
                openai_client.responses.create(model="gpt-scripted", input="Three plus four?", include=include)
            )
    (plain,), (included,) = ([i for i in a.output if i.type == "reasoning"] for a in answers)
    assert plain.id.startswith("rs_") and [s.text for s in plain.summary] == ["Three plus four."]
    assert plain.encrypted_content is None
    assert included.encrypted_content and included.encrypted_content.startswith("enc_")


def test_openai_sdk_sees_cached_tokens_on_the_second_turn(
    backend: ScriptedBackend, openai_client: openai.OpenAI
) -> None:
    backend.configure("gpt-scripted", cache=CacheRules.openai())
    backend.script("gpt-scripted", [Reply(text="Sure."), Reply(text="Done.")])
    history: list[openai.types.chat.ChatCompletionMessageParam] = [
        {"role": "system", "content": words(2000)},
        {"role": "user", "content": "Hello"},
    ]
    first = openai_client.chat.completions.create(model="gpt-scripted", messages=history)
    history += [{"role": "assistant", "content": "Sure."}, {"role": "user", "content": "Again"}]
    second = openai_client.chat.completions.create(model="gpt-scripted", messages=history)
    assert first.usage is not None and second.usage is not None
    assert first.usage.prompt_tokens_details is not None and second.usage.prompt_tokens_details is not None
    assert (first.usage.prompt_tokens_details.cached_tokens, second.usage.prompt_tokens_details.cached_tokens) == (
        0,
        1920,
    )


def test_openai_sdk_classifies_a_rate_limit(backend: ScriptedBackend, openai_client: openai.OpenAI) -> None:
    backend.script("gpt-scripted", [Fault.rate_limited(retry_after=3)])
    with pytest.raises(openai.RateLimitError) as caught:
        openai_client.chat.completions.create(model="gpt-scripted", messages=[{"role": "user", "content": "x"}])
    assert caught.value.response.headers["retry-after"] == "3"
    assert caught.value.code == "rate_limit_exceeded"


def test_openai_sdk_notices_a_cut_stream(backend: ScriptedBackend, openai_client: openai.OpenAI) -> None:
    backend.script("gpt-scripted", [Fault.cut(after_deltas=2)])
    stream = openai_client.chat.completions.create(
        model="gpt-scripted", messages=[{"role": "user", "content": "x"}], stream=True
    )
    with pytest.raises(openai.APIError):
        for _ in stream:
            pass


def test_anthropic_sdk_streams_thinking_and_tool_use(
    backend: ScriptedBackend, anthropic_client: anthropic.Anthropic
) -> None:
    backend.configure("claude-scripted-large", cache=CacheRules.anthropic())
    backend.script("claude-scripted-large", [TOOL_REPLY])
    with anthropic_client.messages.stream(
        model="claude-scripted-large",
        max_tokens=4096,
        system=[{"type": "text", "text": words(2000), "cache_control": {"type": "ephemeral", "ttl": "1h"}}],
        messages=[{"role": "user", "content": "The parser fails."}],
        tools=ANTHROPIC_TOOLS,
    ) as events:
        kinds = {event.type for event in events}
        final = events.get_final_message()
    assert {"thinking", "text", "input_json", "content_block_stop"} <= kinds
    assert [block.type for block in final.content] == ["thinking", "text", "tool_use", "tool_use"]
    thinking, text, *calls = final.content
    assert thinking.type == "thinking" and thinking.thinking == "The bug is probably in the parser."
    assert thinking.signature
    assert text.type == "text" and text.text == "I'll read both files."
    assert [(c.name, c.input) for c in calls if c.type == "tool_use"] == [
        ("read_file", {"path": "src/parser.py"}),
        ("read_file", {"path": "tests/test_parser.py"}),
    ]
    assert final.stop_reason == "tool_use"
    # The tool definitions (33 tokens) come before the system prompt and are cached with it.
    assert (final.usage.cache_creation_input_tokens, final.usage.input_tokens) == (33 + 2004, 9)
    headers = backend.requests[0].headers
    assert "sk-ant-scripted" in (headers.get("x-api-key"), headers.get("authorization", "").removeprefix("Bearer "))


def test_anthropic_sdk_reads_the_cache_on_the_second_turn(
    backend: ScriptedBackend, anthropic_client: anthropic.Anthropic
) -> None:
    backend.configure("claude-scripted-small", cache=CacheRules.anthropic())
    backend.script("claude-scripted-small", [Reply(text="Sure."), Reply(text="Done.")])
    system: list[anthropic.types.TextBlockParam] = [
        {"type": "text", "text": words(2000), "cache_control": {"type": "ephemeral"}}
    ]
    first = anthropic_client.messages.create(
        model="claude-scripted-small", max_tokens=100, system=system, messages=[{"role": "user", "content": "Hello"}]
    )
    second = anthropic_client.messages.create(
        model="claude-scripted-small",
        max_tokens=100,
        system=system,
        messages=[
            {"role": "user", "content": "Hello"},
            {"role": "assistant", "content": "Sure."},
            {"role": "user", "content": "Again"},
        ],
    )
    assert (first.usage.cache_creation_input_tokens, first.usage.cache_read_input_tokens) == (2004, 0)
    assert (second.usage.cache_creation_input_tokens, second.usage.cache_read_input_tokens) == (0, 2004)
    assert second.usage.input_tokens == 6 + 6 + 6


def test_anthropic_sdk_classifies_overload(backend: ScriptedBackend, anthropic_client: anthropic.Anthropic) -> None:
    backend.script("claude-scripted-small", [Fault.server_error(529)])
    with pytest.raises(anthropic.APIStatusError) as caught:
        anthropic_client.messages.create(
            model="claude-scripted-small", max_tokens=10, messages=[{"role": "user", "content": "x"}]
        )
    assert caught.value.status_code == 529
    assert isinstance(caught.value.body, dict) and caught.value.body["error"]["type"] == "overloaded_error"


def test_both_sdks_raise_on_an_error_in_the_middle_of_a_stream(
    backend: ScriptedBackend, openai_client: openai.OpenAI, anthropic_client: anthropic.Anthropic
) -> None:
    backend.script("m", [Fault.stream_error(after_deltas=1), Fault.stream_error(after_deltas=1)])
    chunks = openai_client.chat.completions.create(model="m", messages=[{"role": "user", "content": "x"}], stream=True)
    with pytest.raises(openai.APIError, match="server had an error"):
        for _ in chunks:
            pass
    with (
        pytest.raises(anthropic.APIStatusError, match="Overloaded"),
        anthropic_client.messages.stream(
            model="m", max_tokens=10, messages=[{"role": "user", "content": "x"}]
        ) as events,
    ):
        for _ in events:
            pass
