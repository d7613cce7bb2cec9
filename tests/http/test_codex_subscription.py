"""A Codex user on a ChatGPT plan through the front door: their login, their plan's usage, the router's token.

The plan's usage comes back to the user, and only from their own plan (spec 14.5); with router
tokens, the login and the token ride in one request as docs/clients.md sets Codex up (14.8).

``gpt`` here is the ChatGPT Codex backend called with the client's own login
(``client_credential_headers``); the scripted backend plays a ChatGPT plan that reports its
windows in Codex's headers and in a ``codex.rate_limits`` stream event. ``deepseek`` is called
with the router's key (none here), so whatever it says about usage is the operator's business.
"""

from __future__ import annotations

import json
import tomllib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import openai
import pytest
import yaml
from google.protobuf import json_format

from rolemodel.dialects.sse import SSEParser
from rolemodel.usage_headers import is_usage_header
from rolemodel.v1 import catalog_pb2
from rolemodel_router.backends.scripted import CacheRules, Reply, ScriptedBackend, Subscription
from tests.http.responses_catalog import DEEPSEEK_MODEL, GPT_MODEL, catalog
from tests.http.test_clients_doc import snippet
from tests.router.harness import RouterProcess

ROUTER_TOKEN = "router-token-0123456789abcdef"
LOGIN = {"authorization": "Bearer chatgpt-login-of-the-user", "chatgpt-account-id": "acct-of-the-user"}
QUESTION: Any = [{"role": "user", "content": "Which file holds the notes?"}]


@pytest.fixture(scope="module")
def backend() -> Iterator[ScriptedBackend]:
    with ScriptedBackend() as server:
        for endpoint in catalog(server.base_url)["endpoints"]:
            caching = json_format.ParseDict(endpoint["caching"], catalog_pb2.CachingBehavior())
            plan = Subscription("codex", short_capacity=20_000, long_capacity=200_000, long_used=0.3)
            server.configure(
                endpoint["model"],
                cache=CacheRules.from_catalog(caching),
                default=Reply(text="notes.txt"),
                # DeepSeek reports usage headers too, as any provider might: they must not reach the client
                subscription=plan,
            )
        yield server


def _plan_catalog(directory: Path, base_url: str) -> Path:
    data = catalog(base_url)
    gpt = next(e for e in data["endpoints"] if e["id"] == "gpt")
    gpt["connection"]["client_credential_headers"] = ["authorization", "chatgpt-account-id"]
    path = directory / "plan.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path


@pytest.fixture(scope="module")
def router(backend: ScriptedBackend, tmp_path_factory: pytest.TempPathFactory) -> Iterator[RouterProcess]:
    path = _plan_catalog(tmp_path_factory.mktemp("catalog"), backend.base_url)
    with RouterProcess("memory:", catalog=path, extra=["--http", "127.0.0.1:0"]) as process:
        yield process


def _usage_headers(headers: httpx.Headers) -> dict[str, str]:
    return {k: v for k, v in headers.items() if is_usage_header(k)}


def _stream(router: RouterProcess, pin: str) -> tuple[httpx.Headers, list[dict[str, Any]]]:
    body = {"model": GPT_MODEL, "input": QUESTION, "store": False, "stream": True}
    headers = {**LOGIN, "x-rolemodel-pin": pin}
    with httpx.stream("POST", router.http_url + "/v1/responses", json=body, headers=headers, timeout=30) as answer:
        assert answer.status_code == 200, answer.read()
        raw = answer.read()
    return answer.headers, [json.loads(e.data) for e in SSEParser().feed(raw + b"\n\n")]


def test_the_plan_s_headers_and_rate_limit_event_reach_the_client_in_order(
    router: RouterProcess, backend: ScriptedBackend
) -> None:
    headers, events = _stream(router, "gpt")
    sent = backend.requests_for(GPT_MODEL)[-1]
    assert sent.headers["authorization"] == LOGIN["authorization"]
    usage = _usage_headers(headers)
    assert set(usage) >= {
        "x-codex-primary-used-percent",
        "x-codex-primary-window-minutes",
        "x-codex-primary-reset-at",
        "x-codex-secondary-used-percent",
    }
    assert usage["x-codex-secondary-window-minutes"] == "10080"
    assert 30 <= float(usage["x-codex-secondary-used-percent"]) <= 31  # the week started 30% used
    limits = [e for e in events if e["type"] == "codex.rate_limits"]
    assert len(limits) == 1
    windows = limits[0]["rate_limits"]
    assert windows["primary"]["used_percent"] == float(usage["x-codex-primary-used-percent"])
    assert windows["secondary"]["window_minutes"] == 10080
    assert [e["sequence_number"] for e in events] == list(range(len(events)))
    assert events[-1]["type"] == "response.completed"


def test_a_non_streamed_answer_carries_the_plan_s_headers(router: RouterProcess) -> None:
    with openai.OpenAI(base_url=router.http_url + "/v1", api_key=LOGIN["authorization"].removeprefix("Bearer ")) as sdk:
        raw = sdk.responses.with_raw_response.create(
            model=GPT_MODEL,
            input=QUESTION,
            store=False,
            extra_headers={"chatgpt-account-id": LOGIN["chatgpt-account-id"], "x-rolemodel-pin": "gpt"},
        )
    assert raw.headers["x-rolemodel-endpoint"] == "gpt"
    assert "x-codex-primary-used-percent" in raw.headers
    assert raw.parse().output_text == "notes.txt"


def test_an_endpoint_the_router_pays_for_never_reports_usage_to_the_client(
    router: RouterProcess, backend: ScriptedBackend
) -> None:
    direct = httpx.post(
        backend.base_url + "/v1/chat/completions",
        json={"model": DEEPSEEK_MODEL, "messages": QUESTION},
        timeout=30,
    )
    assert "x-codex-primary-used-percent" in direct.headers, "deepseek does report usage, to the router"
    headers, events = _stream(router, "deepseek")
    assert headers["x-rolemodel-endpoint"] == "deepseek"
    assert backend.requests_for(DEEPSEEK_MODEL), "deepseek served the turn"
    assert _usage_headers(headers) == {}
    assert not [e for e in events if e["type"] == "codex.rate_limits"]


def test_with_router_tokens_the_login_rides_in_authorization_and_the_token_in_x_api_key(
    backend: ScriptedBackend, tmp_path: Path
) -> None:
    """docs/clients.md's set-up: ``requires_openai_auth`` sends the login, ``env_http_headers`` the router's token."""
    provider = tomllib.loads(snippet("codex-subscription"))["model_providers"]["rolemodel"]
    assert provider["requires_openai_auth"] is True and provider["wire_api"] == "responses"
    environment = {"ROLEMODEL_TOKEN": ROUTER_TOKEN}
    token_headers = {name: environment[variable] for name, variable in provider["env_http_headers"].items()}
    tokens = tmp_path / "tokens.json"
    tokens.write_text(json.dumps({"tokens": [{"name": "dev", "token": ROUTER_TOKEN}]}))
    extra = ["--http", "127.0.0.1:0", "--tokens-file", str(tokens)]
    body = {"model": GPT_MODEL, "input": QUESTION, "store": False}
    with RouterProcess("memory:", catalog=_plan_catalog(tmp_path, backend.base_url), extra=extra) as router:
        url = router.http_url + "/v1/responses"
        both = httpx.post(url, json=body, headers={**LOGIN, **token_headers, "x-rolemodel-pin": "gpt"}, timeout=30)
        login_only = httpx.post(url, json=body, headers={**LOGIN, "x-rolemodel-pin": "gpt"}, timeout=30)
        compact = httpx.post(url + "/compact", json=body, headers={**LOGIN, **token_headers}, timeout=30)
    assert both.status_code == 200, both.text
    sent = backend.requests_for(GPT_MODEL)[-1].headers
    assert sent["authorization"] == LOGIN["authorization"] and sent["chatgpt-account-id"] == LOGIN["chatgpt-account-id"]
    assert ROUTER_TOKEN not in str(sent), "the router's token is never forwarded"
    assert "x-codex-primary-used-percent" in both.headers
    assert login_only.status_code == 401, "a login is not a router token"
    assert compact.status_code == 404 and compact.json()["error"]["message"], "OpenAI's compaction call is not served"
