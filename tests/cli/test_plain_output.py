"""What the demo and `rolemodel route` print is readable by someone who has never heard of the project."""

from __future__ import annotations

import re
import signal
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from rolemodel_router.cli.render import command_name
from tests.cli.cli_process import ROUTER_CLI, rolemodel
from tests.router.harness import EXAMPLE, RouterProcess


def _rows(table_text: str) -> list[list[str]]:
    return [
        [cell.strip() for cell in line.split("│")[1:-1]] for line in table_text.splitlines() if line.startswith("│")
    ]


def test_route_lists_candidates_best_first_and_says_what_the_horizon_is() -> None:
    with RouterProcess(catalog=EXAMPLE) as router:
        done = rolemodel("route", "--target", router.address, "--role", "chat", "--text", "hello", "--dry-run")
    assert done.code == 0, done.stderr
    table = done.stdout.split("Candidates", 1)[1].split("Handoff", 1)[0]
    ranks = [row[0] for row in _rows(table) if len(row) == 8]
    ranked = [int(r) for r in ranks if r]
    assert ranked == sorted(ranked) and ranked[0] == 1
    assert ranks.index("") == len(ranked), "every ranked candidate comes before the excluded ones"
    assert "H=" not in done.stdout
    horizon = re.search(r"next (\d+) turns", done.stdout)
    assert horizon is not None
    assert f"next {horizon.group(1)} turns: this turn plus the following ones" in " ".join(done.stdout.split())
    assert "normative estimate" not in done.stdout and "was spread over the rest" not in done.stdout


def test_serve_names_the_resolved_database_and_on_every_interface_a_loopback_to_connect_to(tmp_path: Path) -> None:
    (tmp_path / "state").mkdir()
    command = [*ROUTER_CLI, "serve", "--state", "sqlite:///state/router.db", "--no-ui"]
    command += ["--listen", "0.0.0.0:0", "--http", "0.0.0.0:0"]
    with subprocess.Popen(
        command, cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True
    ) as router:
        watchdog = threading.Timer(60, router.kill)  # a router that never gets to the hint ends the read
        watchdog.start()
        lines: list[str] = []
        try:
            assert router.stdout is not None
            for line in router.stdout:
                lines.append(line.strip())
                if line.startswith("Ask for your own"):
                    break
        finally:
            watchdog.cancel()
            router.send_signal(signal.SIGTERM)
        assert router.wait(timeout=30) == 0
    serving, front_door, hint = lines[0], lines[1], lines[-1]
    assert f"state SQLite {tmp_path}/state/router.db)" in serving
    port = serving.split("serving on 0.0.0.0:", 1)[1].split()[0]
    http_port = front_door.split("HTTP front door on http://0.0.0.0:", 1)[1].split()[0]
    assert f"(OpenAI base URL http://127.0.0.1:{http_port}/v1, Anthropic base URL http://127.0.0.1:{http_port})" in (
        front_door
    )
    assert hint.startswith(f"Ask for your own: {command_name()} route --target 127.0.0.1:{port} ")
    assert "A sample decision" in " ".join(lines), "the sample reached the router at that address"


def test_the_demo_says_why_a_fallback_turn_shows_another_endpoints_reasons() -> None:
    done = rolemodel("demo", "--once", "--ui", "", "--listen", "127.0.0.1:0", timeout=120)
    assert done.code == 0, done.stderr
    text = " ".join(done.stdout.split())
    assert "✗ gpt-5 failed before its first token; the router tries claude-opus-4-5 next" in text
    assert "the router chose gpt-5; claude-opus-4-5 answered on attempt 2, as a fallback. Why it chose gpt-5:" in text
    assert "if all on claude-opus-4-5: what each turn would have cost on the most expensive model" in text
    assert "H=" not in text


@pytest.mark.parametrize(
    ("argv0", "expected"),
    [
        (str(Path(".venv") / "bin" / "rolemodel"), str(Path(".venv") / "bin" / "rolemodel")),
        (str(Path("reference") / "rolemodel_router" / "cli" / "main.py"), "rolemodel"),
    ],
)
def test_hints_name_the_rolemodel_the_user_ran(monkeypatch: pytest.MonkeyPatch, argv0: str, expected: str) -> None:
    monkeypatch.setattr(sys, "argv", [argv0])
    monkeypatch.setenv("PATH", "")
    assert command_name() == expected
