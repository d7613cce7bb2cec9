"""``x-rolemodel-endpoint`` names only an endpoint that was attempted, in all three dialects (RM-HTTP-043).

The header comes from Execute's ``attempt_started`` events (RM-EXEC-008), never from the decision's
fallback order. Two groups of tests:

- the real executor against the scripted backend: a first endpoint that fails and a fallback that
  serves, and a call whose only allowed attempt fails while a fallback is left untried;
- a scripted Execute stream (after a real decision), for what the reference executor does not do on
  demand: skip the chosen endpoint without an attempt, or end before any attempt.

Each turn goes through the dialect's official client, streaming, and the headers are read from its
raw response (or from the error it raises).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator, Mapping
from pathlib import Path

import anthropic
import openai
import pytest

from rolemodel.v1 import common_pb2, router_service_pb2
from rolemodel_router.backends.scripted import Fault, Reply, ScriptedBackend
from tests.http import events as ev
from tests.http.catalog import CHEAP_MODEL, CLAUDE_MODEL, write_catalog
from tests.http.in_process import InProcessFrontDoor
from tests.router.harness import RouterProcess

E = router_service_pb2
DIALECTS = ("chat_completions", "messages", "responses")
ENDPOINT = "x-rolemodel-endpoint"
#: code.edit tries ``cheap`` first, with ``claude`` as its fallback.
MODEL = "rolemodel/code.edit"


def send_turn(base_url: str, dialect: str, task: str) -> tuple[int, Mapping[str, str]]:
    """One streamed turn through ``dialect``'s official client: the status and headers, the body read to its end."""
    prompt = f"{task} ({uuid.uuid4().hex})"
    try:
        if dialect == "messages":
            with (
                anthropic.Anthropic(base_url=base_url, api_key="no-auth", max_retries=0) as ant,
                ant.messages.with_streaming_response.create(
                    model=MODEL, max_tokens=64, messages=[{"role": "user", "content": prompt}], stream=True
                ) as message_stream,
            ):
                list(message_stream.parse())
                return message_stream.status_code, message_stream.headers
        with openai.OpenAI(base_url=base_url + "/v1", api_key="no-auth", max_retries=0) as oai:
            if dialect == "responses":
                with oai.responses.with_streaming_response.create(model=MODEL, input=prompt, stream=True) as response:
                    list(response.parse())
                    return response.status_code, response.headers
            with oai.chat.completions.with_streaming_response.create(
                model=MODEL, messages=[{"role": "user", "content": prompt}], stream=True
            ) as chunks:
                list(chunks.parse())
                return chunks.status_code, chunks.headers
    except (openai.APIStatusError, anthropic.APIStatusError) as error:
        return error.status_code, error.response.headers


# -- the real executor ------------------------------------------------------------------------------


@pytest.fixture
def router(backend: ScriptedBackend, tmp_path: Path) -> Iterator[RouterProcess]:
    with RouterProcess(
        "memory:", catalog=write_catalog(tmp_path, backend.base_url), extra=["--http", "127.0.0.1:0"]
    ) as process:
        yield process


@pytest.fixture
def one_attempt(backend: ScriptedBackend, tmp_path: Path) -> Iterator[RouterProcess]:
    with RouterProcess(
        "memory:",
        catalog=write_catalog(tmp_path, backend.base_url),
        extra=["--http", "127.0.0.1:0", "--execute-max-attempts", "1"],
    ) as process:
        yield process


@pytest.mark.parametrize("dialect", DIALECTS)
def test_when_the_first_endpoint_fails_the_header_names_the_fallback_that_serves(
    router: RouterProcess, backend: ScriptedBackend, dialect: str
) -> None:
    backend.script(CHEAP_MODEL, [Fault.server_error(503)])
    backend.script(CLAUDE_MODEL, [Reply(text="Served by the fallback.")])
    status, headers = send_turn(router.http_url, dialect, "Update the changelog")
    assert status == 200
    assert headers[ENDPOINT] == "claude"


@pytest.mark.parametrize("dialect", DIALECTS)
def test_when_every_allowed_attempt_fails_the_header_names_the_last_one_attempted(
    one_attempt: RouterProcess, backend: ScriptedBackend, dialect: str
) -> None:
    """One attempt is allowed: ``cheap`` fails, and ``claude``, a fallback never tried, is named nowhere."""
    backend.script(CHEAP_MODEL, [Fault.server_error(503)])
    untried_before = len(backend.requests_for(CLAUDE_MODEL))
    status, headers = send_turn(one_attempt.http_url, dialect, "Rename the helper")
    assert status == 503
    assert headers["x-rolemodel-error-reason"] == "BACKEND_UNAVAILABLE"
    assert headers[ENDPOINT] == "cheap"
    assert len(backend.requests_for(CLAUDE_MODEL)) == untried_before


# -- a scripted Execute stream ----------------------------------------------------------------------


@pytest.fixture(scope="module")
def door(tmp_path_factory: pytest.TempPathFactory) -> Iterator[InProcessFrontDoor]:
    catalog = write_catalog(tmp_path_factory.mktemp("catalog"), "http://127.0.0.1:9")
    with InProcessFrontDoor(catalog) as running:
        yield running


@pytest.mark.parametrize("dialect", DIALECTS)
def test_the_header_follows_the_attempt_not_the_decision_s_order(door: InProcessFrontDoor, dialect: str) -> None:
    """A router may skip the chosen endpoint without an attempt (a cooldown that began meanwhile)."""

    def script(request: E.ExecuteRequest, started: E.ExecuteStarted) -> list[E.ExecuteResponse]:
        decision = started.decision
        assert decision.chosen_endpoint_id == "cheap" and "claude" in decision.fallback_endpoint_ids
        deltas = [ev.text("From the fallback.")]
        return [ev.attempt_started("claude", 1), *deltas, ev.completed(decision, deltas, served="claude")]

    door.execute.script = script
    status, headers = send_turn(door.url, dialect, "Fix the test")
    assert (status, headers[ENDPOINT]) == (200, "claude")


@pytest.mark.parametrize("dialect", DIALECTS)
def test_an_error_names_the_last_attempt_not_a_fallback_left_untried(door: InProcessFrontDoor, dialect: str) -> None:
    def script(request: E.ExecuteRequest, started: E.ExecuteStarted) -> list[E.ExecuteResponse]:
        return [
            ev.attempt_started("cheap", 1),
            ev.attempt_failed("cheap", common_pb2.OUTCOME_CLASS_SERVER_ERROR),
            ev.failed(started.decision, "BUDGET_EXHAUSTED", after_first_token=False, served="cheap"),
        ]

    door.execute.script = script
    status, headers = send_turn(door.url, dialect, "Fix the test")
    assert status == 400
    assert headers["x-rolemodel-error-reason"] == "BUDGET_EXHAUSTED"
    assert headers[ENDPOINT] == "cheap"


@pytest.mark.parametrize("dialect", DIALECTS)
def test_a_call_that_ended_before_any_attempt_names_no_endpoint(door: InProcessFrontDoor, dialect: str) -> None:
    def script(request: E.ExecuteRequest, started: E.ExecuteStarted) -> list[E.ExecuteResponse]:
        return [ev.failed(started.decision, "BUDGET_EXHAUSTED", after_first_token=False, served="")]

    door.execute.script = script
    status, headers = send_turn(door.url, dialect, "Fix the test")
    assert status == 400
    assert headers["x-rolemodel-decision-id"]
    assert headers["x-rolemodel-currency"] == "USD"
    assert ENDPOINT not in headers
    assert "x-rolemodel-estimated-cost" not in headers
