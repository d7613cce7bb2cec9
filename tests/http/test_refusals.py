"""Every way the front door refuses a request, in each dialect's error shape (spec 14.1 to 14.3, 14.7, 14.8)."""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from typing import Any

import anthropic
import httpx
import openai
import pytest

from rolemodel_router.engine.limits import Limits
from rolemodel_router.server.auth import TokenRegistry
from tests.http import events as ev
from tests.http.catalog import write_catalog
from tests.http.in_process import InProcessFrontDoor

CHAT = [{"role": "user", "content": "hello"}]
ADMIN = "admin-token-0123456789"
CHORES_ONLY = "chores-token-0123456789"


@pytest.fixture(scope="module")
def door(tmp_path_factory: pytest.TempPathFactory) -> Iterator[InProcessFrontDoor]:
    catalog = write_catalog(tmp_path_factory.mktemp("catalog"), "http://127.0.0.1:9")
    tokens = TokenRegistry([("admin", ADMIN, frozenset()), ("chores", CHORES_ONLY, frozenset({"chore", "background"}))])
    with InProcessFrontDoor(catalog, tokens, Limits(max_request_bytes=4096)) as running:
        running.execute.script = lambda request, started: [
            ev.attempt_started(started.decision.chosen_endpoint_id),
            ev.text("ok"),
            ev.completed(started.decision, [ev.text("ok")]),
        ]
        yield running


@pytest.fixture
def http(door: InProcessFrontDoor) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=door.url, headers={"authorization": f"Bearer {ADMIN}"}, timeout=10) as client:
        yield client


def chat(client: httpx.Client, body: Any, **headers: str) -> httpx.Response:
    return client.post("/v1/chat/completions", json=body, headers=headers)


def openai_error(response: httpx.Response) -> dict[str, Any]:
    error: dict[str, Any] = response.json()["error"]
    assert response.headers["x-rolemodel-error-reason"] == error["code"]
    assert error["details"][0]["reason"] == error["code"]
    assert error["message"].startswith(error["code"] + ": ")
    return error


def test_no_role_from_any_source(http: httpx.Client) -> None:
    response = chat(http, {"model": "llama3", "messages": CHAT})
    assert response.status_code == 400
    error = openai_error(response)
    assert (error["code"], error["param"]) == ("REQUEST_INVALID", "hints.role")
    assert "rolemodel/chat" in error["message"]


def test_the_router_s_own_validation_applies_to_header_hints(http: httpx.Client) -> None:
    unknown = chat(http, {"model": "rolemodel/nope", "messages": CHAT})
    assert unknown.status_code == 400 and openai_error(unknown)["code"] == "UNKNOWN_ROLE"
    assert unknown.json()["error"]["details"][0]["metadata"] == {"role": "nope"}
    pinned = chat(http, {"model": "rolemodel/chat@nowhere", "messages": CHAT})
    assert openai_error(pinned)["code"] == "UNKNOWN_ENDPOINT"
    bad = chat(http, {"model": "rolemodel/chat", "messages": CHAT}, **{"x-rolemodel-difficulty": "7"})
    error = openai_error(bad)
    assert (error["code"], error["param"]) == ("REQUEST_INVALID", "hints.difficulty")
    conversation = chat(http, {"model": "rolemodel/chat", "messages": CHAT}, **{"x-rolemodel-conversation": "a b"})
    assert openai_error(conversation)["param"] == "conversation.conversation_id"
    unparsed = chat(http, {"model": "rolemodel/chat", "messages": CHAT}, **{"x-rolemodel-strategy": "cheapest"})
    assert openai_error(unparsed)["param"] == "hints.strategy"


def test_bodies_that_are_not_valid_for_the_dialect(http: httpx.Client) -> None:
    broken = http.post("/v1/chat/completions", content=b"{not json", headers={"content-type": "application/json"})
    assert broken.status_code == 400 and openai_error(broken)["param"] == "body"
    wrong = chat(http, {"model": "rolemodel/chat", "messages": [{"role": "user", "content": 5}]})
    error = openai_error(wrong)
    assert (error["code"], error["param"]) == ("REQUEST_INVALID", "messages[0].content")
    array = chat(http, [1, 2])
    assert openai_error(array)["param"] == "body"
    anthropic_body = http.post("/v1/messages", json={"model": "rolemodel/chat", "messages": "hi"})
    assert anthropic_body.status_code == 400
    assert anthropic_body.json()["type"] == "error"
    assert anthropic_body.json()["error"]["type"] == "invalid_request_error"
    assert anthropic_body.headers["x-rolemodel-error-reason"] == "REQUEST_INVALID"


def test_a_body_over_the_limit_is_refused_with_413(http: httpx.Client) -> None:
    big = chat(http, {"model": "rolemodel/chat", "messages": [{"role": "user", "content": "x" * 5000}]})
    assert big.status_code == 413
    error = openai_error(big)
    assert error["code"] == "REQUEST_TOO_LARGE"
    assert error["details"][0]["metadata"]["max_request_bytes"] == "4096"
    chunked = http.post("/v1/chat/completions", content=iter([b"{" + b" " * 3000, b" " * 3000 + b"}"]))
    assert chunked.status_code == 413


def test_an_unserved_protocol_version_is_refused(http: httpx.Client) -> None:
    response = chat(http, {"model": "rolemodel/chat", "messages": CHAT}, **{"rolemodel-version": "7.0"})
    assert response.status_code == 400 and openai_error(response)["code"] == "UNSUPPORTED_PROTOCOL_VERSION"
    served = chat(http, {"model": "rolemodel/chat", "messages": CHAT}, **{"rolemodel-version": "1.0"})
    assert served.status_code == 200


def test_unknown_paths_get_a_404_in_the_openai_shape(http: httpx.Client) -> None:
    response = http.post("/v1/embeddings", json={})
    assert response.status_code == 404
    assert response.json()["error"]["type"] == "invalid_request_error"
    assert response.headers["x-should-retry"] == "false"
    wrong_method = http.get("/v1/chat/completions")
    assert wrong_method.status_code == 405 and wrong_method.headers["x-should-retry"] == "false"


def test_the_base_url_answers_get_and_head_with_the_router_s_name(door: InProcessFrontDoor) -> None:
    got = httpx.get(door.url + "/")
    assert got.status_code == 200 and got.text.startswith("rolemodel-reference-router ")
    head = httpx.head(door.url + "/")
    assert head.status_code == 200 and head.content == b""


def test_every_request_gets_one_access_log_line_without_content(
    http: httpx.Client, caplog: pytest.LogCaptureFixture
) -> None:
    secret = "do-not-log-this-prompt"
    with caplog.at_level(logging.INFO, logger="rolemodel.router"):
        http.post("/v1/embeddings?key=sk-in-query", json={"input": secret})
        chat(http, {"model": "llama3", "messages": [{"role": "user", "content": secret}]})
        chat(http, {"model": "rolemodel/chat", "messages": [{"role": "user", "content": secret}]})
        httpx.head(http.base_url.join("/"))
        deadline = time.monotonic() + 5  # a line is written after the last byte, which the client may see first
        while len(lines := [r for r in caplog.records if r.getMessage() == "http request"]) < 4:
            assert time.monotonic() < deadline, "an access-log line is missing"
            time.sleep(0.01)
    seen = [(r.__dict__["method"], r.__dict__["path"], r.__dict__["status"]) for r in lines]
    assert seen == [
        ("POST", "/v1/embeddings", 404),
        ("POST", "/v1/chat/completions", 400),
        ("POST", "/v1/chat/completions", 200),
        ("HEAD", "/", 200),
    ]
    assert all(r.__dict__["response_bytes"] >= 0 and r.__dict__["duration_ms"] >= 0 for r in lines)
    logged = " ".join(str(vars(r)) for r in caplog.records)
    assert secret not in logged and "sk-in-query" not in logged


def test_with_info_off_the_access_log_steps_aside_and_the_answers_are_the_same(
    http: httpx.Client, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING, logger="rolemodel.router"):
        missing = http.post("/v1/embeddings", json={"input": "x"})
        served = chat(http, {"model": "rolemodel/chat", "messages": CHAT})
        time.sleep(0.1)  # a line would be written after the last byte
    assert missing.status_code == 404 and served.status_code == 200
    assert [r for r in caplog.records if r.name == "rolemodel.router"] == []


def test_a_token_is_required_in_either_header(door: InProcessFrontDoor) -> None:
    with (
        openai.OpenAI(base_url=door.url + "/v1", api_key="wrong-token-0123456789", max_retries=0) as client,
        pytest.raises(openai.AuthenticationError) as caught,
    ):
        client.chat.completions.create(model="rolemodel/chat", messages=[{"role": "user", "content": "x"}])
    assert caught.value.code == "UNAUTHENTICATED"
    assert caught.value.response.headers["x-should-retry"] == "false"
    assert "wrong-token" not in caught.value.response.text
    missing = httpx.post(door.url + "/v1/chat/completions", json={"model": "rolemodel/chat", "messages": CHAT})
    assert missing.status_code == 401 and "bearer token is required" in missing.json()["error"]["message"]
    with anthropic.Anthropic(base_url=door.url, api_key=ADMIN, max_retries=0) as client:  # x-api-key
        message = client.messages.create(
            model="rolemodel/chat", max_tokens=8, messages=[{"role": "user", "content": "x"}]
        )
    assert message.content[0].type == "text"
    with anthropic.Anthropic(base_url=door.url, auth_token=ADMIN, max_retries=0) as client:  # Authorization
        client.messages.create(model="rolemodel/chat", max_tokens=8, messages=[{"role": "user", "content": "x"}])
    with (
        anthropic.Anthropic(base_url=door.url, api_key="nope-0123456789abcdef", max_retries=0) as client,
        pytest.raises(anthropic.AuthenticationError) as refused,
    ):
        client.messages.create(model="rolemodel/chat", max_tokens=8, messages=[{"role": "user", "content": "x"}])
    assert refused.value.response.json()["error"]["type"] == "authentication_error"


def test_a_scoped_token_may_only_use_its_roles(door: InProcessFrontDoor) -> None:
    with openai.OpenAI(base_url=door.url + "/v1", api_key=CHORES_ONLY, max_retries=0) as client:
        done = client.chat.completions.create(model="rolemodel/chore", messages=[{"role": "user", "content": "x"}])
        assert done.choices[0].message.content == "ok"
        with pytest.raises(openai.PermissionDeniedError) as caught:
            client.chat.completions.create(
                model="rolemodel/chore",
                messages=[{"role": "user", "content": "x"}],
                extra_headers={"x-rolemodel-role": "code.edit"},
            )
    assert caught.value.code == "ROLE_NOT_PERMITTED"
    assert caught.value.response.json()["error"]["details"][0]["metadata"] == {"role": "code.edit"}


def test_discovery_needs_no_token(door: InProcessFrontDoor) -> None:
    with openai.OpenAI(base_url=door.url + "/v1", api_key="not-a-token", max_retries=0) as client:
        names = [m.id for m in client.models.list()]
    assert names[:4] == ["rolemodel/chat", "rolemodel/code.edit", "rolemodel/chore", "rolemodel/background"]
    assert "rolemodel/code.edit@claude" in names and "rolemodel/chat@cheap" in names
    with anthropic.Anthropic(base_url=door.url, api_key="not-a-token", max_retries=0) as client:
        listed = [m.id for m in client.models.list()]
    assert listed == names
    card = httpx.get(door.url + "/v1/rolemodel/card").json()
    assert card["catalog_name"] == "http-front-door-tests"
    assert all("connection" not in e["endpoint"] for e in card["endpoints"])
    assert httpx.get(door.url + "/models").json()["object"] == "list"  # also without /v1


def test_outcome_refusals_are_google_rpc_statuses(http: httpx.Client) -> None:
    missing = http.post(
        "/v1/rolemodel/outcomes",
        json={"decision_id": "0" * 28, "served_endpoint_id": "local", "outcome_class": "OUTCOME_CLASS_SUCCESS",
              "idempotency_key": "k-1"},
    )  # fmt: skip
    assert missing.status_code == 404
    error = missing.json()["error"]
    assert (error["code"], error["status"]) == (404, "NOT_FOUND")
    assert error["details"][0]["reason"] == "DECISION_NOT_FOUND"
    assert missing.headers["x-rolemodel-error-reason"] == "DECISION_NOT_FOUND"
    typo = http.post("/v1/rolemodel/outcomes", json={"decision": "x"})
    assert typo.status_code == 400
    assert typo.json()["error"]["details"][1]["field_violations"][0]["field"] == "outcome"
    empty = http.post("/v1/rolemodel/outcomes", json={})
    fields = {v["field"] for v in empty.json()["error"]["details"][1]["field_violations"]}
    assert {"outcome.decision_id", "outcome.served_endpoint_id", "outcome.idempotency_key"} <= fields
    anonymous = httpx.post(http.base_url.join("/v1/rolemodel/outcomes"), json={})
    assert anonymous.status_code == 401


def test_count_tokens_answers_with_the_normative_estimate(http: httpx.Client) -> None:
    body = {"model": "claude-sonnet-4-6", "system": "abcd" * 10, "messages": [{"role": "user", "content": "12345678"}]}
    counted = http.post("/v1/messages/count_tokens", json=body)
    assert counted.status_code == 200
    assert counted.json() == {"input_tokens": (4 + 10) + (4 + 2)}
    in_place = {
        "model": "rolemodel/code.edit",
        "messages": [
            {"role": "system", "content": "abcd" * 10},
            {"role": "user", "content": "12345678"},
            {"role": "system", "content": [{"type": "text", "text": "abcd"}]},
        ],
    }
    counted = http.post("/v1/messages/count_tokens", json=in_place)
    assert counted.status_code == 200 and counted.json() == {"input_tokens": (4 + 10) + (4 + 2) + (4 + 1)}
    refused = http.post("/v1/messages/count_tokens", json={"messages": []})
    assert refused.status_code == 400 and refused.json()["error"]["type"] == "invalid_request_error"
