"""Real coding agents, at the releases pinned in tests/clients/package-lock.json, against the front door.

``npm ci --prefix tests/clients`` installs them (``.ci/run`` does). A test that needs a client the
machine does not have is skipped, unless ``ROLEMODEL_REQUIRE_CLIENTS=1`` says the run must have
every client (CI sets it), which turns the skip into a failure. The clients run headless, with a
home directory of their own, no telemetry and no traffic beyond the router, and the scripted
backend stands in for every model.
"""

from __future__ import annotations

import os
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.http.catalog import catalog

CLIENTS = Path(__file__).resolve().parent
BIN = CLIENTS / "node_modules" / ".bin"
REQUIRE = os.environ.get("ROLEMODEL_REQUIRE_CLIENTS") == "1"
#: Seconds a whole client session may take: a few requests to a local scripted backend.
SESSION_TIMEOUT_S = 180


def client_binary(name: str) -> Path:
    """The installed client, or a skip (a failure under ROLEMODEL_REQUIRE_CLIENTS=1)."""
    path = BIN / name
    if not path.exists():
        message = f"{name} is not installed; run: npm ci --prefix tests/clients"
        if REQUIRE:
            pytest.fail(f"{message} (ROLEMODEL_REQUIRE_CLIENTS=1)")
        pytest.skip(message)
    return path


def clients_catalog(base_url: str) -> dict[str, Any]:
    """The front-door catalog, plus ``code.plan`` (Claude first, the DeepSeek-class endpoint as its fallback)
    and a rule that routes ``deepseek-*`` model names as ``code.edit``, whose first rung speaks Chat Completions."""
    document = catalog(base_url)
    document["name"] = "client-tests"
    # A new list: the front-door catalog shares its rules with the other tests, which must not see this one.
    document["policies"]["client_model_rules"] = [
        {"model_pattern": "deepseek-*", "role": "code.edit", "description": "a model Claude Code does not know"},
        *document["policies"]["client_model_rules"],
    ]
    document["roles"].append(
        {
            "name": "code.plan",
            "description": "plans on claude; cheap is the fallback",
            "ladder": [{"endpoint_ids": ["claude", "cheap"]}],
            "default_strategy": "STRATEGY_QUALITY",
            "required_capabilities": ["CAPABILITY_TOOLS"],
            "affinity": {"horizon_turns": 3, "tool_loop": "TOOL_LOOP_POLICY_PIN"},
            "handoff": {"reasoning": "REASONING_HANDOFF_DROP"},
        }
    )
    return document


def write_clients_catalog(directory: Path, base_url: str) -> Path:
    path = directory / "client-tests-catalog.yaml"
    path.write_text(yaml.safe_dump(clients_catalog(base_url), sort_keys=False))
    return path


@dataclass(frozen=True)
class Session:
    returncode: int
    stdout: str
    stderr: str


def run_claude_code(binary: Path, base_url: str, model: str, prompt: str, workdir: Path, **extra_env: str) -> Session:
    """``claude -p PROMPT`` in ``workdir`` against the front door, as CI runs it (root, headless)."""
    home = workdir / ".home"
    home.mkdir(exist_ok=True)
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(home),
        "IS_SANDBOX": "1",  # --dangerously-skip-permissions as root, which CI is
        "ANTHROPIC_BASE_URL": base_url,
        "ANTHROPIC_AUTH_TOKEN": "client-test-token",
        "ANTHROPIC_MODEL": model,
        "DISABLE_TELEMETRY": "1",
        "CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC": "1",
        **extra_env,
    }
    done = subprocess.run(
        [str(binary), "-p", prompt, "--dangerously-skip-permissions"],
        cwd=workdir,
        env=env,
        capture_output=True,
        text=True,
        timeout=SESSION_TIMEOUT_S,
        check=False,
    )
    return Session(done.returncode, done.stdout, done.stderr)


#: aider's own virtualenv (``.ci/run`` creates it from PyPI), kept apart from the project's dependencies.
AIDER_VENV = CLIENTS / ".aider"
AIDER_RELEASE = "aider-chat==0.86.2"


def aider_binary() -> Path:
    """The installed aider, or a skip (a failure under ROLEMODEL_REQUIRE_CLIENTS=1)."""
    path = AIDER_VENV / "bin" / "aider"
    if not path.exists():
        message = (
            f"aider is not installed; run: python3 -m venv {AIDER_VENV} && {AIDER_VENV}/bin/pip install {AIDER_RELEASE}"
        )
        if REQUIRE:
            pytest.fail(f"{message} (ROLEMODEL_REQUIRE_CLIENTS=1)")
        pytest.skip(message)
    return path


def run_aider(
    binary: Path, config_file: Path, settings_file: Path, message: str, workdir: Path, *files: str
) -> Session:
    """One ``aider --message`` edit in ``workdir``, configured by the given files, with nothing else online."""
    home = workdir / ".home"
    home.mkdir(exist_ok=True)
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(home),
        "OPENAI_API_KEY": "client-test-token",
        "LITELLM_LOCAL_MODEL_COST_MAP": "True",  # litellm would fetch its price list from the internet
        "AIDER_ANALYTICS": "false",
        "AIDER_CHECK_UPDATE": "false",
    }
    command = [
        str(binary),
        "--config", str(config_file),
        "--model-settings-file", str(settings_file),
        "--message", message,
        "--yes-always", "--no-git", "--no-pretty", "--no-stream", "--edit-format", "whole",
        "--no-show-release-notes", "--no-detect-urls",
        *files,
    ]  # fmt: skip
    done = subprocess.run(
        command, cwd=workdir, env=env, capture_output=True, text=True, timeout=SESSION_TIMEOUT_S, check=False
    )
    return Session(done.returncode, done.stdout, done.stderr)
