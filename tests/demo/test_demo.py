"""`rolemodel demo`: the main job of the quick start, end to end on the bundled example catalog."""

from __future__ import annotations

import json
import re
import signal
import subprocess
import sys
import time
from typing import Any

import anthropic
import openai
import pytest

from rolemodel import ClientOptions, RetryPolicy, RouterClient
from rolemodel_router.demo.client_config import PLACEHOLDER_KEY

COMMAND = [sys.executable, "-m", "rolemodel_router.cli.main", "demo", "--listen", "127.0.0.1:0"]


@pytest.fixture(scope="module")
def session() -> dict[str, Any]:
    done = subprocess.run([*COMMAND, "--once", "--json"], capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr
    result: dict[str, Any] = json.loads(done.stdout)
    return result


def test_every_turn_is_served_and_explained(session: dict[str, Any]) -> None:
    turns = session["turns"]
    assert len(turns) == 7
    assert all(t["served"] and not t["error"] for t in turns)
    assert all(t["attempts"][-1] == t["served"] for t in turns), "the last attempt started is the one that answered"
    assert all(t["reasons"] and t["decision_id"] for t in turns)
    assert all(t["prompt_tokens"] > 0 for t in turns)


def test_easy_chat_stays_local_and_reads_its_warm_cache(session: dict[str, Any]) -> None:
    first, second = session["turns"][0], session["turns"][1]
    assert first["served"] == second["served"] == "local-small"
    assert first["cached_tokens"] == 0 and second["cached_tokens"] > 0
    assert second["expected_cached_tokens"] > 0


def test_the_follow_up_plan_reads_what_the_first_plan_cached(session: dict[str, Any]) -> None:
    plan, follow_up = session["turns"][2], session["turns"][3]
    assert plan["served"] == follow_up["served"]
    assert follow_up["cached_tokens"] >= 4000
    assert follow_up["expected_cached_tokens"] == follow_up["cached_tokens"], "the router predicted the hit exactly"
    assert follow_up["reported_picos"] < plan["reported_picos"] / 3
    assert "CACHE_WARM" in follow_up["reasons"]


def test_a_failed_chore_escalates_the_next_one(session: dict[str, Any]) -> None:
    chore, retry = session["turns"][4], session["turns"][5]
    assert chore["served"] == "local-big"
    assert chore["escalation_level_after_verdict"] == 1
    assert "ESCALATED" in retry["reasons"]
    assert retry["served"] == "deepseek-chat"


def test_an_overloaded_model_falls_back_before_the_first_token(session: dict[str, Any]) -> None:
    review = session["turns"][6]
    assert review["failed_attempts"] == [review["chosen"]]
    assert review["served"] != review["chosen"]
    assert review["attempts"] == [review["chosen"], review["served"]], "as the stream's attempt_started events say"


def test_the_session_costs_a_fraction_of_sending_everything_to_the_premium_model(session: dict[str, Any]) -> None:
    turns = session["turns"]
    spent = sum(t["reported_picos"] for t in turns)
    premium = sum(t["premium_estimate_picos"] for t in turns)
    assert 0 < spent < premium / 4


def test_the_router_keeps_serving_until_interrupted() -> None:
    process = subprocess.Popen([*COMMAND, "--json"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert process.stdout is not None
        document = json.loads(_read_json(process.stdout))
        with RouterClient(document["address"], ClientOptions(retry=RetryPolicy(max_attempts=3))) as client:
            card = client.get_router_card()
        assert card.catalog_name == "example-demo"
        process.send_signal(signal.SIGINT)
        assert process.wait(timeout=30) == 0
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
        for stream in (process.stdout, process.stderr):
            if stream is not None:
                stream.close()


def _read_json(stream: Any) -> str:
    """The JSON document the demo prints once its session is over (it then keeps serving)."""
    deadline = time.monotonic() + 120
    lines = []
    for line in stream:
        lines.append(line)
        if line.rstrip() == "}":
            return "".join(lines)
        if time.monotonic() > deadline:
            break
    raise AssertionError("the demo printed no session")


def test_with_http_the_demo_serves_the_clients_it_prints_set_ups_for() -> None:
    """``--http`` needs no API key: the printed model names route on the scripted models."""
    command = [*COMMAND, "--http", "127.0.0.1:0", "--ui", "", "--json"]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert process.stdout is not None
        document = json.loads(_read_json(process.stdout))
        url = document["http"]
        clients = document["clients"]
        assert set(clients) == {"Claude Code", "Codex", "aider"}
        assert f"ANTHROPIC_BASE_URL={url} " in clients["Claude Code"]
        assert f"OPENAI_API_BASE={url}/v1 " in clients["aider"]
        model = re.search(r"ANTHROPIC_MODEL=(\S+)", clients["Claude Code"])
        assert model is not None
        with anthropic.Anthropic(base_url=url, auth_token=PLACEHOLDER_KEY, max_retries=0) as claude:
            answer = claude.messages.with_raw_response.create(
                model=model[1],
                max_tokens=64,
                messages=[
                    {"role": "system", "content": "You are a coding agent."},
                    {"role": "user", "content": "Plan a small change."},
                ],
            )
        assert answer.headers["x-rolemodel-role"] == "code.plan"
        assert answer.parse().content[0].type == "text"
        aider_model = re.search(r"--model openai/(\S+)", clients["aider"])
        assert aider_model is not None
        with openai.OpenAI(base_url=f"{url}/v1", api_key=PLACEHOLDER_KEY, max_retries=0) as gpt:
            edited = gpt.chat.completions.with_raw_response.create(
                model=aider_model[1], messages=[{"role": "user", "content": "Rename the function."}]
            )
        assert edited.headers["x-rolemodel-role"] == "code.edit"
        assert edited.parse().choices[0].message.content
        process.send_signal(signal.SIGINT)
        assert process.wait(timeout=30) == 0
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
        for stream in (process.stdout, process.stderr):
            if stream is not None:
                stream.close()
