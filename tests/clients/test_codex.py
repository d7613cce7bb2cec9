"""Codex CLI (the pinned npm release) through the front door's Responses API, on a scripted GPT and DeepSeek.

One Codex thread, three ``codex exec`` sessions (the later two resume it), configured exactly as
docs/clients.md says:

1. on ``gpt`` (the Responses endpoint standing for GPT-5.x): reasoning with encrypted content and
   a shell call, which Codex runs, then the answer;
2. on ``deepseek`` (Chat Completions): the thread moves; DeepSeek gets OpenAI's call ids and not
   its encrypted reasoning, and makes a shell call of its own;
3. on ``gpt`` again: OpenAI gets its own reasoning back, encrypted content intact, and
   DeepSeek's calls with their ids.

Every answer's headers, seen through a recording proxy, show the router predicting exactly the
cached tokens the backend then reports.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from rolemodel_router.backends.scripted import Reply, ScriptedBackend, ToolCall
from tests.clients.codex_harness import RecordingProxy, catalog_backend, recorded_router, run_codex, write_codex_home
from tests.clients.harness import client_binary
from tests.http.responses_catalog import DEEPSEEK_MODEL, GPT_MODEL, write_catalog

NOTES = "alpha\nbeta\ngamma\n"


@pytest.fixture(scope="module")
def codex() -> Path:
    return client_binary("codex")


@pytest.fixture
def backend() -> Iterator[ScriptedBackend]:
    with catalog_backend(default=Reply(text="ok")) as server:
        yield server


@pytest.fixture
def proxy(backend: ScriptedBackend, tmp_path: Path) -> Iterator[RecordingProxy]:
    with recorded_router(write_catalog(tmp_path, backend.base_url)) as recorder:
        yield recorder


def _bodies(backend: ScriptedBackend, model: str) -> list[dict[str, Any]]:
    return [json.loads(r.body) for r in backend.requests_for(model)]


def _item(items: list[dict[str, Any]], kind: str) -> list[dict[str, Any]]:
    return [i for i in items if i.get("type") == kind]


def test_a_codex_thread_moves_between_gpt_and_deepseek_and_back(
    codex: Path, backend: ScriptedBackend, proxy: RecordingProxy, tmp_path: Path
) -> None:
    workdir = tmp_path / "project"
    workdir.mkdir()
    (workdir / "notes.txt").write_text(NOTES)
    home = write_codex_home(tmp_path / "codex-home", proxy.base_url)
    backend.script(
        GPT_MODEL,
        [
            Reply(reasoning="List the directory first.", tool_calls=[ToolCall("exec_command", {"cmd": "ls"})]),
            Reply(text="There is one file, notes.txt."),
            Reply(text="Summary: one file with three lines."),
        ],
    )
    backend.script(
        DEEPSEEK_MODEL,
        [
            Reply(reasoning="Count with wc.", tool_calls=[ToolCall("exec_command", {"cmd": "wc -l notes.txt"})]),
            Reply(text="notes.txt has 3 lines."),
        ],
    )

    first = run_codex(codex, home, workdir, "How many files are here?", model="rolemodel/code.edit@gpt")
    assert first.returncode == 0, first.stderr[-2000:]
    assert "There is one file, notes.txt." in first.stdout
    gpt_first, gpt_second = _bodies(backend, GPT_MODEL)
    assert gpt_first["store"] is False and gpt_first["include"] == ["reasoning.encrypted_content"]
    (output,) = _item(gpt_second["input"], "function_call_output")
    (gpt_call,) = _item(gpt_second["input"], "function_call")
    (gpt_reasoning,) = _item(gpt_second["input"], "reasoning")
    assert output["call_id"] == gpt_call["call_id"] and "notes.txt" in str(output["output"])
    assert gpt_call["id"].startswith("fc_") and gpt_reasoning["encrypted_content"].startswith("enc_")

    second = run_codex(codex, home, workdir, "And how many lines?", model="rolemodel/code.edit@deepseek", resume=True)
    assert second.returncode == 0, second.stderr[-2000:]
    assert "notes.txt has 3 lines." in second.stdout
    deepseek_first, deepseek_second = _bodies(backend, DEEPSEEK_MODEL)
    assistant = [m for m in deepseek_first["messages"] if m["role"] == "assistant"]
    assert assistant[0]["tool_calls"][0]["id"] == gpt_call["call_id"]
    assert not any("reasoning_content" in m for m in assistant)  # OpenAI's encrypted reasoning stays with OpenAI
    tool_names = {t["function"]["name"] for t in deepseek_first["tools"]}
    assert "exec_command" in tool_names and "spawn_agent" in tool_names  # the namespace, flattened
    calls = [m["tool_calls"][0]["id"] for m in deepseek_second["messages"] if m.get("tool_calls")]
    assert calls[0] == gpt_call["call_id"]
    deepseek_call_id = calls[-1]
    results = [m["tool_call_id"] for m in deepseek_second["messages"] if m["role"] == "tool"]
    assert results == [gpt_call["call_id"], deepseek_call_id]

    third = run_codex(codex, home, workdir, "Summarize.", model="rolemodel/code.edit@gpt", resume=True)
    assert third.returncode == 0, third.stderr[-2000:]
    assert "Summary: one file with three lines." in third.stdout
    back = _bodies(backend, GPT_MODEL)[-1]["input"]
    assert _item(back, "reasoning") == [
        {k: v for k, v in gpt_reasoning.items() if v is not None}
    ]  # its own reasoning, encrypted content and id intact; DeepSeek's reasoning is not OpenAI's to read
    call_ids = [c["call_id"] for c in _item(back, "function_call")]
    assert call_ids == [gpt_call["call_id"], deepseek_call_id]
    assert [o["call_id"] for o in _item(back, "function_call_output")] == call_ids

    answered = [e for e in proxy.responses() if e.status == 200]
    assert len(answered) == 5
    predicted = [int(e.headers["x-rolemodel-estimated-cached-tokens"]) for e in answered]
    finals = [e.final_event() for e in answered]
    assert [f["type"] for f in finals] == ["response.completed"] * 5
    reported = [f["response"]["usage"]["input_tokens_details"]["cached_tokens"] for f in finals]
    assert [f["rolemodel"]["cached_tokens"] for f in finals] == reported
    assert predicted == reported
    assert max(reported) > 0
    assert [e.headers["x-rolemodel-endpoint"] for e in answered] == ["gpt", "gpt", "deepseek", "deepseek", "gpt"]
