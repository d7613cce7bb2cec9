"""Claude Code (the pinned npm release) through the front door, headless, on the scripted backend.

Each test runs one ``claude -p`` session in a fresh directory that holds a file to read, and
scripts the model to read it with Claude Code's own ``Read`` tool and then answer. What the
backend received shows what the router made of Claude Code's real requests: the roles, the
system entries Claude Code puts in ``messages`` for a model name it does not know, the tool ids
of the loop, and the signed thinking it sends back.
"""

from __future__ import annotations

import json
import shlex
import signal
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from google.protobuf import json_format

from rolemodel.v1 import catalog_pb2
from rolemodel_router.backends.scripted import CacheRules, Fault, Reply, ScriptedBackend, ToolCall
from rolemodel_router.demo.backends import GENERIC_ANSWER
from tests.clients.harness import client_binary, clients_catalog, run_claude_code, write_clients_catalog
from tests.demo import test_demo as demo_tests
from tests.http.catalog import CHEAP_MODEL, CLAUDE_MODEL
from tests.router.harness import RouterProcess

FILE_TEXT = "the port is 8080"
ANSWER = "The file says the port is 8080."
#: What a model answers to requests the test did not script (Claude Code's background requests).
BACKGROUND_ANSWER = "ok"
#: The catalog id of the endpoint that serves CLAUDE_MODEL.
CLAUDE_ENDPOINT = "claude"


@pytest.fixture(scope="module")
def claude() -> Path:
    return client_binary("claude")


@pytest.fixture
def backend() -> Iterator[ScriptedBackend]:
    with ScriptedBackend() as server:
        for endpoint in clients_catalog(server.base_url)["endpoints"]:
            caching = json_format.ParseDict(endpoint["caching"], catalog_pb2.CachingBehavior())
            server.configure(
                endpoint["model"], cache=CacheRules.from_catalog(caching), default=Reply(text=BACKGROUND_ANSWER)
            )
        yield server


@pytest.fixture
def router(backend: ScriptedBackend, tmp_path: Path) -> Iterator[RouterProcess]:
    path = write_clients_catalog(tmp_path, backend.base_url)
    with RouterProcess("memory:", catalog=path, extra=["--http", "127.0.0.1:0"]) as process:
        yield process


@pytest.fixture
def workdir(tmp_path: Path) -> Path:
    directory = tmp_path / "project"
    directory.mkdir()
    (directory / "config.txt").write_text(FILE_TEXT + "\n")
    return directory


def read_then_answer(workdir: Path, *, reasoning: str = "") -> list[Reply]:
    return [
        Reply(reasoning=reasoning, tool_calls=[ToolCall("Read", {"file_path": str(workdir / "config.txt")})]),
        Reply(text=ANSWER),
    ]


def bodies(backend: ScriptedBackend, model: str) -> list[dict[str, Any]]:
    return [r.json() for r in backend.requests_for(model)]


def tool_use_ids(body: dict[str, Any]) -> list[str]:
    return [
        block["id"]
        for message in body["messages"]
        if isinstance(message["content"], list)
        for block in message["content"]
        if block.get("type") == "tool_use"
    ]


def tool_result_ids(body: dict[str, Any]) -> list[str]:
    return [
        block["tool_use_id"]
        for message in body["messages"]
        if isinstance(message["content"], list)
        for block in message["content"]
        if block.get("type") == "tool_result"
    ]


def test_a_tool_loop_with_a_router_alias_as_the_model(
    claude: Path, backend: ScriptedBackend, router: RouterProcess, workdir: Path
) -> None:
    """``ANTHROPIC_MODEL=rolemodel/code.plan``: Claude Code sends ``role: "system"`` entries, which stay in place."""
    backend.script(CLAUDE_MODEL, read_then_answer(workdir))
    session = run_claude_code(claude, router.http_url, "rolemodel/code.plan", "What does config.txt say?", workdir)
    assert session.returncode == 0, session.stderr
    assert ANSWER in session.stdout
    first, second = bodies(backend, CLAUDE_MODEL)[:2]
    assert "system" in [m["role"] for m in first["messages"]], "Claude Code sent its system entries in messages"
    assert [m["role"] for m in second["messages"]][-2:] == ["assistant", "user"]
    (called,) = tool_use_ids(second)
    assert tool_result_ids(second) == [called]
    result = json.dumps(second["messages"][-1]["content"])
    assert FILE_TEXT in result, "the Read tool ran in the project and its result reached the model"
    turns = [d for d in decisions(router) if d["endpoint"] == CLAUDE_ENDPOINT]
    assert len(turns) >= 2 and turns[-1]["outcome"]["cache_read_tokens"] > 1000
    predicted = [(d["cached_predicted"], d["outcome"]["cache_read_tokens"]) for d in turns]
    assert all(guess == read for guess, read in predicted), f"Claude Code's own cache marks, turn by turn: {predicted}"


def test_a_tool_loop_with_a_model_name_claude_code_does_not_know_on_a_chat_completions_backend(
    claude: Path, backend: ScriptedBackend, router: RouterProcess, workdir: Path
) -> None:
    """``deepseek-*`` is routed as ``code.edit`` by the catalog's rules, to a DeepSeek-class Chat Completions model."""
    backend.script(CHEAP_MODEL, read_then_answer(workdir))
    session = run_claude_code(claude, router.http_url, "deepseek-chat", "What does config.txt say?", workdir)
    assert session.returncode == 0, session.stderr
    assert ANSWER in session.stdout
    loop = [b for b in bodies(backend, CHEAP_MODEL) if any(m["role"] == "tool" for m in b["messages"])]
    assert loop, "the tool result reached the Chat Completions backend"
    messages = loop[0]["messages"]
    roles = [m["role"] for m in messages]
    assert roles[0] == "system" and roles.count("system") >= 2, "the system entries are system messages, in place"
    (call,) = [c for m in messages if m["role"] == "assistant" for c in m.get("tool_calls", [])]
    (result,) = [m for m in messages if m["role"] == "tool"]
    assert result["tool_call_id"] == call["id"]
    assert FILE_TEXT in json.dumps(result["content"])


def test_thinking_reaches_anthropic_and_survives_a_move_to_chat_completions_and_back(
    claude: Path, backend: ScriptedBackend, router: RouterProcess, workdir: Path
) -> None:
    """Claude's first turn thinks and calls a tool; Claude fails, the DeepSeek-class model calls the next tool,
    then it fails and Claude gets the loop back: with its own signed thinking and every tool id as the client saw it."""
    read = ToolCall("Read", {"file_path": str(workdir / "config.txt")})
    backend.script(
        CLAUDE_MODEL,
        [Reply(reasoning="Read the config first.", tool_calls=[read]), Fault.server_error(), Reply(text=ANSWER)],
    )
    backend.script(CHEAP_MODEL, [Reply(tool_calls=[read]), Fault.server_error()])
    session = run_claude_code(claude, router.http_url, "rolemodel/code.plan", "What does config.txt say?", workdir)
    assert session.returncode == 0, session.stderr
    assert ANSWER in session.stdout
    claude_requests = backend.requests_for(CLAUDE_MODEL)
    cheap_requests = [r.json() for r in backend.requests_for(CHEAP_MODEL)]
    assert len(claude_requests) == 3 and len(cheap_requests) == 2, "claude, fallback to cheap, fallback to claude"
    first, _, last = (r.json() for r in claude_requests)
    assert first["thinking"]["type"] in ("adaptive", "enabled"), "the client's thinking reached Anthropic"
    assert all("anthropic-beta" in r.headers for r in claude_requests)
    signed = [
        block
        for message in last["messages"]
        if message["role"] == "assistant"
        for block in message["content"]
        if block["type"] == "thinking"
    ]
    assert signed and signed[0]["signature"], "Claude's signed thinking came back to Claude"
    assert tool_result_ids(last) == tool_use_ids(last), "every tool result answers a call the model sees"
    assert len(tool_use_ids(last)) == 2
    on_cheap = cheap_requests[0]["messages"]
    assert not any("reasoning_content" in m for m in on_cheap), "Anthropic's signed thinking never left for OpenAI"
    (call,) = [c["id"] for m in on_cheap if m["role"] == "assistant" for c in m.get("tool_calls", [])]
    assert call in tool_use_ids(last), "the tool id of Claude's call kept its form on the way to OpenAI and back"


def test_the_demo_s_printed_set_up_runs_claude_code_with_no_api_key(claude: Path, tmp_path: Path) -> None:
    """``rolemodel demo --http`` prints the lines to paste; Claude Code run with them gets the demo's answer."""
    command = [*demo_tests.COMMAND, "--http", "127.0.0.1:0", "--ui", "", "--json"]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert process.stdout is not None
        document = json.loads(demo_tests._read_json(process.stdout))
        printed = document["clients"]["Claude Code"]
        env = dict(word.split("=", 1) for word in shlex.split(printed.replace("\\\n", " ")) if "=" in word)
        workdir = tmp_path / "project"
        workdir.mkdir()
        session = run_claude_code(
            claude,
            env.pop("ANTHROPIC_BASE_URL"),
            env.pop("ANTHROPIC_MODEL"),
            "Say hello.",
            workdir,
            **env,
        )
        assert session.returncode == 0, session.stderr
        assert GENERIC_ANSWER in session.stdout
    finally:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=30)
        finally:
            if process.poll() is None:
                process.kill()
                process.wait()
            for stream in (process.stdout, process.stderr):
                if stream is not None:
                    stream.close()


def decisions(router: RouterProcess) -> list[dict[str, Any]]:
    """Every decision the router made, oldest first, from its dashboard's read API."""
    answer = httpx.get(router.http_url + "/ui/api/v1/decisions", timeout=10)
    answer.raise_for_status()
    document = answer.json()
    assert not document["more"], "one page holds a session of a few turns"
    return sorted(document["decisions"], key=lambda d: (d["at_ms"], d["id"]))


def test_a_sub_agent_gets_a_conversation_and_a_cache_prediction_of_its_own(
    claude: Path, backend: ScriptedBackend, router: RouterProcess, workdir: Path
) -> None:
    """Claude calls Claude Code's ``Agent`` tool; the sub-agent's requests start a conversation of their own.

    Claude Code 2.1.332 runs the agent in the background: the main loop goes on with a "launched"
    tool result and later gets the agent's report. The router tells the two apart from their openings
    (14.4), predicts the sub-agent's cache from nothing, and on every turn of both the cache read it
    predicted is the one the backend reports.
    """
    task = "Read config.txt and report the port it names."
    backend.script(
        CLAUDE_MODEL,
        [Reply(tool_calls=[ToolCall("Agent", {"description": "Read the config", "prompt": task})])],
    )
    session = run_claude_code(
        claude, router.http_url, "rolemodel/code.plan", "Use a sub-agent to read config.txt.", workdir
    )
    assert session.returncode == 0, session.stderr
    sent = bodies(backend, CLAUDE_MODEL)
    starts = [b for b in sent if not any(m["role"] == "assistant" for m in b["messages"])]
    sub_agent = [b for b in starts if task in json.dumps(b["messages"])]
    assert len(starts) == 2 and len(sub_agent) == 1, "the main session and the sub-agent each started once"
    on_claude = [d for d in decisions(router) if d["endpoint"] == CLAUDE_ENDPOINT]
    conversations = {d["conversation"] for d in on_claude}
    assert len(conversations) == 2, conversations
    (main_id,) = {d["conversation"] for d in on_claude if d["turn"] > 0}
    (sub_id,) = conversations - {main_id}
    sub_turns = [d for d in on_claude if d["conversation"] == sub_id]
    assert sub_turns[0]["turn"] == 0 and sub_turns[0]["cached_predicted"] == 0
    assert sub_turns[0]["outcome"]["cache_write_tokens"] > 0, "the sub-agent's prompt was cached on its own"
    main_turns = [d for d in on_claude if d["conversation"] == main_id]
    assert [d["turn"] for d in main_turns] == list(range(len(main_turns))) and len(main_turns) >= 2
    for decision in on_claude:
        outcome = decision["outcome"]
        assert decision["cached_predicted"] == outcome["cache_read_tokens"], decision
