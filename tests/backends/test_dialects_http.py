"""Both dialects over real loopback HTTP, streaming and not, decoded with the SDK's own codecs."""

from __future__ import annotations

import httpx
import pytest

from rolemodel.v1 import conversation_pb2 as c
from rolemodel_router.backends.scripted import Reply, ScriptedBackend, ToolCall
from tests.backends.dialect_calls import decode, post, stream, system, user

DIALECTS = ["openai", "anthropic"]
TOOL_REPLY = Reply(
    text="Let me read it.",
    reasoning="The file will tell.",
    tool_calls=[ToolCall("read_file", {"path": "src/app.py"}), ToolCall("run_tests", {})],
    chunk_chars=5,
)


@pytest.mark.parametrize("dialect", DIALECTS)
def test_a_scripted_tool_call_answer_without_streaming(
    backend: ScriptedBackend, http: httpx.Client, dialect: str
) -> None:
    backend.script("m", [TOOL_REPLY])
    completion = decode(dialect, post(http, dialect, "m", [system("Be brief."), user("Fix the bug.")]))
    kinds = [p.WhichOneof("kind") for p in completion.message.parts]
    assert kinds == ["reasoning", "text", "tool_call", "tool_call"]
    calls = [p.tool_call for p in completion.message.parts[2:]]
    assert [(call.name, call.arguments_json) for call in calls] == [
        ("read_file", '{"path": "src/app.py"}' if dialect == "openai" else '{"path":"src/app.py"}'),
        ("run_tests", "{}"),
    ]
    assert all(call.id.startswith("call_" if dialect == "openai" else "toolu_") for call in calls)
    assert completion.finish_reason == "tool_calls"
    recorded = backend.requests[0]
    assert recorded.usage is not None and completion.usage == recorded.usage
    assert completion.usage.input_tokens == recorded.prompt_tokens > 0


@pytest.mark.parametrize("dialect", DIALECTS)
def test_a_scripted_tool_call_answer_streamed(backend: ScriptedBackend, http: httpx.Client, dialect: str) -> None:
    backend.script("m", [TOOL_REPLY, TOOL_REPLY])
    non_streamed = decode(dialect, post(http, dialect, "m", [user("Fix the bug.")]))
    response, reader = stream(http, dialect, "m", [user("Fix the bug.")])
    assert response.headers["content-type"].startswith("text/event-stream")
    assert reader.decoder.done
    streamed = reader.decoder.completion()
    assert len(reader.deltas) > 6
    assert [p.tool_call.arguments_json for p in streamed.message.parts[2:]] == [
        '{"path": "src/app.py"}',
        "{}",
    ]
    assert [p.text.text for p in streamed.message.parts if p.HasField("text")] == ["Let me read it."]
    assert streamed.usage == non_streamed.usage
    assert streamed.finish_reason == "tool_calls"


def test_anthropic_reasoning_is_signed_and_openai_reasoning_is_not(
    backend: ScriptedBackend, http: httpx.Client
) -> None:
    backend.script("m", [TOOL_REPLY, TOOL_REPLY])
    openai = decode("openai", post(http, "openai", "m", [user("x")]))
    anthropic = decode("anthropic", post(http, "anthropic", "m", [user("x")]))
    assert openai.message.parts[0].reasoning.signature == ""
    assert anthropic.message.parts[0].reasoning.signature != ""
    assert anthropic.message.parts[0].reasoning.provider == "anthropic"


def test_answers_are_deterministic_across_backends() -> None:
    bodies = []
    for _ in range(2):
        with ScriptedBackend() as backend, httpx.Client(base_url=backend.base_url) as client:
            backend.script("m", [TOOL_REPLY])
            bodies.append(post(client, "openai", "m", [user("x")]).content)
    assert bodies[0] == bodies[1]


def test_models_are_listed_in_each_dialects_shape(backend: ScriptedBackend, http: httpx.Client) -> None:
    backend.script("gpt-small", [])
    backend.script("claude-big", [])
    openai = http.get("/v1/models").json()
    assert openai["object"] == "list"
    assert [m["id"] for m in openai["data"]] == ["claude-big", "gpt-small"]
    anthropic = http.get("/v1/models", headers={"anthropic-version": "2023-06-01"}).json()
    assert anthropic["has_more"] is False
    assert anthropic["first_id"] == "claude-big"
    assert anthropic["data"][0]["type"] == "model"


@pytest.mark.parametrize("dialect", DIALECTS)
def test_requests_are_refused_in_the_dialects_error_shape(
    backend: ScriptedBackend, http: httpx.Client, dialect: str
) -> None:
    unknown = post(http, dialect, "nobody", [user("x")])
    assert unknown.status_code == 404
    if dialect == "openai":
        assert unknown.json()["error"]["code"] == "model_not_found"
    else:
        assert unknown.json()["error"]["type"] == "not_found_error"
    malformed = http.post("/v1/chat/completions" if dialect == "openai" else "/v1/messages", content=b"{nope")
    assert malformed.status_code == 400
    backend.script("m", [])
    exhausted = post(http, dialect, "m", [user("x")])
    assert exhausted.status_code == 500
    assert "run out" in exhausted.text
    assert [r.status for r in backend.requests] == [404, 400, 500]
    assert backend.requests[0].request is not None and backend.requests[1].request is None


def test_a_default_reply_answers_when_the_script_runs_out(backend: ScriptedBackend, http: httpx.Client) -> None:
    backend.configure("m", default=Reply(text="fallback"))
    backend.script("m", [Reply(text="first")])
    texts = [decode("openai", post(http, "openai", "m", [user("x")])).message.parts[0].text.text for _ in range(3)]
    assert texts == ["first", "fallback", "fallback"]
    assert backend.remaining("m") == 0


@pytest.mark.parametrize(("header", "value"), [("authorization", "Bearer sk-test"), ("x-api-key", "sk-test")])
def test_an_api_key_is_required_when_configured(header: str, value: str) -> None:
    with ScriptedBackend(api_key="sk-test") as backend, httpx.Client(base_url=backend.base_url) as client:
        backend.script("m", [Reply(text="ok")])
        assert post(client, "openai", "m", [user("x")]).status_code == 401
        client.headers[header] = value
        assert post(client, "anthropic", "m", [user("x")]).status_code == 200
        assert backend.requests[1].headers[header] == value


def test_the_recorded_request_holds_the_canonical_messages(backend: ScriptedBackend, http: httpx.Client) -> None:
    backend.script("m", [Reply(text="ok")])
    image = c.ContentPart(image=c.ImagePart(media_type="image/png", data=b"\x89PNG"))
    post(http, "anthropic", "m", [system("S"), c.Message(role=c.MESSAGE_ROLE_USER, parts=[image])])
    recorded = backend.requests[0]
    assert recorded.request is not None
    assert recorded.request.messages[1].parts[0].image.data == b"\x89PNG"
    assert recorded.json()["system"] == [{"type": "text", "text": "S"}]
    assert recorded.prompt_tokens == (4 + 1) + (4 + 1024)
