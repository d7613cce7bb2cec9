"""What tests in other processes rely on: rejections, starting afresh, and knowing that a client gave up."""

from __future__ import annotations

import time

import httpx
import pytest

from rolemodel.dialects import anthropic_messages, openai_chat
from rolemodel_router.backends.scripted import CacheRules, Fault, Reply, ScriptedBackend
from rolemodel_router.backends.scripted.script_file import ScriptError, parse_step
from tests.backends.dialect_calls import StreamReader, body, path, post, user, words

DIALECTS = ["openai", "anthropic"]
#: How long a test waits for the backend to notice that its client disconnected.
NOTICE_S = 3.0


@pytest.mark.parametrize("dialect", DIALECTS)
@pytest.mark.parametrize("status", [400, 413, 422])
def test_a_rejected_request_is_an_invalid_request_and_not_an_overflow(
    backend: ScriptedBackend, http: httpx.Client, dialect: str, status: int
) -> None:
    backend.script("m", [Fault.rejected(status), Reply(text="ok")])
    response = post(http, dialect, "m", [user("x")])
    assert response.status_code == status
    decode_error = openai_chat.decode_error if dialect == "openai" else anthropic_messages.decode_error
    error = decode_error(response.status_code, response.content)
    assert not error.context_overflow
    assert "reject" in error.message
    if dialect == "openai":
        assert response.json()["error"]["type"] == "invalid_request_error"
    assert backend.requests[0].step == Fault.rejected(status)
    assert post(http, dialect, "m", [user("x")]).status_code == 200


def test_a_rejection_has_a_request_status_and_scripts_say_so() -> None:
    with pytest.raises(ValueError, match="400, 413 or 422"):
        Fault.rejected(500)
    assert parse_step({"fault": "rejected"}, "s") == Fault.rejected(400)
    assert parse_step({"fault": "rejected", "status": 413}, "s") == Fault.rejected(413)
    with pytest.raises(ScriptError, match=r"s\.status"):
        parse_step({"fault": "rejected", "status": 429}, "s")
    assert Fault.rejected().before_generation


@pytest.mark.parametrize("dialect", DIALECTS)
@pytest.mark.parametrize("after_deltas", [None, 1])
def test_a_client_that_gives_up_on_a_hang_is_recorded_as_abandoned(
    backend: ScriptedBackend, http: httpx.Client, dialect: str, after_deltas: int | None
) -> None:
    backend.script("m", [Fault.hang(after_deltas=after_deltas, reply=Reply(text="one two three four", chunk_chars=4))])
    streaming = after_deltas is not None
    with pytest.raises(httpx.ReadTimeout):
        if streaming:
            document = body(dialect, "m", [user("x")], stream=True)
            with http.stream("POST", path(dialect), json=document, timeout=0.3) as response:
                StreamReader(dialect).read(response)
        else:
            http.post(path(dialect), json=body(dialect, "m", [user("x")]), timeout=0.3)
    deadline = time.monotonic() + NOTICE_S
    while not backend.requests[0].abandoned and time.monotonic() < deadline:
        time.sleep(0.02)
    assert backend.requests[0].abandoned


def test_a_finished_request_is_not_abandoned(backend: ScriptedBackend, http: httpx.Client) -> None:
    backend.script("m", [Reply(text="ok")])
    post(http, "openai", "m", [user("x")])
    assert not backend.requests[0].abandoned


def test_reset_forgets_steps_requests_and_the_cache_but_keeps_the_setup() -> None:
    with ScriptedBackend(api_key="k-123") as backend, httpx.Client(base_url=backend.base_url, timeout=10) as http:
        headers = {"authorization": "Bearer k-123"}
        backend.configure("m", cache=CacheRules.openai(), default=Reply(text="default"))
        backend.script("m", [Reply(text="scripted"), Reply(text="left over")])
        prompt = [user(words(2000))]
        assert http.post(path("openai"), json=body("openai", "m", prompt), headers=headers).status_code == 200
        assert backend.cached_prefixes("m")

        reset = http.post("/_scripted/reset")
        assert reset.status_code == 200
        assert reset.json() == {"models": ["m"]}
        assert (backend.requests, backend.remaining("m"), backend.cached_prefixes("m")) == ([], 0, [])

        answer = http.post(path("openai"), json=body("openai", "m", prompt), headers=headers)
        assert answer.json()["choices"][0]["message"]["content"] == "default"
        assert answer.json()["usage"].get("prompt_tokens_details", {}).get("cached_tokens", 0) == 0
        assert http.post(path("openai"), json=body("openai", "m", prompt)).status_code == 401
        assert [r.sequence for r in backend.requests] == [2, 3]


def test_the_summary_carries_the_body_and_whether_the_client_gave_up(
    backend: ScriptedBackend, http: httpx.Client
) -> None:
    backend.script("m", [Reply(text="ok")])
    sent = body("anthropic", "m", [user("Hello")])
    http.post(path("anthropic"), json=sent)
    http.post(path("anthropic"), content=b"not json", headers={"content-type": "application/json"})
    summaries = http.get("/_scripted/requests").json()
    assert summaries[0]["body"] == sent
    assert summaries[0]["abandoned"] is False
    assert (summaries[1]["body"], summaries[1]["status"]) == (None, 400)
