"""Every fault kind over real HTTP, in both dialects, streaming and not."""

from __future__ import annotations

import json
import threading
import time

import httpx
import pytest

from rolemodel.dialects import anthropic_messages, openai_chat
from rolemodel.dialects.errors import DialectError, IncompleteStreamError, ProviderStreamError
from rolemodel_router.backends.scripted import CacheRules, Fault, FaultKind, Reply, ScriptedBackend
from tests.backends.dialect_calls import StreamReader, body, decode, path, post, stream, user, words

DIALECTS = ["openai", "anthropic"]
LONG_REPLY = Reply(text="one two three four five six seven eight nine ten", chunk_chars=5)


@pytest.mark.parametrize("dialect", DIALECTS)
def test_rate_limited_with_retry_after(backend: ScriptedBackend, http: httpx.Client, dialect: str) -> None:
    backend.script("m", [Fault.rate_limited(retry_after=1.5), Reply(text="ok")])
    response = post(http, dialect, "m", [user("x")])
    assert response.status_code == 429
    assert (response.headers["retry-after"], response.headers["retry-after-ms"]) == ("2", "1500")
    error = response.json()["error"]
    assert error["type"] == ("requests" if dialect == "openai" else "rate_limit_error")
    assert backend.requests[0].step == Fault.rate_limited(retry_after=1.5)
    assert post(http, dialect, "m", [user("x")]).status_code == 200


@pytest.mark.parametrize(
    ("dialect", "status", "kind"),
    [
        ("openai", 500, "server_error"),
        ("anthropic", 500, "api_error"),
        ("anthropic", 529, "overloaded_error"),
        ("openai", 503, "server_error"),
    ],
)
def test_server_errors(backend: ScriptedBackend, http: httpx.Client, dialect: str, status: int, kind: str) -> None:
    backend.script("m", [Fault.server_error(status)])
    response, _ = stream(http, dialect, "m", [user("x")])
    assert response.status_code == status
    assert response.json()["error"]["type"] == kind


@pytest.mark.parametrize("dialect", DIALECTS)
def test_context_overflow_scripted_and_from_the_window(
    backend: ScriptedBackend, http: httpx.Client, dialect: str
) -> None:
    backend.configure("m", context_window_tokens=100)
    backend.script("m", [Fault.context_overflow()])
    scripted = post(http, dialect, "m", [user("short")])
    from_window = post(http, dialect, "m", [user(words(200))])
    decode_error = openai_chat.decode_error if dialect == "openai" else anthropic_messages.decode_error
    for response in (scripted, from_window):
        assert response.status_code == 400
        assert decode_error(response.status_code, response.content).context_overflow
    if dialect == "openai":
        assert from_window.json()["error"]["code"] == "context_length_exceeded"
        assert "maximum context length is 100 tokens" in from_window.json()["error"]["message"]
    else:
        assert from_window.json()["error"]["message"] == "prompt is too long: 204 tokens > 100 maximum"
    assert backend.remaining("m") == 0
    assert backend.requests[1].step is None  # the window refused it before it took a step


@pytest.mark.parametrize("dialect", DIALECTS)
@pytest.mark.parametrize("streaming", [False, True])
def test_a_hang_lasts_until_the_client_gives_up(
    backend: ScriptedBackend, http: httpx.Client, dialect: str, streaming: bool
) -> None:
    backend.script("m", [Fault.hang(), Reply(text="after the hang")])
    started = time.monotonic()
    with pytest.raises(httpx.ReadTimeout):
        http.post(path(dialect), json=body(dialect, "m", [user("x")], stream=streaming), timeout=0.3)
    assert 0.25 < time.monotonic() - started < 3
    assert backend.requests[0].step is not None and backend.requests[0].status == 0
    assert decode(dialect, post(http, dialect, "m", [user("x")])).message.parts[0].text.text == "after the hang"


@pytest.mark.parametrize("dialect", DIALECTS)
def test_a_stream_that_stalls_after_some_deltas(backend: ScriptedBackend, http: httpx.Client, dialect: str) -> None:
    backend.script("m", [Fault.hang(after_deltas=2, reply=LONG_REPLY)])
    reader = StreamReader(dialect)
    with (
        pytest.raises(httpx.ReadTimeout),
        http.stream("POST", path(dialect), json=body(dialect, "m", [user("x")], stream=True), timeout=0.3) as response,
    ):
        reader.read(response)
    assert [d.text for d in reader.deltas] == ["one t", "wo th"]


@pytest.mark.parametrize("dialect", DIALECTS)
@pytest.mark.parametrize("after", [0, 3, 99])
def test_a_stream_cut_after_n_deltas(backend: ScriptedBackend, http: httpx.Client, dialect: str, after: int) -> None:
    backend.script("m", [Fault.cut(after_deltas=after, reply=LONG_REPLY)])
    reader = StreamReader(dialect)
    with (
        pytest.raises(httpx.RemoteProtocolError),
        http.stream("POST", path(dialect), json=body(dialect, "m", [user("x")], stream=True)) as response,
    ):
        reader.read(response)
    assert len(reader.deltas) == min(after, 10)
    with pytest.raises(IncompleteStreamError):
        reader.decoder.completion()


@pytest.mark.parametrize("dialect", DIALECTS)
def test_a_json_body_cut_in_the_middle(backend: ScriptedBackend, http: httpx.Client, dialect: str) -> None:
    backend.script("m", [Fault.cut(reply=LONG_REPLY)])
    with pytest.raises(httpx.RemoteProtocolError):
        post(http, dialect, "m", [user("x")])


@pytest.mark.parametrize("dialect", DIALECTS)
def test_invalid_json_in_a_body(backend: ScriptedBackend, http: httpx.Client, dialect: str) -> None:
    backend.script("m", [Fault.invalid_json()])
    response = post(http, dialect, "m", [user("x")])
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    with pytest.raises(json.JSONDecodeError):
        response.json()


@pytest.mark.parametrize("dialect", DIALECTS)
def test_invalid_json_in_a_stream(backend: ScriptedBackend, http: httpx.Client, dialect: str) -> None:
    backend.script("m", [Fault.invalid_json(after_deltas=2, reply=LONG_REPLY)])
    reader = StreamReader(dialect)
    with (
        pytest.raises(DialectError, match="not valid JSON"),
        http.stream("POST", path(dialect), json=body(dialect, "m", [user("x")], stream=True)) as response,
    ):
        reader.read(response)
    assert len(reader.deltas) == 2


def test_faults_during_generation_still_cache_the_prompt(backend: ScriptedBackend, http: httpx.Client) -> None:
    """A provider that cut its answer had processed the prompt; one that refused it had not."""
    backend.configure("m", cache=CacheRules.openai())
    prompt = [user(words(2000))]
    backend.script("m", [Fault.rate_limited(), Fault.cut(after_deltas=1), Reply(text="ok")])
    post(http, "openai", "m", prompt)
    with pytest.raises(httpx.RemoteProtocolError):
        stream(http, "openai", "m", prompt)
    warm = decode("openai", post(http, "openai", "m", prompt))
    assert warm.usage is not None and warm.usage.cache_read_tokens == 1920
    assert [r.step.kind if isinstance(r.step, Fault) else "reply" for r in backend.requests] == [
        FaultKind.RATE_LIMITED,
        FaultKind.CUT,
        "reply",
    ]


def test_stopping_the_backend_releases_a_hanging_request() -> None:
    backend = ScriptedBackend().start()
    backend.script("m", [Fault.hang()])
    with httpx.Client(base_url=backend.base_url, timeout=30) as client:
        result: list[int] = []
        thread = threading.Thread(target=lambda: result.append(post(client, "openai", "m", [user("x")]).status_code))
        thread.start()
        time.sleep(0.2)
        started = time.monotonic()
        backend.stop()
        thread.join(timeout=10)
    assert result == [503]
    assert time.monotonic() - started < 5


@pytest.mark.parametrize(("dialect", "kind"), [("openai", "server_error"), ("anthropic", "overloaded_error")])
def test_an_error_event_in_the_middle_of_a_stream(
    backend: ScriptedBackend, http: httpx.Client, dialect: str, kind: str
) -> None:
    backend.script("m", [Fault.stream_error(after_deltas=2, reply=LONG_REPLY), Fault.stream_error()])
    reader = StreamReader(dialect)
    with (
        pytest.raises(ProviderStreamError) as caught,
        http.stream("POST", path(dialect), json=body(dialect, "m", [user("x")], stream=True)) as response,
    ):
        reader.read(response)
    assert caught.value.error_type == kind
    assert len(reader.deltas) == 2
    without_streaming = post(http, dialect, "m", [user("x")])
    assert without_streaming.status_code == 529
    assert [r.status for r in backend.requests] == [200, 529]
