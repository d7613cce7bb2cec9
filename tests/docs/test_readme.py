"""The README's promises: two quick-start commands, the test command CI runs, an embed example that runs."""

from __future__ import annotations

import contextlib
import io
import re
from pathlib import Path

from tests.router.harness import EXAMPLE, RouterProcess

ROOT = Path(__file__).resolve().parents[2]
README = (ROOT / "README.md").read_text()


def _section(title: str) -> str:
    start = README.index(f"## {title}\n")
    end = README.find("\n## ", start + 1)
    return README[start : end if end != -1 else None]


def _blocks(text: str, language: str) -> list[str]:
    return re.findall(rf"```{language}\n(.*?)```", text, flags=re.DOTALL)


def test_the_quick_start_holds_exactly_two_commands() -> None:
    commands = _blocks(_section("Quick start"), "sh")
    assert len(commands) == 2
    assert all(len(c.strip().splitlines()) == 1 for c in commands)
    main, tests = (c.strip() for c in commands)
    assert main.startswith("python3 -m venv .venv && ") and main.endswith("rolemodel demo")
    assert tests.startswith("python3 -m venv .venv && ") and tests.endswith("-m pytest")


def test_ci_runs_the_readme_test_command() -> None:
    tests = _blocks(_section("Quick start"), "sh")[1].strip()
    ci = (ROOT / ".ci" / "run").read_text().strip().splitlines()
    assert ci[-1] == tests


def test_the_embed_example_runs_against_a_router() -> None:
    (example,) = _blocks(README, "python")
    assert len(example.strip().splitlines()) <= 12
    with RouterProcess("memory:", catalog=EXAMPLE) as router:
        code = example.replace('"127.0.0.1:50051"', f'"{router.address}"')
        printed = io.StringIO()
        with contextlib.redirect_stdout(printed):
            exec(compile(code, "README.md", "exec"), {})  # noqa: S102 - the README's own example
    endpoint, _, reason = printed.getvalue().strip().partition(" - ")
    assert endpoint == "local-big"
    assert "scores best" in reason
