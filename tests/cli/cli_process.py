"""Run the CLIs as a user does, in a process of their own, and hold their mistakes to one line and an exit code."""

from __future__ import annotations

import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

ROUTER_CLI = [sys.executable, "-m", "rolemodel_router.cli.main"]
SUITE_CLI = [sys.executable, "-m", "rolemodel_conformance.cli"]


@dataclass(frozen=True)
class Finished:
    code: int
    stdout: str
    stderr: str

    def one_line(self) -> str:
        """The single line a mistake is reported with; fails on a traceback or on more than one line."""
        assert "Traceback" not in self.stderr, self.stderr
        lines = [line for line in self.stderr.splitlines() if line.strip()]
        assert len(lines) == 1, self.stderr
        return lines[0]


def run(command: list[str], *args: str, cwd: Path | None = None, timeout: float = 60) -> Finished:
    done = subprocess.run([*command, *args], capture_output=True, text=True, timeout=timeout, check=False, cwd=cwd)
    return Finished(done.returncode, done.stdout, done.stderr)


def rolemodel(*args: str, cwd: Path | None = None, timeout: float = 60) -> Finished:
    return run(ROUTER_CLI, *args, cwd=cwd, timeout=timeout)
