"""The official SDKs against ``rolemodel serve --http``, with the scripted backend as the models.

Everything is real here: the router process, its Execute, the HTTP calls to the backend in each
endpoint's own dialect, the backend's simulated prompt caches, and the clients. The tests follow
what a coding agent does: stream answers with tool calls in both dialects, keep a conversation
going while the router tracks what each model holds in its cache, report that a task failed and
see the next turn escalate, and survive a backend that fails.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Mapping
from typing import Any

import anthropic
import httpx
import openai
import pytest

from rolemodel import ClientOptions, RetryPolicy, RouterClient
from rolemodel.v1 import common_pb2, outcome_pb2
from rolemodel_router.backends.scripted import Reply, ScriptedBackend, ToolCall
from tests.http.catalog import ANTHROPIC_WEB_SEARCH, CHEAP_MODEL, CLAUDE_MODEL, LOCAL_MODEL
from tests.router.harness import RouterProcess

READ_FILE_OPENAI: list[openai.types.chat.ChatCompletionToolParam] = [
    {
        "type": "function",
        "function": {
            "name": "read_file",
            "description": "Read a file of the repository.",
            "parameters": {"type": "object", "properties": {"path": {"type": "string"}}, "required": ["path"]},
        },
    }
]
READ_FILE_ANTHROPIC: list[anthropic.types.ToolParam] = [
    {
        "name": "read_file",
        "description": "Read a file of the repository.",
        "input_schema": {"type": "object", "properties": {"path": {"type": "string"}}, "required": ["path"]},
    }
]
#: A system prompt long enough to be cached by every endpoint of the catalog (about 1,500 tokens).
SYSTEM = " ".join(f"Rule {i}: keep the change small and the tests green." for i in range(120))


def opening(task: str) -> list[openai.types.chat.ChatCompletionMessageParam]:
    """A new conversation: the shared system prompt and a first request no other test sends."""
    return [{"role": "system", "content": SYSTEM}, {"role": "user", "content": f"{task} ({uuid.uuid4().hex})"}]


def test_openai_stream_with_tool_calls_through_execute(oai: openai.OpenAI, backend: ScriptedBackend) -> None:
    backend.script(
        CHEAP_MODEL,
        [
            Reply(
                text="Reading both.",
                tool_calls=[ToolCall("read_file", {"path": "a.py"}), ToolCall("read_file", {"path": "b.py"})],
                chunk_chars=5,
            )
        ],
    )
    with oai.chat.completions.stream(
        model="rolemodel/code.edit",
        messages=opening("Fix the parser"),
        tools=READ_FILE_OPENAI,
        stream_options={"include_usage": True},
    ) as stream:
        final = stream.get_final_completion()
    message = final.choices[0].message
    assert message.content == "Reading both."
    calls = [(c.function.name, c.function.arguments) for c in message.tool_calls or [] if c.type == "function"]
    assert calls == [("read_file", '{"path": "a.py"}'), ("read_file", '{"path": "b.py"}')]
    assert final.choices[0].finish_reason == "tool_calls"
    sent = backend.requests_for(CHEAP_MODEL)[-1]
    assert sent.request is not None and [t.name for t in sent.request.tools] == ["read_file"]
    assert final.usage is not None and sent.usage is not None
    assert final.usage.prompt_tokens == sent.usage.input_tokens


def test_anthropic_stream_with_thinking_and_tool_use_through_execute(
    ant: anthropic.Anthropic, backend: ScriptedBackend
) -> None:
    backend.script(
        CLAUDE_MODEL,
        [
            Reply(
                text="Let me look.",
                reasoning="The bug is in the lexer.",
                tool_calls=[ToolCall("read_file", {"path": "lex.py"})],
            )
        ],
    )
    with ant.messages.with_streaming_response.create(
        model="rolemodel/code.edit@claude",
        max_tokens=1024,
        system=SYSTEM,
        messages=[{"role": "user", "content": f"Why does lexing fail? {uuid.uuid4().hex}"}],
        tools=READ_FILE_ANTHROPIC,
        stream=True,
    ) as response:
        assert response.headers["x-rolemodel-endpoint"] == "claude"
        assert response.headers["x-rolemodel-role-source"] == "alias"
        events = list(response.parse())
    kinds = [e.content_block.type for e in events if e.type == "content_block_start"]
    assert kinds == ["thinking", "text", "tool_use"]
    signatures = [
        e.delta.signature for e in events if e.type == "content_block_delta" and e.delta.type == "signature_delta"
    ]
    assert signatures and signatures[0]
    arguments = "".join(
        e.delta.partial_json for e in events if e.type == "content_block_delta" and e.delta.type == "input_json_delta"
    )
    assert arguments.replace(" ", "") == '{"path":"lex.py"}'
    (delta,) = [e for e in events if e.type == "message_delta"]
    assert delta.delta.stop_reason == "tool_use"
    assert (delta.model_extra or {})["rolemodel"]["served_endpoint_id"] == "claude"


def _turn(client: openai.OpenAI, history: list[Any], **headers: str) -> tuple[Any, Mapping[str, str]]:
    raw = client.chat.completions.with_raw_response.create(
        model="rolemodel/code.edit", messages=history, extra_headers={"x-rolemodel-explain": "1", **headers}
    )
    return raw.parse(), raw.headers


def test_a_conversation_s_cache_is_tracked_turn_by_turn(oai: openai.OpenAI, backend: ScriptedBackend) -> None:
    backend.script(CHEAP_MODEL, [Reply(text="First answer."), Reply(text="Second answer.")])
    history = opening("Refactor the config loader")
    _, first_headers = _turn(oai, history)
    history += [{"role": "assistant", "content": "First answer."}, {"role": "user", "content": "Now add tests."}]
    second, second_headers = _turn(oai, history)

    assert first_headers["x-rolemodel-conversation-id"] == second_headers["x-rolemodel-conversation-id"]
    assert first_headers["x-rolemodel-endpoint"] == second_headers["x-rolemodel-endpoint"] == "cheap"
    assert first_headers["x-rolemodel-estimated-cached-tokens"] == "0"
    assert first_headers["x-rolemodel-cached-tokens"] == "0"
    predicted = int(second_headers["x-rolemodel-estimated-cached-tokens"])
    reported = int(second_headers["x-rolemodel-cached-tokens"])
    assert predicted > 1000 and reported > 1000
    assert predicted == reported  # the router's cache model and the backend's cache agree
    decision = (second.model_extra or {})["rolemodel"]["decision"]
    assert decision["turn_index"] == 1
    (cheap,) = [c for c in decision["candidates"] if c["endpoint_id"] == "cheap"]
    assert cheap["cost"]["cached_tokens"] == predicted
    assert any(r["code"] == "REASON_CODE_CACHE_WARM" for r in decision["reasons"])
    assert float(second_headers["x-rolemodel-reported-cost"]) < float(first_headers["x-rolemodel-reported-cost"])


def test_a_failed_task_reported_over_http_escalates_the_next_turn(
    router: RouterProcess, oai: openai.OpenAI, backend: ScriptedBackend
) -> None:
    backend.script(CHEAP_MODEL, [Reply(text="Edited.")])
    backend.script(CLAUDE_MODEL, [Reply(text="Edited properly.")])
    history = opening("Make the flaky test pass")
    _, headers = _turn(oai, history)
    assert headers["x-rolemodel-endpoint"] == "cheap"
    verdict = {
        "decision_id": headers["x-rolemodel-decision-id"],
        "served_endpoint_id": headers["x-rolemodel-endpoint"],
        "outcome_class": "OUTCOME_CLASS_TASK_FAILED",
        "idempotency_key": f"ci-{uuid.uuid4().hex}",
        "detail": "pytest: 3 failed",
    }
    reported = httpx.post(router.http_url + "/v1/rolemodel/outcomes", json=verdict, timeout=10)
    assert reported.status_code == 200, reported.text
    assert reported.json()["effects"]["escalation_level"] == 1
    again = httpx.post(router.http_url + "/v1/rolemodel/outcomes", json=verdict, timeout=10)
    assert again.json()["replayed"] is True
    history += [{"role": "assistant", "content": "Edited."}, {"role": "user", "content": "Still failing."}]
    answer, escalated = _turn(oai, history)
    assert escalated["x-rolemodel-endpoint"] == "claude"
    assert answer.choices[0].message.content == "Edited properly."
    reasons = {r["code"]: r for r in (answer.model_extra or {})["rolemodel"]["decision"]["reasons"]}
    assert "REASON_CODE_ESCALATED" in reasons


def test_grpc_and_http_share_one_router(router: RouterProcess, oai: openai.OpenAI, backend: ScriptedBackend) -> None:
    """An outcome reported over gRPC on a decision made over HTTP steers the next HTTP turn."""
    backend.script(CHEAP_MODEL, [Reply(text="Done.")])
    backend.script(CLAUDE_MODEL, [Reply(text="Done again.")])
    conversation = f"shared-{uuid.uuid4().hex}"
    history = opening("Rename the module")
    _, headers = _turn(oai, history, **{"x-rolemodel-conversation": conversation})
    assert headers["x-rolemodel-conversation-id"] == conversation
    with RouterClient(router.address, ClientOptions(retry=RetryPolicy(max_attempts=1))) as grpc_client:
        effects = grpc_client.report_outcome(
            outcome_pb2.Outcome(
                decision_id=headers["x-rolemodel-decision-id"],
                served_endpoint_id="cheap",
                outcome_class=common_pb2.OUTCOME_CLASS_TASK_FAILED,
                idempotency_key=f"grpc-{uuid.uuid4().hex}",
            )
        )
    assert effects.effects.escalation_level == 1
    history += [{"role": "assistant", "content": "Done."}, {"role": "user", "content": "Imports broke."}]
    _, next_headers = _turn(oai, history, **{"x-rolemodel-conversation": conversation})
    assert next_headers["x-rolemodel-endpoint"] == "claude"


def test_a_client_that_leaves_mid_stream_cancels_the_call(router: RouterProcess, backend: ScriptedBackend) -> None:
    backend.script(LOCAL_MODEL, [Reply(text="word " * 200, chunk_chars=5, delta_delay=0.01)])
    body = {"model": "rolemodel/chat@local", "messages": opening("Tell a long story"), "stream": True}
    with httpx.stream("POST", router.http_url + "/v1/chat/completions", json=body, timeout=10) as response:
        decision_id, endpoint = response.headers["x-rolemodel-decision-id"], response.headers["x-rolemodel-endpoint"]
        for line in response.iter_lines():
            if line.startswith("data: ") and "word" in line:
                break
    # The router records the call's outcome (cancelled) by itself, at once; a report finds it there.
    time.sleep(0.5)
    late = {
        "decision_id": decision_id,
        "served_endpoint_id": endpoint,
        "outcome_class": "OUTCOME_CLASS_SUCCESS",
        "idempotency_key": uuid.uuid4().hex,
    }
    answer = httpx.post(router.http_url + "/v1/rolemodel/outcomes", json=late, timeout=10)
    assert answer.status_code == 409, answer.text
    assert answer.json()["error"]["details"][0]["reason"] == "OUTCOME_ALREADY_REPORTED"


def test_a_claude_code_style_tool_loop_keeps_signatures_breakpoints_and_the_cache(
    ant: anthropic.Anthropic, backend: ScriptedBackend
) -> None:
    """Turn 1 thinks and calls a tool; turn 2 sends both back with the result, as Claude Code does.

    Like Claude Code, the client marks the system prompt and the newest message for caching, and
    moves the second mark to the newest message every turn.
    """
    backend.script(
        CLAUDE_MODEL,
        [
            Reply(reasoning="Check the config first.", tool_calls=[ToolCall("read_file", {"path": "app.toml"})]),
            Reply(text="The port is wrong."),
        ],
    )
    ephemeral: anthropic.types.CacheControlEphemeralParam = {"type": "ephemeral"}
    system: list[anthropic.types.TextBlockParam] = [{"type": "text", "text": SYSTEM, "cache_control": ephemeral}]
    words = f"Why won't it start? {uuid.uuid4().hex}"
    pinned = "rolemodel/code.edit@claude"
    with ant.messages.stream(
        model=pinned,
        max_tokens=512,
        system=system,
        messages=[{"role": "user", "content": [{"type": "text", "text": words, "cache_control": ephemeral}]}],
        tools=READ_FILE_ANTHROPIC,
    ) as stream:
        first = stream.get_final_message()
    thinking, call = first.content
    assert thinking.type == "thinking" and thinking.signature and call.type == "tool_use"
    result: anthropic.types.ToolResultBlockParam = {
        "type": "tool_result", "tool_use_id": call.id, "content": "port = 80", "cache_control": ephemeral
    }  # fmt: skip
    history: list[anthropic.types.MessageParam] = [
        {"role": "user", "content": [{"type": "text", "text": words}]},
        {"role": "assistant", "content": first.content},
        {"role": "user", "content": [result]},
    ]
    raw = ant.messages.with_raw_response.create(
        model=pinned, max_tokens=512, system=system, messages=history, tools=READ_FILE_ANTHROPIC
    )
    assert raw.parse().content[0].type == "text"
    sent = backend.requests_for(CLAUDE_MODEL)[-1].json()
    assert sent["system"][0]["cache_control"]["type"] == "ephemeral"
    replayed = sent["messages"][1]["content"][0]
    assert (replayed["type"], replayed["signature"]) == ("thinking", thinking.signature)
    assert sent["messages"][2]["content"][0]["tool_use_id"] == sent["messages"][1]["content"][1]["id"]
    assert sent["messages"][2]["content"][0]["cache_control"]["type"] == "ephemeral"
    assert int(raw.headers["x-rolemodel-cached-tokens"]) > 1000
    assert raw.headers["x-rolemodel-estimated-cached-tokens"] == raw.headers["x-rolemodel-cached-tokens"]


@pytest.mark.parametrize("marks", ["system only", "system and newest message"])
def test_the_predicted_cache_read_is_what_the_provider_reports_for_each_breakpoint_layout(
    ant: anthropic.Anthropic, backend: ScriptedBackend, marks: str
) -> None:
    """An explicit cache holds only the prefixes at the client's breakpoints (spec 7.2.1).

    A client that marks only its system prompt gets only the system prompt read back on the next
    turn, not the whole earlier prompt; one that also marks its newest message gets all of it.
    The router's prediction equals the backend's report on both turns of both layouts.
    """
    backend.script(CLAUDE_MODEL, [Reply(text="First."), Reply(text="Second.")])
    ephemeral: anthropic.types.CacheControlEphemeralParam = {"type": "ephemeral"}
    own_system = f"Session {uuid.uuid4().hex}. {SYSTEM}"  # no other test's cache holds it
    system: list[anthropic.types.TextBlockParam] = [{"type": "text", "text": own_system, "cache_control": ephemeral}]

    def newest(text: str) -> anthropic.types.TextBlockParam:
        block: anthropic.types.TextBlockParam = {"type": "text", "text": text}
        if marks != "system only":
            block["cache_control"] = ephemeral
        return block

    words = f"Which rule matters most? {uuid.uuid4().hex}"
    first: anthropic.types.MessageParam = {"role": "user", "content": [newest(words)]}
    raw = ant.messages.with_raw_response.create(
        model="rolemodel/code.edit@claude", max_tokens=64, system=system, messages=[first]
    )
    answer = raw.parse().content[0]
    assert answer.type == "text"
    history: list[anthropic.types.MessageParam] = [
        {"role": "user", "content": [{"type": "text", "text": words}]},
        {"role": "assistant", "content": answer.text},
        {"role": "user", "content": [newest("And the next one?")]},
    ]
    second = ant.messages.with_raw_response.create(
        model="rolemodel/code.edit@claude", max_tokens=64, system=system, messages=history
    )
    reads = [
        (r.headers["x-rolemodel-estimated-cached-tokens"], r.headers["x-rolemodel-cached-tokens"])
        for r in (raw, second)
    ]
    assert [predicted for predicted, _ in reads] == [reported for _, reported in reads], reads
    first_usage = backend.requests_for(CLAUDE_MODEL)[-2].usage
    assert first_usage is not None and reads[0][1] == "0"
    # With the system prompt marked alone, only it was cached and only it is read; else the whole first prompt.
    held = first_usage.cache_write_tokens if marks == "system only" else first_usage.input_tokens
    assert int(reads[1][1]) == held > 1000


def test_system_entries_inside_messages_reach_each_dialect_in_place(
    ant: anthropic.Anthropic, backend: ScriptedBackend
) -> None:
    """Claude Code with a model name it does not know as Claude puts ``role: "system"`` entries in ``messages``."""
    backend.script(CLAUDE_MODEL, [Reply(text="Planned.")])
    backend.script(CHEAP_MODEL, [Reply(text="Planned too.")])
    words = f"Plan the change. {uuid.uuid4().hex}"
    messages: list[anthropic.types.MessageParam] = [
        {"role": "system", "content": "You are a coding agent."},
        {"role": "user", "content": words},
        {"role": "system", "content": [{"type": "text", "text": "Plan mode is on."}]},
    ]
    for model, endpoint in (("rolemodel/code.edit@claude", CLAUDE_MODEL), ("rolemodel/code.edit@cheap", CHEAP_MODEL)):
        answer = ant.messages.create(model=model, max_tokens=64, messages=messages)
        assert answer.content[0].type == "text"
        sent = backend.requests_for(endpoint)[-1].json()
        if endpoint == CLAUDE_MODEL:
            assert [block["text"] for block in sent["system"]] == ["You are a coding agent."]
            assert [m["role"] for m in sent["messages"]] == ["user", "system"]
            assert [block["text"] for block in sent["messages"][1]["content"]] == ["Plan mode is on."]
        else:
            assert [m["role"] for m in sent["messages"]] == ["system", "user", "system"]
            assert sent["messages"][2]["content"] == "Plan mode is on."


def test_claude_code_s_thinking_effort_and_beta_fields_reach_an_anthropic_endpoint(
    ant: anthropic.Anthropic, backend: ScriptedBackend
) -> None:
    """Nothing Claude Code sends is dropped: mapped or passed through, with the beta header that enables it."""
    backend.script(CLAUDE_MODEL, [Reply(reasoning="Think first.", text="Done.")])
    beta = "context-management-2025-06-27,effort-2025-11-24"
    ant.messages.create(
        model="rolemodel/code.edit@claude",
        max_tokens=2048,
        messages=[{"role": "user", "content": f"Think about it. {uuid.uuid4().hex}"}],
        thinking={"type": "adaptive", "display": "omitted"},
        output_config={"effort": "high"},
        metadata={"user_id": "session-1"},
        extra_body={"top_k": 20, "context_management": {"edits": [{"type": "clear_thinking_20251015", "keep": "all"}]}},
        extra_headers={"anthropic-beta": beta},
    )
    sent = backend.requests_for(CLAUDE_MODEL)[-1]
    body = sent.json()
    assert body["thinking"] == {"type": "adaptive", "display": "omitted"}
    assert body["output_config"] == {"effort": "high"}
    assert body["metadata"] == {"user_id": "session-1"}
    assert body["top_k"] == 20
    assert body["context_management"] == {"edits": [{"type": "clear_thinking_20251015", "keep": "all"}]}
    assert sent.headers["anthropic-beta"] == beta


def test_a_field_the_router_cannot_honour_is_refused_by_name(ant: anthropic.Anthropic) -> None:
    with pytest.raises(anthropic.BadRequestError) as refused:
        ant.messages.create(
            model="rolemodel/code.edit@claude",
            max_tokens=64,
            messages=[{"role": "user", "content": "hi"}],
            extra_body={"container": "container_1"},
        )
    assert "container" in refused.value.message
    assert refused.value.response.headers["x-should-retry"] == "false"


def test_a_server_tool_reaches_an_anthropic_endpoint_that_runs_it_and_no_other(
    ant: anthropic.Anthropic, backend: ScriptedBackend
) -> None:
    """A web search tool goes unchanged to claude, which lists it in ``hosted_tools``; where no endpoint
    lists it, the answer is a 400 in the Messages error shape that names the tool (RM-HTTP-009)."""
    search: anthropic.types.WebSearchTool20250305Param = {
        "type": "web_search_20250305", "name": "web_search", "max_uses": 2
    }  # fmt: skip
    assert search["type"] == ANTHROPIC_WEB_SEARCH, "the type the catalog's claude endpoint lists"
    backend.script(CLAUDE_MODEL, [Reply(text="Searched.")])
    question: list[anthropic.types.MessageParam] = [{"role": "user", "content": f"Search it. {uuid.uuid4().hex}"}]
    answer = ant.messages.create(model="rolemodel/code.edit@claude", max_tokens=64, messages=question, tools=[search])
    assert answer.content[0].type == "text" and answer.content[0].text == "Searched."
    assert backend.requests_for(CLAUDE_MODEL)[-1].json()["tools"] == [search]
    for model, reason in (
        ("rolemodel/background", "NO_ELIGIBLE_ENDPOINT"),
        ("rolemodel/code.edit@cheap", "PINNED_ENDPOINT_INELIGIBLE"),
    ):
        with pytest.raises(anthropic.BadRequestError) as refused:
            ant.messages.create(model=model, max_tokens=64, messages=question, tools=[search])
        assert refused.value.status_code == 400
        assert ANTHROPIC_WEB_SEARCH in refused.value.message
        assert refused.value.response.json()["type"] == "error"
        assert refused.value.response.headers["x-rolemodel-error-reason"] == reason


def test_server_tool_blocks_in_the_history_stay_with_anthropic(
    ant: anthropic.Anthropic, backend: ScriptedBackend
) -> None:
    """Claude ran a web search in an earlier turn; its blocks go back to claude unchanged, and a move to the
    Chat Completions endpoint drops them and keeps the answer written from them (RM-HANDOFF-008)."""
    ran: list[anthropic.types.ContentBlockParam] = [
        {"type": "server_tool_use", "id": "srvtoolu_01", "name": "web_search", "input": {"query": "port 8080"}},
        {
            "type": "web_search_tool_result",
            "tool_use_id": "srvtoolu_01",
            "content": [{"type": "web_search_result", "url": "https://example.com/", "title": "Ports",
                         "encrypted_content": "EqgfCio", "page_age": None}],
        },
        {"type": "text", "text": "Port 8080 is the usual alternative HTTP port."},
    ]  # fmt: skip
    history: list[anthropic.types.MessageParam] = [
        {"role": "user", "content": f"What is port 8080? {uuid.uuid4().hex}"},
        {"role": "assistant", "content": ran},
        {"role": "user", "content": "And 8443?"},
    ]
    backend.script(CLAUDE_MODEL, [Reply(text="HTTPS.")])
    backend.script(CHEAP_MODEL, [Reply(text="HTTPS too.")])
    ant.messages.create(model="rolemodel/code.edit@claude", max_tokens=64, messages=history)
    assert backend.requests_for(CLAUDE_MODEL)[-1].json()["messages"][1]["content"] == ran
    ant.messages.create(model="rolemodel/code.edit@cheap", max_tokens=64, messages=history)
    sent = backend.requests_for(CHEAP_MODEL)[-1].json()["messages"]
    assert [m["role"] for m in sent] == ["user", "assistant", "user"]
    assert sent[1]["content"] == "Port 8080 is the usual alternative HTTP port."
