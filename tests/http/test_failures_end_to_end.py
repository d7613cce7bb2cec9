"""Backends that fail, through the front door: fallbacks, refusals and broken streams, in both dialects.

Each test gets its own router, because failures count against an endpoint's health: three in a
row put it into a cooldown (spec 9.5) that would change the next test's decisions.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import anthropic
import openai
import pytest

from rolemodel_router.backends.scripted import Fault, Reply, ScriptedBackend
from tests.http.catalog import CHEAP_MODEL, CLAUDE_MODEL, LOCAL_MODEL, write_catalog
from tests.router.harness import RouterProcess


@pytest.fixture
def router(backend: ScriptedBackend, tmp_path: Path) -> Iterator[RouterProcess]:
    with RouterProcess(
        "memory:", catalog=write_catalog(tmp_path, backend.base_url), extra=["--http", "127.0.0.1:0"]
    ) as process:
        yield process


def opening(task: str) -> list[openai.types.chat.ChatCompletionMessageParam]:
    return [{"role": "user", "content": f"{task} ({uuid.uuid4().hex})"}]


def test_a_rate_limited_endpoint_falls_back_and_the_header_names_the_fallback(
    oai: openai.OpenAI, backend: ScriptedBackend
) -> None:
    backend.script(CHEAP_MODEL, [Fault.rate_limited(retry_after=0.01)])
    backend.script(CLAUDE_MODEL, [Reply(text="Served by the fallback.")])
    with oai.chat.completions.with_streaming_response.create(
        model="rolemodel/code.edit", messages=opening("Update the changelog"), stream=True
    ) as response:
        assert response.headers["x-rolemodel-endpoint"] == "claude"
        chunks = list(response.parse())
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert text == "Served by the fallback."
    assert (chunks[-1].model_extra or {})["rolemodel"]["served_endpoint_id"] == "claude"


def test_when_every_attempt_fails_the_client_gets_the_protocol_s_error(
    oai: openai.OpenAI, ant: anthropic.Anthropic, backend: ScriptedBackend
) -> None:
    backend.script(LOCAL_MODEL, [Fault.server_error(503)])
    with pytest.raises(openai.InternalServerError) as caught:
        oai.chat.completions.create(model="rolemodel/background", messages=opening("Title this"), stream=True)
    assert caught.value.status_code == 503 and caught.value.code == "BACKEND_UNAVAILABLE"
    assert caught.value.response.headers["x-rolemodel-decision-id"]
    backend.script(LOCAL_MODEL, [Fault.server_error(500)])
    with pytest.raises(anthropic.InternalServerError) as refused:
        ant.messages.create(
            model="claude-haiku-4-5-20251001", max_tokens=16, messages=[{"role": "user", "content": "Title this"}]
        )
    assert refused.value.response.headers["x-rolemodel-error-reason"] == "BACKEND_UNAVAILABLE"
    assert refused.value.response.headers["x-rolemodel-role"] == "background"


def test_an_error_names_the_endpoint_that_failed_not_a_fallback_never_tried(
    oai: openai.OpenAI, backend: ScriptedBackend
) -> None:
    """A rejected request is not retried elsewhere (RM-EXEC-011), so no fallback was tried or serves."""
    backend.script(CHEAP_MODEL, [Fault.rejected(400)])
    before = len(backend.requests_for(CLAUDE_MODEL))
    with pytest.raises(openai.APIStatusError) as caught:
        oai.chat.completions.create(model="rolemodel/code.edit", messages=opening("Rename the helper"), stream=True)
    headers = caught.value.response.headers
    assert headers["x-rolemodel-endpoint"] == "cheap"
    assert len(backend.requests_for(CLAUDE_MODEL)) == before


def test_a_stream_cut_after_the_first_token_ends_with_the_dialect_s_error(
    oai: openai.OpenAI, ant: anthropic.Anthropic, backend: ScriptedBackend
) -> None:
    backend.script(LOCAL_MODEL, [Fault.cut(after_deltas=2, reply=Reply(text="one two three four five", chunk_chars=4))])
    received: list[str] = []
    with pytest.raises(openai.APIError) as caught:
        for chunk in oai.chat.completions.create(model="rolemodel/chat@local", messages=opening("Hello"), stream=True):
            received.extend(c.delta.content or "" for c in chunk.choices)
    assert "".join(received) == "one two "
    assert "BACKEND_STREAM_INTERRUPTED" in str(caught.value)
    backend.script(LOCAL_MODEL, [Fault.stream_error(after_deltas=2)])
    with (
        pytest.raises(anthropic.APIStatusError) as broken,
        ant.messages.stream(
            model="rolemodel/chat@local", max_tokens=64, messages=[{"role": "user", "content": "Hi"}]
        ) as s,
    ):
        s.get_final_message()
    assert "BACKEND_STREAM_INTERRUPTED" in str(broken.value)
