"""The same checks through pytest: ``pytest --rolemodel-target HOST:PORT`` in a directory of its own."""

from __future__ import annotations

import subprocess
import sys
import xml.etree.ElementTree as ET
from importlib import metadata
from pathlib import Path

from tests.conformance.routers import Router
from tests.conformance.test_cli import unused_port

PLUGIN = "rolemodel_conformance.pytest_plugin"


def _plugin_args() -> list[str]:
    """Load the plugin explicitly unless the pytest11 entry point already does."""
    installed = any(e.value == PLUGIN for e in metadata.entry_points(group="pytest11"))
    return [] if installed else ["-p", PLUGIN]


def run_pytest(directory: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "pytest", *_plugin_args(), "-p", "no:cacheprovider", "--rootdir", str(directory), *args],
        capture_output=True,
        text=True,
        timeout=180,
        cwd=directory,
        check=False,
    )


def test_each_requirement_is_a_test_item_with_its_verdict(reference: Router, tmp_path: Path) -> None:
    junit_file = tmp_path / "junit.xml"
    done = run_pytest(
        tmp_path,
        "--rolemodel-target",
        reference.address,
        "--rolemodel-backend-ports",
        ",".join(str(p) for p in reference.backend_ports),
        "--rolemodel-requirement",
        "RM-CARD-*",
        "--rolemodel-requirement",
        "RM-AUTH-00*",
        "--rolemodel-report-dir",
        str(tmp_path / "reports"),
        f"--junitxml={junit_file}",
        "-rA",
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "7 passed, 4 skipped" in done.stdout
    assert "PASSED ::RM-CARD-001" in done.stdout
    root = ET.parse(junit_file).getroot()  # noqa: S314 - pytest's own output
    found = {p.get("value") for p in root.iter("property") if p.get("name") == "requirement"}
    auth = {"RM-AUTH-001", "RM-AUTH-002", "RM-AUTH-003", "RM-AUTH-005"}  # RM-AUTH-004 is out of scope
    assert found == {f"RM-CARD-00{i}" for i in range(1, 8)} | auth
    assert (tmp_path / "reports" / "report.json").exists()


def test_an_unreachable_router_fails_every_item(tmp_path: Path) -> None:
    done = run_pytest(
        tmp_path,
        "--rolemodel-target",
        f"127.0.0.1:{unused_port()}",
        "--rolemodel-wait",
        "1",
        "--rolemodel-requirement",
        "RM-CORE-00*",
    )
    assert done.returncode == 1
    assert "3 failed" in done.stdout
    assert "no verdict" in done.stdout


def test_without_a_target_the_plugin_adds_nothing(tmp_path: Path) -> None:
    (tmp_path / "test_plain.py").write_text("def test_plain() -> None:\n    assert 1 + 1 == 2\n")
    done = run_pytest(tmp_path)
    assert done.returncode == 0, done.stdout
    assert "1 passed" in done.stdout
