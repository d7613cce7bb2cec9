"""The official OpenAI SDK's Responses client against ``rolemodel serve --http``, over scripted GPT and DeepSeek.

A conversation moves between a Responses endpoint and a Chat Completions one while the client
sees one Responses API: reasoning keeps its encrypted content while it stays with OpenAI and is
dropped when it moves (spec chapter 8), call ids survive both ways, hosted tools go only where
they run, and what the router predicts the backend holds in its cache is what the backend reports.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import openai
import pytest
from google.protobuf import json_format

from rolemodel.v1 import catalog_pb2
from rolemodel_router.backends.scripted import CacheRules, Fault, Reply, ScriptedBackend, ToolCall
from tests.http.responses_catalog import DEEPSEEK_MODEL, GPT_MODEL, catalog, write_catalog
from tests.router.harness import RouterProcess

SHELL_TOOL: Any = {
    "type": "function",
    "name": "exec_command",
    "description": "Run a shell command.",
    "strict": False,
    "parameters": {"type": "object", "properties": {"cmd": {"type": "string"}}, "required": ["cmd"]},
}
INSTRUCTIONS = " ".join(f"Rule {i}: keep the change small and the tests green." for i in range(160))


@pytest.fixture(scope="module")
def backend() -> Iterator[ScriptedBackend]:
    with ScriptedBackend() as server:
        for endpoint in catalog(server.base_url)["endpoints"]:
            caching = json_format.ParseDict(endpoint["caching"], catalog_pb2.CachingBehavior())
            server.configure(endpoint["model"], cache=CacheRules.from_catalog(caching))
        yield server


@pytest.fixture(scope="module")
def router(backend: ScriptedBackend, tmp_path_factory: pytest.TempPathFactory) -> Iterator[RouterProcess]:
    path = write_catalog(tmp_path_factory.mktemp("catalog"), backend.base_url)
    with RouterProcess("memory:", catalog=path, extra=["--http", "127.0.0.1:0"]) as process:
        yield process


@pytest.fixture
def client(router: RouterProcess) -> Iterator[openai.OpenAI]:
    with openai.OpenAI(base_url=router.http_url + "/v1", api_key="no-auth", max_retries=0) as sdk:
        yield sdk


def _items(response: Any) -> list[dict[str, Any]]:
    return [item.model_dump(exclude_none=True) for item in response.output]


def test_a_streamed_turn_is_the_responses_event_sequence(client: openai.OpenAI, backend: ScriptedBackend) -> None:
    backend.script(
        GPT_MODEL,
        [
            Reply(
                text="Running it.",
                reasoning="Check the tests first.",
                tool_calls=[ToolCall("exec_command", {"cmd": "ls"})],
            )
        ],
    )
    with client.responses.stream(
        model=GPT_MODEL,
        instructions=INSTRUCTIONS,
        input=f"List the files ({uuid.uuid4().hex})",
        tools=[SHELL_TOOL],
        reasoning={"effort": "high", "summary": "auto"},
        include=["reasoning.encrypted_content"],
        store=False,
        extra_headers={"x-rolemodel-pin": "gpt"},
    ) as stream:
        kinds = [event.type for event in stream]
        final = stream.get_final_response()
    assert kinds[:2] == ["response.created", "response.in_progress"]
    assert kinds[-1] == "response.completed"
    assert "response.reasoning_summary_text.delta" in kinds
    assert "response.function_call_arguments.delta" in kinds
    reasoning, message, call = _items(final)
    assert reasoning["type"] == "reasoning" and reasoning["encrypted_content"].startswith("enc_")
    assert reasoning["summary"] == [{"type": "summary_text", "text": "Check the tests first."}]
    assert message["content"][0]["text"] == "Running it."
    assert call["call_id"].startswith("call_") and call["id"].startswith("fc_")
    sent = json.loads(backend.requests_for(GPT_MODEL)[-1].body)
    assert sent["store"] is False and sent["include"] == ["reasoning.encrypted_content"]
    assert sent["reasoning"] == {"effort": "high", "summary": "auto"}
    assert sent["tools"] == [SHELL_TOOL]


def test_reasoning_and_call_ids_survive_a_move_both_ways(client: openai.OpenAI, backend: ScriptedBackend) -> None:
    backend.script(
        GPT_MODEL,
        [
            Reply(reasoning="Plan: list.", tool_calls=[ToolCall("exec_command", {"cmd": "ls"})]),
            Reply(text="All done."),
        ],
    )
    backend.script(
        DEEPSEEK_MODEL, [Reply(reasoning="Now count.", tool_calls=[ToolCall("exec_command", {"cmd": "wc"})])]
    )
    history: list[Any] = [{"role": "user", "content": f"Count the files ({uuid.uuid4().hex})"}]
    key = f"thread-{uuid.uuid4().hex}"

    def turn(pin: str) -> Any:
        response = client.responses.create(
            model=GPT_MODEL,
            instructions=INSTRUCTIONS,
            input=history,
            tools=[SHELL_TOOL],
            include=["reasoning.encrypted_content"],
            store=False,
            prompt_cache_key=key,
            extra_headers={"x-rolemodel-pin": pin},
        )
        history.extend(_items(response))
        history.extend(
            {"type": "function_call_output", "call_id": item["call_id"], "output": "3 files"}
            for item in _items(response)
            if item["type"] == "function_call"
        )
        return response

    first = turn("gpt")
    gpt_reasoning = next(i for i in _items(first) if i["type"] == "reasoning")
    gpt_call = next(i for i in _items(first) if i["type"] == "function_call")
    turn("deepseek")
    to_deepseek = json.loads(backend.requests_for(DEEPSEEK_MODEL)[-1].body)
    assistant = [m for m in to_deepseek["messages"] if m["role"] == "assistant"]
    assert assistant[0]["tool_calls"][0]["id"] == gpt_call["call_id"]  # OpenAI's call id, unchanged
    assert "reasoning_content" not in assistant[0]  # OpenAI's encrypted reasoning does not reach DeepSeek
    tool_messages = [m for m in to_deepseek["messages"] if m["role"] == "tool"]
    assert tool_messages[0]["tool_call_id"] == gpt_call["call_id"]

    turn("gpt")
    to_gpt = json.loads(backend.requests_for(GPT_MODEL)[-1].body)
    reasoning_items = [i for i in to_gpt["input"] if i["type"] == "reasoning"]
    assert reasoning_items == [
        {"id": gpt_reasoning["id"], "type": "reasoning", "summary": gpt_reasoning["summary"],
         "encrypted_content": gpt_reasoning["encrypted_content"]}
    ]  # fmt: skip
    calls = [i for i in to_gpt["input"] if i["type"] == "function_call"]
    deepseek_call = calls[1]
    assert calls[0]["id"] == gpt_call["id"] and calls[0]["call_id"] == gpt_call["call_id"]
    assert deepseek_call["call_id"].startswith("call_") and deepseek_call["id"].startswith("fc_")
    outputs = [i["call_id"] for i in to_gpt["input"] if i["type"] == "function_call_output"]
    assert outputs == [gpt_call["call_id"], deepseek_call["call_id"]]


def test_the_cache_the_router_predicts_is_the_cache_the_backend_reports(
    client: openai.OpenAI, backend: ScriptedBackend
) -> None:
    backend.script(GPT_MODEL, [Reply(text="One."), Reply(text="Two.")])
    history: list[Any] = [{"role": "user", "content": f"Explain the cache ({uuid.uuid4().hex})"}]
    headers = []
    for _ in range(2):
        raw = client.responses.with_raw_response.create(
            model=GPT_MODEL, instructions=INSTRUCTIONS, input=history, store=False,
            extra_headers={"x-rolemodel-pin": "gpt"},
        )  # fmt: skip
        history.extend(_items(raw.parse()))
        history.append({"role": "user", "content": "And then?"})
        headers.append(raw.headers)
    predicted = int(headers[1]["x-rolemodel-estimated-cached-tokens"])
    reported = int(headers[1]["x-rolemodel-cached-tokens"])
    assert predicted > 1000
    assert predicted == reported
    usage = raw.parse().usage
    assert usage is not None and usage.input_tokens_details.cached_tokens == reported


def test_a_hosted_tool_goes_only_where_it_runs(client: openai.OpenAI, backend: ScriptedBackend) -> None:
    backend.script(GPT_MODEL, [Reply(text="Searched.")])
    response = client.responses.create(
        model=GPT_MODEL, input=f"Search ({uuid.uuid4().hex})", tools=[{"type": "web_search"}], store=False
    )
    assert response.output_text == "Searched."
    assert json.loads(backend.requests_for(GPT_MODEL)[-1].body)["tools"] == [{"type": "web_search"}]
    for headers, reason in (
        ({"x-rolemodel-role": "chore"}, "NO_ELIGIBLE_ENDPOINT"),
        ({"x-rolemodel-pin": "deepseek"}, "PINNED_ENDPOINT_INELIGIBLE"),
    ):
        with pytest.raises(openai.BadRequestError) as refused:
            client.responses.create(
                model=GPT_MODEL, input="Search", tools=[{"type": "web_search"}], extra_headers=headers
            )
        assert refused.value.status_code == 400
        assert "web_search" in refused.value.message
        assert refused.value.response.headers["x-rolemodel-error-reason"] == reason


def test_a_custom_tool_excludes_every_endpoint_without_the_responses_api(
    client: openai.OpenAI, backend: ScriptedBackend
) -> None:
    """DeepSeek would take an easy turn, but a custom tool's grammar has no Chat Completions form: GPT serves."""
    backend.script(GPT_MODEL, [Reply(text="Patched.")])
    before = len(backend.requests_for(DEEPSEEK_MODEL))
    patch: Any = {
        "type": "custom",
        "name": "apply_patch",
        "description": "Apply a patch.",
        "format": {"type": "grammar", "syntax": "lark", "definition": 'start: "*** Begin Patch" /(.|\\n)*/'},
    }
    raw = client.responses.with_raw_response.create(
        model=GPT_MODEL,
        input=f"Patch it ({uuid.uuid4().hex})",
        tools=[patch],
        store=False,
        extra_headers={"x-rolemodel-difficulty": "0.1", "x-rolemodel-explain": "1"},
    )
    decision = (raw.parse().model_extra or {})["rolemodel"]["decision"]
    assert decision["chosen_endpoint_id"] == "gpt"
    (deepseek,) = [c for c in decision["candidates"] if c["endpoint_id"] == "deepseek"]
    assert [e["code"] for e in deepseek["exclusions"]] == ["EXCLUSION_CODE_TOOL_UNSUPPORTED"]
    assert "apply_patch" in deepseek["exclusions"][0]["detail"]
    assert raw.headers["x-rolemodel-endpoint"] == "gpt" and raw.parse().output_text == "Patched."
    assert len(backend.requests_for(DEEPSEEK_MODEL)) == before, "DeepSeek is never called with it"
    assert json.loads(backend.requests_for(GPT_MODEL)[-1].body)["tools"][0]["format"] == patch["format"]


@pytest.mark.parametrize(
    ("field", "value"),
    [("previous_response_id", "resp_1"), ("truncation", "auto"), ("user", "someone")],
)
def test_fields_the_router_cannot_honour_get_a_400_naming_them(router: RouterProcess, field: str, value: str) -> None:
    reply = httpx.post(
        router.http_url + "/v1/responses",
        json={"model": GPT_MODEL, "input": "hi", field: value},
        timeout=10,
    )
    assert reply.status_code == 400
    error = reply.json()["error"]
    assert error["param"] == field
    assert field in error["message"]
    assert error["type"] == "invalid_request_error"


def test_the_path_without_v1_is_served_too(router: RouterProcess, backend: ScriptedBackend) -> None:
    backend.script(DEEPSEEK_MODEL, [Reply(text="Hi.")])
    reply = httpx.post(router.http_url + "/responses", json={"model": GPT_MODEL, "input": "hi"}, timeout=10)
    assert reply.status_code == 200
    body = reply.json()
    assert body["object"] == "response" and body["store"] is False
    assert body["output"][0]["content"][0]["text"] == "Hi."


def test_a_namespace_tool_reaches_deepseek_flat_and_its_call_comes_back_namespaced(
    client: openai.OpenAI, backend: ScriptedBackend
) -> None:
    agents: Any = {
        "type": "namespace",
        "name": "multi_agent_v1",
        "description": "Sub-agents.",
        "tools": [{"type": "function", "name": "spawn_agent", "parameters": {"type": "object"}}],
    }
    backend.script(DEEPSEEK_MODEL, [Reply(tool_calls=[ToolCall("spawn_agent", {"task": "tests"})])])
    with client.responses.stream(
        model=GPT_MODEL,
        input=f"Delegate the tests ({uuid.uuid4().hex})",
        tools=[SHELL_TOOL, agents],
        store=False,
        extra_headers={"x-rolemodel-pin": "deepseek"},
    ) as stream:
        added = [e.item for e in stream if e.type == "response.output_item.added"]
        final = stream.get_final_response()
    sent = json.loads(backend.requests_for(DEEPSEEK_MODEL)[-1].body)
    assert [t["function"]["name"] for t in sent["tools"]] == ["exec_command", "spawn_agent"]
    (call,) = _items(final)
    assert (call["type"], call["name"], call["namespace"]) == ("function_call", "spawn_agent", "multi_agent_v1")
    assert added[0].model_dump(exclude_none=True)["namespace"] == "multi_agent_v1"


def test_a_failure_after_the_first_token_ends_the_stream_with_response_failed(
    router: RouterProcess, backend: ScriptedBackend
) -> None:
    backend.script(
        GPT_MODEL, [Fault.stream_error(after_deltas=2, reply=Reply(text="a long answer that breaks", chunk_chars=3))]
    )
    with httpx.stream(
        "POST",
        router.http_url + "/v1/responses",
        json={"model": GPT_MODEL, "input": f"Go ({uuid.uuid4().hex})", "stream": True, "store": False},
        headers={"x-rolemodel-pin": "gpt"},
        timeout=30,
    ) as reply:
        assert reply.status_code == 200
        frames = [line.removeprefix("data: ") for line in reply.iter_lines() if line.startswith("data: ")]
    events = [json.loads(frame) for frame in frames]
    assert events[0]["type"] == "response.created"
    assert "response.output_text.delta" in [e["type"] for e in events]
    assert events[-1]["type"] == "response.failed"
    error = events[-1]["response"]["error"]
    assert error["code"] == "server_error" and error["message"].startswith("BACKEND_STREAM_INTERRUPTED")
    assert [e["sequence_number"] for e in events] == list(range(len(events)))
