"""The harness mode (--router-command): the suite starts the router itself and checks start-up on bad catalogs."""

from __future__ import annotations

import shlex
import sys
from pathlib import Path

import pytest

from tests.conformance.routers import free_ports, moved_fixture
from tests.conformance.suite import load_report, run_suite, statuses

START_UP = {"RM-CAT-001", "RM-CAT-002", "RM-CAT-003", "RM-CAT-004", "RM-CAT-005", "RM-CAT-006", "RM-CAT-009"}
SERVE = f"{shlex.quote(sys.executable)} -m rolemodel_router.cli.main serve --state memory: --no-sample"


def _ports() -> str:
    return ",".join(str(p) for p in free_ports(3))


@pytest.mark.slow
def test_the_reference_router_refuses_every_broken_catalog_and_serves_the_fixture(tmp_path: Path) -> None:
    command = f"{SERVE} --catalog {{catalog}} --listen {{address}}"
    done = run_suite(
        "--router-command", command, "--backend-ports", _ports(), "--requirement", "RM-CAT-*",
        "--requirement", "RM-CORE-001", "--report-dir", str(tmp_path),
    )  # fmt: skip
    assert done.returncode == 0, done.stdout[-3000:]
    found = statuses(load_report(tmp_path))
    assert {rid for rid, status in found.items() if status == "PASS"} == {*START_UP, "RM-CORE-001"}


@pytest.mark.slow
def test_a_router_that_starts_on_any_catalog_fails_every_start_up_requirement(tmp_path: Path) -> None:
    """This 'router' ignores the catalog it is given and always loads the good fixture."""
    fixture, ports = moved_fixture(tmp_path)
    lenient = f"env IGNORED={{catalog}} {SERVE} --catalog {shlex.quote(str(fixture))} --listen {{address}}"
    done = run_suite(
        "--router-command", lenient, "--backend-ports", ",".join(str(p) for p in ports),
        "--requirement", "RM-CAT-*", "--report-dir", str(tmp_path / "reports"),
    )  # fmt: skip
    assert done.returncode == 1
    found = statuses(load_report(tmp_path / "reports"))
    assert {rid for rid, status in found.items() if status == "FAIL"} == START_UP - {"RM-CAT-006"}
    assert found["RM-CAT-006"] == "WARN"


DURABLE = "--catalog {catalog} --listen {address} --state sqlite:///{state}/router.db --no-sample"
RESTARTS = {"RM-ROUTE-010", "RM-OUT-008"}


@pytest.mark.slow
def test_decisions_and_outcomes_survive_a_restart_of_the_reference_router_on_sqlite(tmp_path: Path) -> None:
    command = f"{shlex.quote(sys.executable)} -m rolemodel_router.cli.main serve {DURABLE}"
    done = run_suite(
        "--router-command", command, "--backend-ports", _ports(), "--requirement", "RM-ROUTE-010",
        "--requirement", "RM-OUT-008", "--report-dir", str(tmp_path),
    )  # fmt: skip
    assert done.returncode == 0, done.stdout[-3000:]
    found = statuses(load_report(tmp_path))
    assert {found[rid] for rid in RESTARTS} == {"PASS"}


def test_restarts_are_skipped_without_the_state_placeholder_with_the_reason() -> None:
    from rolemodel_conformance.selection import NEEDS_RESTART
    from rolemodel_conformance.selection import RESTARTS as SUITE_RESTARTS

    assert SUITE_RESTARTS == RESTARTS
    assert "{state}" in NEEDS_RESTART


def test_target_mode_skips_start_up_with_the_reason() -> None:
    from rolemodel_conformance.selection import NEEDS_LAUNCHER
    from rolemodel_conformance.selection import START_UP as SUITE_START_UP

    assert SUITE_START_UP == START_UP
    assert "--router-command" in NEEDS_LAUNCHER


@pytest.mark.parametrize(
    "args",
    [
        ("--router-command", "my-router --listen {address}"),
        ("--router-command", "my-router --catalog {catalog} --listen {address}", "--target", "127.0.0.1:1"),
        ("--router-command", "no-such-program-anywhere --catalog {catalog} --listen {address}", "--wait", "1"),
    ],
)
def test_harness_mistakes_are_one_line_and_exit_2(args: tuple[str, ...]) -> None:
    done = run_suite(*args)
    assert done.returncode == 2
    assert "Traceback" not in done.stderr + done.stdout
