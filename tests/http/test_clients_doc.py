"""docs/clients.md is tested: each client's snippet is parsed and the requests it describes are sent.

The snippets assume the router on ``127.0.0.1:8080``; the tests swap in the real router's address,
keep everything else (paths, model names, header names and values, environment variable names)
and check what the router made of it: the role and where it came from, and the hints that arrived.
"""

from __future__ import annotations

import json
import re
import shlex
import tomllib
from pathlib import Path
from typing import Any

import anthropic
import httpx
import openai
import pytest
import yaml

from rolemodel_router.backends.scripted import Reply, ScriptedBackend
from rolemodel_router.demo.backends import running_backends
from rolemodel_router.http.hints import SIDE_REQUEST, STRATEGIES
from tests.http import events as ev
from tests.http.catalog import CHEAP_MODEL, CLAUDE_MODEL, LOCAL_MODEL, RULES
from tests.http.in_process import InProcessFrontDoor
from tests.router.harness import EXAMPLE, RouterProcess

DOC = Path(__file__).resolve().parents[2] / "docs" / "clients.md"
DOC_ADDRESS = "127.0.0.1:8080"
TOKEN = "any-token-when-auth-is-off"
HINT_HEADERS = {
    "x-rolemodel-role",
    "x-rolemodel-difficulty",
    "x-rolemodel-strategy",
    "x-rolemodel-conversation",
    SIDE_REQUEST,
    "x-rolemodel-pin",
    "x-rolemodel-hints",
}


def blocks() -> list[tuple[str, str, str]]:
    """(language, text, name of the snippet comment right above it) of every fenced block, indented or not."""
    found: list[tuple[str, str, str]] = []
    fence: tuple[str, int, str] | None = None  # language, indentation, snippet name
    lines: list[str] = []
    previous = ""
    for line in DOC.read_text().splitlines():
        stripped = line.lstrip()
        if fence is None and stripped.startswith("```"):
            marker = re.fullmatch(r"<!-- snippet: (\S+) -->", previous.strip())
            name = marker[1] if marker else ""
            fence, lines = (stripped.removeprefix("```").strip(), len(line) - len(stripped), name), []
        elif fence is not None and stripped == "```":
            found.append((fence[0], "\n".join(lines) + "\n", fence[2]))
            fence = None
        elif fence is not None:
            lines.append(line[fence[1] :])
        previous = line
    return found


def snippet(name: str) -> str:
    named = [text for _, text, snippet_name in blocks() if snippet_name == name]
    assert len(named) == 1, f"docs/clients.md should have one snippet {name!r}"
    return named[0]


def fenced(language: str, containing: str) -> str:
    for block_language, text, _ in blocks():
        if block_language == language and containing in text:
            return text
    raise AssertionError(f"no {language or 'plain'} block with {containing!r} in docs/clients.md")


def exports(text: str) -> dict[str, str]:
    """``export NAME=VALUE`` lines (and ``-e NAME=VALUE`` arguments) as a shell would read them."""
    words = shlex.split(text.replace("\\\n", " "), comments=True, posix=True)
    pairs = [w.removeprefix("export ") for w in words if "=" in w and w.split("=", 1)[0].isupper()]
    return dict(pair.split("=", 1) for pair in pairs)


def local(url: str, router: RouterProcess) -> str:
    """The snippet's URL, on the real router."""
    real = router.http_url.removeprefix("http://")
    return url.replace(DOC_ADDRESS, real).replace("host.docker.internal:8080", real)


@pytest.fixture(scope="module", autouse=True)
def answers(backend: ScriptedBackend) -> None:
    for model in (LOCAL_MODEL, CHEAP_MODEL, CLAUDE_MODEL):
        backend.configure(model, default=Reply(text="ok"))


def explained(completion: openai.types.chat.ChatCompletion) -> dict[str, Any]:
    """The decision an answer carries when it was asked for with ``x-rolemodel-explain``."""
    decision: dict[str, Any] = (completion.model_extra or {})["rolemodel"]["decision"]
    return decision


def test_the_start_up_line_is_the_one_the_router_prints(router: RouterProcess) -> None:
    documented = fenced("", "HTTP front door on").strip()
    assert local(documented, router) == router.http_line


def test_the_client_model_rules_of_the_guide_are_the_ones_tested() -> None:
    rules = yaml.safe_load(fenced("yaml", "client_model_rules"))["policies"]["client_model_rules"]
    assert [(r["model_pattern"], r["role"]) for r in rules] == [(r["model_pattern"], r["role"]) for r in RULES]


def test_codex_cli(router: RouterProcess) -> None:
    config = tomllib.loads(snippet("codex"))
    provider = config["model_providers"][config["model_provider"]]
    assert provider["wire_api"] == "responses" and provider["base_url"].endswith("/v1")
    assert config["web_search"] == "disabled"
    headers = dict(provider["http_headers"])
    assert set(headers) | set(provider["env_http_headers"]) <= HINT_HEADERS
    assert headers["x-rolemodel-strategy"] in STRATEGIES
    headers.update({name: "0.2" for name in provider["env_http_headers"]})  # as if the variable were set
    with openai.OpenAI(base_url=local(provider["base_url"], router), api_key=TOKEN, max_retries=0) as client:
        raw = client.responses.with_raw_response.create(
            model=config["model"],
            input="Fix the failing test.",
            store=False,
            extra_headers={**headers, "x-rolemodel-explain": "1"},
        )
    decision = (raw.parse().model_extra or {})["rolemodel"]["decision"]
    assert (raw.headers["x-rolemodel-role"], raw.headers["x-rolemodel-role-source"]) == ("code.edit", "alias")
    assert decision["difficulty"] == {"value": 0.2, "source": "VALUE_SOURCE_DECLARED"}
    assert decision["policy"]["strategy"] == "STRATEGY_COST"


def test_claude_code(router: RouterProcess) -> None:
    env = exports(snippet("claude-code"))
    headers = dict(line.split(": ", 1) for line in env["ANTHROPIC_CUSTOM_HEADERS"].splitlines())
    assert set(headers) <= HINT_HEADERS
    assert not env["ANTHROPIC_BASE_URL"].endswith("/v1")  # Claude Code appends /v1/messages
    with anthropic.Anthropic(
        base_url=local(env["ANTHROPIC_BASE_URL"], router), auth_token=TOKEN, default_headers=headers, max_retries=0
    ) as client:
        roles = {}
        for variable in ("ANTHROPIC_MODEL", "ANTHROPIC_DEFAULT_HAIKU_MODEL"):
            raw = client.messages.with_raw_response.create(
                model=env[variable], max_tokens=64, messages=[{"role": "user", "content": "Rename the module."}]
            )
            roles[variable] = (raw.headers["x-rolemodel-role"], raw.headers["x-rolemodel-role-source"])
        counted = client.messages.count_tokens(
            model=env["ANTHROPIC_MODEL"], messages=[{"role": "user", "content": "x"}]
        )
    assert roles == {"ANTHROPIC_MODEL": ("code.edit", "rule"), "ANTHROPIC_DEFAULT_HAIKU_MODEL": ("background", "rule")}
    assert counted.input_tokens == 5


def test_aider(router: RouterProcess) -> None:
    config = yaml.safe_load(snippet("aider"))
    per_model = yaml.safe_load(snippet("aider-headers"))
    settings = {entry["name"]: entry["extra_params"]["extra_headers"] for entry in per_model}
    expected = {"model": "code.edit", "weak-model": "chore", "editor-model": "code.edit"}
    with openai.OpenAI(base_url=local(config["openai-api-base"], router), api_key=TOKEN, max_retries=0) as client:
        for key, role in expected.items():
            prefixed = config[key]
            assert prefixed.startswith("openai/")  # aider's prefix for OpenAI-compatible servers, not sent
            headers = settings.get(prefixed, {})
            assert set(headers) <= HINT_HEADERS
            raw = client.chat.completions.with_raw_response.create(
                model=prefixed.removeprefix("openai/"),
                messages=[{"role": "user", "content": "Add a docstring."}],
                extra_headers={**headers, "x-rolemodel-explain": "1"},
            )
            assert raw.headers["x-rolemodel-role"] == role
    assert json.loads(settings[config["weak-model"]]["x-rolemodel-hints"]) == {"labels": {"data": "private"}}


def test_aider_s_set_up_works_on_the_bundled_catalog(tmp_path: Path) -> None:
    """The bundled catalog, every endpoint on a scripted backend: the private weak model stays local."""
    config = yaml.safe_load(snippet("aider"))
    per_model = yaml.safe_load(snippet("aider-headers"))
    settings = {entry["name"]: entry["extra_params"]["extra_headers"] for entry in per_model}
    with (
        running_backends(tmp_path) as backends,
        RouterProcess("memory:", catalog=backends.catalog_path, extra=["--http", "127.0.0.1:0"]) as router,
        openai.OpenAI(base_url=local(config["openai-api-base"], router), api_key=TOKEN, max_retries=0) as client,
    ):
        served = {}
        for key in ("model", "weak-model", "editor-model"):
            prefixed = config[key]
            raw = client.chat.completions.with_raw_response.create(
                model=prefixed.removeprefix("openai/"),
                messages=[{"role": "user", "content": "Add a docstring to greet()."}],
                extra_headers=settings.get(prefixed, {}),
            )
            assert raw.parse().choices[0].message.content
            served[key] = raw.headers["x-rolemodel-endpoint"]
    local_ids = {"local-small", "local-big"}
    assert served["weak-model"] in local_ids, "the private weak model stays on this machine"


def test_open_webui(router: RouterProcess) -> None:
    env = exports(snippet("open-webui"))
    base_url = local(env["OPENAI_API_BASE_URL"], router)
    with openai.OpenAI(base_url=base_url, api_key=TOKEN, max_retries=0) as client:
        listed = [m.id for m in client.models.list()]
        assert "rolemodel/chat" in listed and env["TASK_MODEL_EXTERNAL"] in listed
        raw = client.chat.completions.with_raw_response.create(
            model=env["TASK_MODEL_EXTERNAL"], messages=[{"role": "user", "content": "Title for: a chat about cats"}]
        )
    assert raw.headers["x-rolemodel-role"] == "background"


def test_the_outcome_example(router: RouterProcess) -> None:
    command = fenced("sh", "/v1/rolemodel/outcomes")
    url = local(re.search(r"(http://\S+/v1/rolemodel/outcomes)", command).group(1), router)  # type: ignore[union-attr]
    body = json.loads(re.search(r"-d '(.*)'", command, re.DOTALL).group(1))  # type: ignore[union-attr]
    with openai.OpenAI(base_url=router.http_url + "/v1", api_key=TOKEN, max_retries=0) as client:
        raw = client.chat.completions.with_raw_response.create(
            model="rolemodel/code.edit", messages=[{"role": "user", "content": "Make the tests pass."}]
        )
    body["decision_id"] = raw.headers["x-rolemodel-decision-id"]
    body["served_endpoint_id"] = raw.headers["x-rolemodel-endpoint"]
    reported = httpx.post(url, json=body, headers={"authorization": f"Bearer {TOKEN}"}, timeout=10)
    assert reported.status_code == 200, reported.text
    assert reported.json()["effects"]["escalation_level"] == 1


def test_the_bundled_catalog_routes_claude_code_unchanged() -> None:
    """``rolemodel serve --http`` with the example catalog gives Claude Code's two models their roles."""
    env = exports(snippet("claude-code"))
    with (
        InProcessFrontDoor(EXAMPLE) as door,
        anthropic.Anthropic(base_url=door.url, auth_token=TOKEN, max_retries=0) as client,
    ):
        door.execute.script = lambda request, started: [ev.completed(started.decision, [])]
        roles = [
            client.messages.with_raw_response.create(
                model=env[variable], max_tokens=16, messages=[{"role": "user", "content": "Summarise: ls -la"}]
            ).headers["x-rolemodel-role"]
            for variable in ("ANTHROPIC_MODEL", "ANTHROPIC_DEFAULT_HAIKU_MODEL")
        ]
    assert roles == ["code.edit", "background"]
