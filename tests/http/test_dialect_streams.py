"""Execute events become each dialect's wire format, read back by the official SDKs (spec 14.1, 14.5, 14.7).

The Execute stream is scripted (after a real decision), so every event the front door must
translate is known: text, reasoning with signatures, tool-call fragments, failures before and
after the first token. The SDKs parse every chunk and event into their own types, so a shape
they do not expect fails here.
"""

from __future__ import annotations

import time
from collections.abc import Iterator

import anthropic
import httpx
import openai
import pytest

from rolemodel.v1 import common_pb2, router_service_pb2
from tests.http import events as ev
from tests.http.catalog import write_catalog
from tests.http.in_process import InProcessFrontDoor, Script

E = router_service_pb2
TOOL_DELTAS = [
    ev.text("Reading both files."),
    ev.tool_call(0, '{"path": ', call_id="call_a", name="read_file"),
    ev.tool_call(0, '"a.py"}'),
    ev.tool_call(1, '{"path": "b.py"}', call_id="call_b", name="read_file"),
]
OPENAI_TOOLS: list[openai.types.chat.ChatCompletionToolParam] = [
    {"type": "function", "function": {"name": "read_file", "parameters": {"type": "object"}}}
]
ANTHROPIC_TOOLS: list[anthropic.types.ToolParam] = [{"name": "read_file", "input_schema": {"type": "object"}}]
CHAT: list[openai.types.chat.ChatCompletionMessageParam] = [{"role": "user", "content": "Read a.py and b.py"}]
MESSAGES: list[anthropic.types.MessageParam] = [{"role": "user", "content": "Read a.py and b.py"}]


@pytest.fixture(scope="module")
def door(tmp_path_factory: pytest.TempPathFactory) -> Iterator[InProcessFrontDoor]:
    catalog = write_catalog(tmp_path_factory.mktemp("catalog"), "http://127.0.0.1:9")
    with InProcessFrontDoor(catalog) as running:
        yield running


@pytest.fixture
def oai(door: InProcessFrontDoor) -> Iterator[openai.OpenAI]:
    door.execute.delay_s = 0.0
    with openai.OpenAI(base_url=door.url + "/v1", api_key="unused", max_retries=0) as client:
        yield client


@pytest.fixture
def ant(door: InProcessFrontDoor) -> Iterator[anthropic.Anthropic]:
    with anthropic.Anthropic(base_url=door.url, api_key="unused", max_retries=0) as client:
        yield client


def answer(deltas: list[E.ExecuteResponse], *, cost_picos: int = 0, reasoning_provider: str = "") -> Script:
    """A script that attempts the chosen endpoint, streams ``deltas`` and completes there."""

    def script(request: E.ExecuteRequest, started: E.ExecuteStarted) -> list[E.ExecuteResponse]:
        completed = ev.completed(started.decision, deltas, cost_picos=cost_picos, reasoning_provider=reasoning_provider)
        return [ev.attempt_started(started.decision.chosen_endpoint_id), *deltas, completed]

    return script


def test_openai_stream_with_parallel_tool_calls(door: InProcessFrontDoor, oai: openai.OpenAI) -> None:
    door.execute.script = answer(TOOL_DELTAS, cost_picos=412_000_000)
    with oai.chat.completions.stream(
        model="rolemodel/code.edit", messages=CHAT, tools=OPENAI_TOOLS, stream_options={"include_usage": True}
    ) as stream:
        final = stream.get_final_completion()
    message = final.choices[0].message
    assert message.content == "Reading both files."
    calls = [(c.id, c.function.name, c.function.arguments) for c in message.tool_calls or [] if c.type == "function"]
    assert calls == [("call_a", "read_file", '{"path": "a.py"}'), ("call_b", "read_file", '{"path": "b.py"}')]
    assert final.choices[0].finish_reason == "tool_calls"
    assert final.usage is not None and final.usage.prompt_tokens == 100
    assert final.usage.prompt_tokens_details is not None and final.usage.prompt_tokens_details.cached_tokens == 64
    assert final.id.startswith("chatcmpl-")


def test_openai_stream_headers_and_the_rolemodel_member_of_the_last_chunk(
    door: InProcessFrontDoor, oai: openai.OpenAI
) -> None:
    door.execute.script = answer(TOOL_DELTAS, cost_picos=412_000_000)
    with oai.chat.completions.with_streaming_response.create(
        model="rolemodel/code.edit", messages=CHAT, tools=OPENAI_TOOLS, stream=True
    ) as response:
        headers = response.headers
        chunks = list(response.parse())
    request = door.execute.requests[-1]
    assert headers["content-type"].startswith("text/event-stream")
    assert headers["x-rolemodel-role"] == "code.edit" and headers["x-rolemodel-role-source"] == "alias"
    assert headers["x-rolemodel-endpoint"] == "cheap"
    assert headers["x-rolemodel-conversation-id"] == request.conversation.conversation_id
    assert headers["x-rolemodel-conversation-id"].startswith("derived:")
    assert headers["x-rolemodel-currency"] == "USD"
    assert float(headers["x-rolemodel-estimated-cost"]) > 0
    assert "x-rolemodel-reported-cost" not in headers  # unknown when the headers leave
    decision_id = headers["x-rolemodel-decision-id"]
    assert chunks[0].id == f"chatcmpl-{decision_id}"
    assert chunks[-1].model_extra is not None
    assert chunks[-1].model_extra["rolemodel"] == {
        "decision_id": decision_id,
        "served_endpoint_id": "cheap",
        "currency": "USD",
        "reported_cost": "0.000412",
        "cached_tokens": 64,
        "cache_write_tokens": 0,
    }
    assert all("rolemodel" not in (c.model_extra or {}) for c in chunks[:-1])


def test_openai_non_streaming_answer_carries_the_reported_usage_in_headers_and_body(
    door: InProcessFrontDoor, oai: openai.OpenAI
) -> None:
    door.execute.script = answer([ev.reasoning("Short."), ev.text("Hello!")], cost_picos=10**9)
    raw = oai.chat.completions.with_raw_response.create(
        model="gpt-4o", messages=CHAT, extra_headers={"x-rolemodel-explain": "1"}
    )
    completion = raw.parse()
    assert completion.choices[0].message.content == "Hello!"
    assert completion.model == "gpt-4o"  # the client's own name comes back
    headers = raw.headers
    assert (headers["x-rolemodel-role"], headers["x-rolemodel-role-source"]) == ("chat", "rule")
    assert (headers["x-rolemodel-reported-cost"], headers["x-rolemodel-cached-tokens"]) == ("0.001", "64")
    assert headers["x-rolemodel-cache-write-tokens"] == "0"
    extra = completion.model_extra or {}
    assert extra["rolemodel"]["decision"]["decision_id"] == headers["x-rolemodel-decision-id"]
    assert extra["rolemodel"]["decision"]["chosen_endpoint_id"] == "local"
    assert extra["rolemodel"]["reported_cost"] == "0.001"


def test_openai_explained_stream_carries_the_decision_in_its_first_chunk(
    door: InProcessFrontDoor, oai: openai.OpenAI
) -> None:
    door.execute.script = answer([ev.text("Hi")])
    stream = oai.chat.completions.create(
        model="rolemodel/chat", messages=CHAT, stream=True, extra_headers={"x-rolemodel-explain": "1"}
    )
    chunks = list(stream)
    decision = (chunks[0].model_extra or {})["rolemodel"]["decision"]
    assert decision["role"] == "chat"
    listed = [c["endpoint_id"] for c in decision["candidates"]]
    assert listed == [e.id for e in door.index.catalog.endpoints], "the decision shown is complete (RM-ROUTE-002)"
    assert "omitted_candidates" not in decision


def test_a_decision_nobody_is_shown_lists_only_the_candidates_that_bear_on_it(
    door: InProcessFrontDoor, oai: openai.OpenAI
) -> None:
    door.execute.script = answer([ev.text("Hi")])
    list(oai.chat.completions.create(model="rolemodel/chat", messages=CHAT, stream=True))
    decision = door.execute.decisions[-1]
    ladder = {e for tier in door.index.roles["chat"].role.ladder for e in tier.endpoint_ids}
    assert {c.endpoint_id for c in decision.candidates} == ladder  # RM-ROUTE-012: the ladder's, and no other
    omitted = sum(o.endpoint_count for o in decision.omitted_candidates)
    assert omitted == len(door.index.catalog.endpoints) - len(ladder) > 0


def test_anthropic_stream_with_thinking_and_tool_use(door: InProcessFrontDoor, ant: anthropic.Anthropic) -> None:
    deltas = [ev.reasoning("Both files matter."), ev.signature("sig-1"), *TOOL_DELTAS]
    door.execute.script = answer(deltas, reasoning_provider="anthropic")
    with ant.messages.stream(
        model="claude-sonnet-4-6", max_tokens=1024, messages=MESSAGES, tools=ANTHROPIC_TOOLS
    ) as stream:
        final = stream.get_final_message()
    kinds = [block.type for block in final.content]
    assert kinds == ["thinking", "text", "tool_use", "tool_use"]
    thinking, _, first, second = final.content
    assert thinking.type == "thinking" and (thinking.thinking, thinking.signature) == ("Both files matter.", "sig-1")
    assert first.type == "tool_use" and (first.id, first.input) == ("call_a", {"path": "a.py"})
    assert second.type == "tool_use" and second.input == {"path": "b.py"}
    assert final.stop_reason == "tool_use"
    assert (final.usage.input_tokens, final.usage.cache_read_input_tokens) == (36, 64)
    assert final.id.startswith("msg_")


def test_anthropic_stream_carries_the_summary_on_message_delta(
    door: InProcessFrontDoor, ant: anthropic.Anthropic
) -> None:
    door.execute.script = answer([ev.text("Done.")], cost_picos=3 * 10**12)
    with ant.messages.with_streaming_response.create(
        model="claude-haiku-4-5-20251001", max_tokens=64, messages=MESSAGES, stream=True
    ) as response:
        headers = response.headers
        events = list(response.parse())
    assert (headers["x-rolemodel-role"], headers["x-rolemodel-role-source"]) == ("background", "rule")
    (delta,) = [e for e in events if e.type == "message_delta"]
    assert (delta.model_extra or {})["rolemodel"]["reported_cost"] == "3"


def test_anthropic_non_streaming_shows_foreign_reasoning_as_unsigned_thinking(
    door: InProcessFrontDoor, ant: anthropic.Anthropic
) -> None:
    deltas = [ev.reasoning("Local thoughts."), ev.text("Answer.")]
    door.execute.script = answer(deltas, reasoning_provider="")
    raw = ant.messages.with_raw_response.create(model="rolemodel/chat", max_tokens=64, messages=MESSAGES)
    message = raw.parse()
    assert [b.type for b in message.content] == ["thinking", "text"]
    thinking = message.content[0]
    assert thinking.type == "thinking" and (thinking.thinking, thinking.signature) == ("Local thoughts.", "")
    assert raw.headers["x-rolemodel-reported-cost"] == "0"
    # Sent back, the unsigned block is nobody's: the handoff must not take it for Anthropic's.
    door.execute.script = answer([ev.text("Again.")])
    history: list[anthropic.types.MessageParam] = [
        *MESSAGES,
        {"role": "assistant", "content": [{"type": "thinking", "thinking": "Local thoughts.", "signature": ""}]},
        {"role": "user", "content": "Go on"},
    ]
    ant.messages.create(model="rolemodel/chat", max_tokens=64, messages=history)
    sent = door.execute.requests[-1].conversation.messages[1].message.parts[0].reasoning
    assert (sent.text, sent.provider) == ("Local thoughts.", "")


def test_the_endpoint_header_names_the_fallback_that_streams(door: InProcessFrontDoor, oai: openai.OpenAI) -> None:
    def script(request: E.ExecuteRequest, started: E.ExecuteStarted) -> list[E.ExecuteResponse]:
        decision = started.decision
        assert decision.chosen_endpoint_id == "cheap" and list(decision.fallback_endpoint_ids) == ["local"]
        deltas = [ev.text("From the fallback.")]
        return [
            ev.attempt_started("cheap", 1),
            ev.attempt_failed("cheap", common_pb2.OUTCOME_CLASS_RATE_LIMITED),
            ev.attempt_started("local", 2),
            *deltas,
            ev.completed(decision, deltas, served="local"),
        ]

    door.execute.script = script
    with oai.chat.completions.with_streaming_response.create(
        model="rolemodel/chat", messages=CHAT, stream=True, extra_headers={"x-rolemodel-difficulty": "0.9"}
    ) as response:
        assert response.headers["x-rolemodel-endpoint"] == "local"
        chunks = list(response.parse())
    assert (chunks[-1].model_extra or {})["rolemodel"]["served_endpoint_id"] == "local"


def test_a_failure_before_the_first_token_is_an_ordinary_error_with_the_decision_headers(
    door: InProcessFrontDoor, oai: openai.OpenAI, ant: anthropic.Anthropic
) -> None:
    def script(request: E.ExecuteRequest, started: E.ExecuteStarted) -> list[E.ExecuteResponse]:
        return [
            ev.attempt_started("local", 1),
            ev.attempt_failed("local", common_pb2.OUTCOME_CLASS_SERVER_ERROR),
            ev.failed(started.decision, "BACKEND_UNAVAILABLE", after_first_token=False, served="local"),
        ]

    door.execute.script = script
    with pytest.raises(openai.InternalServerError) as caught:
        oai.chat.completions.create(model="rolemodel/chat", messages=CHAT, stream=True)
    error = caught.value
    assert error.status_code == 503 and error.code == "BACKEND_UNAVAILABLE"
    assert error.response.headers["x-rolemodel-error-reason"] == "BACKEND_UNAVAILABLE"
    assert error.response.headers["x-should-retry"] == "true"
    assert error.response.headers["x-rolemodel-decision-id"]
    body = error.response.json()["error"]
    assert body["details"][0]["metadata"] == {"attempts": "1"}
    with pytest.raises(anthropic.InternalServerError) as refused:
        ant.messages.create(model="rolemodel/chat", max_tokens=8, messages=MESSAGES)
    assert refused.value.status_code == 503
    assert refused.value.response.json()["error"]["type"] == "api_error"


def test_a_failure_after_the_first_token_ends_the_stream_with_the_dialect_s_error_event(
    door: InProcessFrontDoor, oai: openai.OpenAI, ant: anthropic.Anthropic
) -> None:
    def script(request: E.ExecuteRequest, started: E.ExecuteStarted) -> list[E.ExecuteResponse]:
        return [
            ev.attempt_started(started.decision.chosen_endpoint_id),
            ev.text("Half an ans"),
            ev.failed(started.decision, "BACKEND_STREAM_INTERRUPTED", after_first_token=True),
        ]

    door.execute.script = script
    received: list[str] = []
    with pytest.raises(openai.APIError) as caught:
        for chunk in oai.chat.completions.create(model="rolemodel/chat", messages=CHAT, stream=True):
            received.extend(c.delta.content or "" for c in chunk.choices)
    assert "".join(received) == "Half an ans"
    assert "BACKEND_STREAM_INTERRUPTED" in str(caught.value.message)
    with (
        pytest.raises(anthropic.APIStatusError) as broken,
        ant.messages.stream(model="rolemodel/chat", max_tokens=8, messages=MESSAGES) as stream,
    ):
        stream.get_final_message()
    assert "BACKEND_STREAM_INTERRUPTED" in str(broken.value)


def test_raw_stream_ends_with_done_only_when_complete(door: InProcessFrontDoor) -> None:
    door.execute.script = answer([ev.text("x")])
    body = {"model": "rolemodel/chat", "messages": CHAT, "stream": True}
    complete = httpx.post(door.url + "/v1/chat/completions", json=body, timeout=10).text
    assert complete.rstrip().endswith("data: [DONE]")

    def script(request: E.ExecuteRequest, started: E.ExecuteStarted) -> list[E.ExecuteResponse]:
        return [ev.text("x"), ev.failed(started.decision, "BACKEND_STREAM_INTERRUPTED", after_first_token=True)]

    door.execute.script = script
    broken = httpx.post(door.url + "/v1/chat/completions", json=body, timeout=10).text
    assert "[DONE]" not in broken and '"code":"BACKEND_STREAM_INTERRUPTED"' in broken


def test_a_client_that_leaves_closes_the_execute_stream(door: InProcessFrontDoor) -> None:
    door.execute.script = answer([ev.text(f"piece {i} ") for i in range(200)])
    door.execute.delay_s = 0.01
    closed_before = len(door.execute.closed)
    body = {"model": "rolemodel/chat", "messages": CHAT, "stream": True}
    with httpx.stream("POST", door.url + "/v1/chat/completions", json=body, timeout=10) as response:
        for line in response.iter_lines():
            if "piece 2" in line:
                break
    deadline = time.monotonic() + 5
    while len(door.execute.closed) == closed_before and time.monotonic() < deadline:
        time.sleep(0.02)
    assert door.execute.closed[closed_before:] == [True]  # closed early, not run to the end


@pytest.mark.parametrize("stream", [True, False])
def test_a_client_that_leaves_before_the_answer_closes_the_call(door: InProcessFrontDoor, stream: bool) -> None:
    door.execute.script = answer([ev.text("too late")])
    door.execute.delay_s = 1.0
    closed_before = len(door.execute.closed)
    body = {"model": "rolemodel/chat", "messages": CHAT, "stream": stream}
    try:
        with pytest.raises(httpx.ReadTimeout):
            httpx.post(door.url + "/v1/chat/completions", json=body, timeout=httpx.Timeout(5.0, read=0.2))
        gave_up = time.monotonic()
        while len(door.execute.closed) == closed_before and time.monotonic() < gave_up + 5:
            time.sleep(0.01)
        noticed_after = time.monotonic() - gave_up
    finally:
        door.execute.delay_s = 0.0
    assert door.execute.closed[closed_before:] == [True]
    assert noticed_after < 0.5  # at once, not when the first token would have come
