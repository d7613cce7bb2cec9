"""`rolemodel serve --ui`: mistakes are one line and exit code 2, never a traceback."""

from __future__ import annotations

import subprocess
import sys

import httpx
import pytest

from tests.router.harness import RouterProcess


def serve(*args: str) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "rolemodel_router.cli.main", "serve", "--state", "memory:", "--no-sample"]
    command += ["--listen", "127.0.0.1:0", *args]
    return subprocess.run(command, check=False, capture_output=True, text=True, timeout=60)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--ui", "no-port-here"], "--ui 'no-port-here': expected HOST:PORT"),
        (["--ui", "127.0.0.1:0", "--no-ui"], "--ui and --no-ui contradict each other"),
    ],
)
def test_a_bad_ui_option_is_one_line_and_exit_2(args: list[str], message: str) -> None:
    finished = serve(*args)
    assert finished.returncode == 2
    assert message in finished.stderr
    assert "Traceback" not in finished.stderr


def test_a_taken_ui_port_names_the_option() -> None:
    with RouterProcess("memory:", extra=["--ui", "127.0.0.1:0"]) as first:
        taken = first.ui_url.removeprefix("http://").removesuffix("/ui/")
        finished = serve("--ui", taken)
    assert finished.returncode == 2
    assert f"cannot listen on {taken} (--ui): address already in use" in finished.stderr
    assert "Traceback" not in finished.stderr


def test_no_ui_keeps_the_dashboard_off_the_front_door() -> None:
    with RouterProcess("memory:", extra=["--http", "127.0.0.1:0", "--no-ui"]) as router:
        assert router.ui_url == ""
        assert httpx.get(f"{router.http_url}/ui/api/v1/overview", timeout=10).status_code == 404
