"""Codex (the pinned npm release) with its own login through a router that has tokens, as docs/clients.md sets it up.

The provider block is docs/clients.md's ``codex-subscription`` snippet: ``requires_openai_auth``
makes Codex send the user's login as ``Authorization: Bearer`` (here an API-key login made with
``codex login --with-api-key``; a ChatGPT login adds ``chatgpt-account-id``), and the router's
token rides in ``x-api-key``. ``gpt`` lists ``authorization`` in ``client_credential_headers``
and plays a ChatGPT plan that reports its windows; ``deepseek`` is the router's.
"""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from rolemodel_router.backends.scripted import Reply, ScriptedBackend, Subscription
from tests.clients.codex_harness import TOKEN_VARIABLE, RecordingProxy, catalog_backend, recorded_router, run_codex
from tests.clients.harness import client_binary
from tests.http.responses_catalog import DEEPSEEK_MODEL, GPT_MODEL, catalog
from tests.http.test_clients_doc import DOC_ADDRESS, snippet

LOGIN = "sk-login-of-the-user-0123456789"
ROUTER_TOKEN = "router-token-for-codex-0123456789"


@pytest.fixture(scope="module")
def codex() -> Path:
    return client_binary("codex")


@pytest.fixture
def backend() -> Iterator[ScriptedBackend]:
    with catalog_backend() as server:
        plan = Subscription("codex", short_capacity=10_000_000, long_capacity=100_000_000, long_used=0.4)
        server.configure(GPT_MODEL, default=Reply(text="Done on your plan."), subscription=plan)
        server.configure(DEEPSEEK_MODEL, default=Reply(text="Done on DeepSeek."))
        yield server


@pytest.fixture
def proxy(backend: ScriptedBackend, tmp_path: Path) -> Iterator[RecordingProxy]:
    data = catalog(backend.base_url)
    next(e for e in data["endpoints"] if e["id"] == "gpt")["connection"]["client_credential_headers"] = [
        "authorization"
    ]
    path = tmp_path / "login.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    tokens = tmp_path / "tokens.json"
    tokens.write_text(json.dumps({"tokens": [{"name": "dev", "token": ROUTER_TOKEN}]}))
    with recorded_router(path, "--tokens-file", str(tokens)) as recorder:
        yield recorder


def _codex_home(codex: Path, directory: Path, router_url: str) -> Path:
    """CODEX_HOME with the documented provider block and a login made by ``codex login``."""
    directory.mkdir(parents=True)
    block = snippet("codex-subscription").replace(DOC_ADDRESS, router_url.removeprefix("http://"))
    (directory / "config.toml").write_text('model_provider = "rolemodel"\nweb_search = "disabled"\n\n' + block)
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(directory.parent), "CODEX_HOME": str(directory)}
    command = [str(codex), "login", "--with-api-key"]
    done = subprocess.run(command, input=LOGIN + "\n", env=env, capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 0, done.stderr[-2000:]
    return directory


def test_codex_s_login_reaches_only_its_plan_and_the_plan_s_usage_comes_back(
    codex: Path, backend: ScriptedBackend, proxy: RecordingProxy, tmp_path: Path
) -> None:
    home = _codex_home(codex, tmp_path / "codex-home", proxy.base_url)
    for name, pin in (("on-plan", "gpt"), ("elsewhere", "deepseek")):
        workdir = tmp_path / name
        workdir.mkdir()
        done = run_codex(
            codex, home, workdir, "Say where you ran.", model=f"rolemodel/code.edit@{pin}",
            variables={TOKEN_VARIABLE: ROUTER_TOKEN},
        )  # fmt: skip
        assert done.returncode == 0, done.stderr[-2000:]
    plan_calls, deepseek_calls = backend.requests_for(GPT_MODEL), backend.requests_for(DEEPSEEK_MODEL)
    assert plan_calls and deepseek_calls
    assert all(r.headers.get("authorization") == f"Bearer {LOGIN}" for r in plan_calls)
    assert not any(LOGIN in str(r.headers) or ROUTER_TOKEN in str(r.headers) for r in deepseek_calls)
    answered = [e for e in proxy.responses() if e.status == 200]
    assert [e.headers["x-rolemodel-endpoint"] for e in answered] == ["gpt", "deepseek"]
    on_plan, elsewhere = answered
    assert round(float(on_plan.headers["x-codex-secondary-used-percent"])) == 40, "Codex sees its plan's week"
    assert "codex.rate_limits" in bytes(on_plan.body).decode()
    assert not any(k.startswith("x-codex-") for k in elsewhere.headers)
