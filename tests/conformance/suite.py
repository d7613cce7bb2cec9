"""Run ``rolemodel-conformance`` the way users do: as a command, in a subprocess."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

from tests.conformance.routers import ROOT

#: A whole run against the reference router takes well under a minute; a filtered one a few seconds.
RUN_TIMEOUT_S = 240.0


def run_suite(*args: str) -> subprocess.CompletedProcess[str]:
    """The command's exit code and output; the command is ``python -m rolemodel_conformance.cli``."""
    return subprocess.run(
        [sys.executable, "-m", "rolemodel_conformance.cli", *args],
        capture_output=True,
        text=True,
        timeout=RUN_TIMEOUT_S,
        cwd=ROOT,
        check=False,
    )


def load_report(directory: Path) -> dict[str, Any]:
    document: dict[str, Any] = json.loads((directory / "report.json").read_text())
    return document


def statuses(document: dict[str, Any]) -> dict[str, str]:
    return {r["id"]: r["status"] for r in document["requirements"]}
