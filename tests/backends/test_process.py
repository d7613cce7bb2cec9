"""The backend as its own process: address on the first line, scripted from a file and over HTTP."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.backends.dialect_calls import StreamReader, body, decode, post, system, user, words

SCRIPT = {
    "models": {
        "gpt-small": {"cache": "openai", "script": [{"text": "first"}, {"text": "second"}, {"text": "third"}]},
        "claude": {"script": [{"text": "streamed", "reasoning": "thinking", "chunk_chars": 3}]},
    }
}


def _run(*args: str) -> subprocess.Popen[str]:
    command = [sys.executable, "-m", "rolemodel_router.backends.scripted", "--port", "0", *args]
    return subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


@pytest.fixture
def process(tmp_path: Path) -> Iterator[tuple[subprocess.Popen[str], str]]:
    script = tmp_path / "script.json"
    script.write_text(json.dumps(SCRIPT))
    running = _run("--script", str(script))
    assert running.stdout is not None
    address = running.stdout.readline().strip()
    try:
        yield running, address
    finally:
        if running.poll() is None:
            running.send_signal(signal.SIGTERM)
        running.communicate(timeout=10)


def test_the_process_prints_its_address_and_serves_the_script(process: tuple[subprocess.Popen[str], str]) -> None:
    running, address = process
    assert address.startswith("http://127.0.0.1:")
    prompt = [system(words(2000)), user("Hi")]
    with httpx.Client(base_url=address, timeout=10) as client:
        first = decode("openai", post(client, "openai", "gpt-small", prompt))
        second = decode("openai", post(client, "openai", "gpt-small", prompt))
        assert [first.message.parts[0].text.text, second.message.parts[0].text.text] == ["first", "second"]
        assert second.usage is not None and second.usage.cache_read_tokens == 1920

        assert client.post("/_scripted/clock", json={"advance_seconds": 301}).status_code == 200
        third = decode("openai", post(client, "openai", "gpt-small", prompt))
        assert third.usage is not None and third.usage.cache_read_tokens == 0

        reader = StreamReader("anthropic")
        with client.stream("POST", "/v1/messages", json=body("anthropic", "claude", [user("Hi")], stream=True)) as r:
            reader.read(r)
        assert reader.decoder.completion().message.parts[1].text.text == "streamed"

        added = client.post("/_scripted/script", json={"models": {"claude": {"script": [{"text": "added"}]}}})
        assert added.json()["remaining"]["claude"] == 1
        refused = client.post("/_scripted/script", json={"models": {"claude": {"script": [{"fault": "nope"}]}}})
        assert refused.status_code == 400 and "unknown fault" in refused.json()["error"]

        seen = client.get("/_scripted/requests").json()
        assert [(r["model"], r["outcome"]) for r in seen] == [
            ("gpt-small", "reply"),
            ("gpt-small", "reply"),
            ("gpt-small", "reply"),
            ("claude", "reply"),
        ]
        assert seen[1]["usage"]["cache_read_tokens"] == 1920
    running.send_signal(signal.SIGTERM)
    assert running.wait(timeout=10) == 0


def test_a_bad_script_file_is_reported(tmp_path: Path) -> None:
    script = tmp_path / "bad.json"
    script.write_text('{"models": {"m": {"script": [{"fault": "explode"}]}}}')
    running = _run("--script", str(script))
    out, err = running.communicate(timeout=20)
    assert running.returncode == 2
    assert out == ""
    assert "unknown fault 'explode'" in err
