"""Every mutant router fails the suite, and the failure names the requirement the mutant violates.

A mutant is the reference router with one violation injected (catalogue.py).
The suite runs in-process against the mutant's real process, filtered to the
requirements that can see it; the run must end with exit code 1 and a failing
verdict (FAIL, or NOT_TESTABLE or ERROR, which also count as failures) for the
violated requirement.
"""

from __future__ import annotations

import shlex
from collections.abc import Iterator
from pathlib import Path

import pytest

from rolemodel_conformance.connect import TransportOptions
from rolemodel_conformance.model import Status
from rolemodel_conformance.runner import RunOptions, RunReport, run
from tests.conformance.routers import free_ports, running_router, serve_command
from tests.mutants.all_mutants import MUTANTS
from tests.side_by_side import SideBySide, selected_keys, side_by_side

FAILING = {Status.FAIL, Status.NOT_TESTABLE, Status.ERROR}
#: How long the suite waits for a mutant to report SERVING; mutants start side by side, so allow for a busy machine.
WAIT_S = 60.0


def test_there_are_at_least_fifteen_mutants_each_naming_a_requirement() -> None:
    from rolemodel_conformance.registry import requirements

    assert len(MUTANTS) >= 15
    assert all(m.expect in requirements() for m in MUTANTS.values())


def _harness_options(name: str) -> RunOptions:
    """The suite starts the mutant itself, on a state directory it can restart it on (``{state}``)."""
    serve = [*serve_command(name), "serve", "--catalog", "{catalog}", "--listen", "{address}"]
    serve += ["--state", "sqlite:///{state}/router.db", "--no-sample", "--grace", "2"]
    a, b, c = free_ports(3)
    return RunOptions(
        TransportOptions("unused"),
        requirement_globs=MUTANTS[name].run,
        wait_s=WAIT_S,
        backend_ports=(a, b, c),
        router_command=shlex.join(serve),
    )


def _tokens(folder: Path) -> tuple[tuple[str, ...], Path, Path]:
    """Two principals for a tenancy mutant: the suite's token and a chat-only one."""
    (folder / "tokens.yaml").write_text(
        "tokens:\n  - {name: suite, token: mutant-suite-token-0001}\n"
        "  - {name: chat-only, token: mutant-chat-token-0002, roles: [chat]}\n"
    )
    (folder / "token").write_text("mutant-suite-token-0001")
    (folder / "scoped").write_text("mutant-chat-token-0002")
    return ("--tokens-file", str(folder / "tokens.yaml")), folder / "token", folder / "scoped"


def _suite_against(name: str, scratch: Path) -> RunReport:
    """The suite, filtered to what can see the mutant, against the mutant's own process."""
    mutant = MUTANTS[name]
    if mutant.durable:
        return run(_harness_options(name))
    serve, token, scoped = _tokens(scratch) if mutant.tokens else ((), None, None)
    with running_router(mutant=name, extra=(*mutant.serve, *serve)) as router:
        options = RunOptions(
            TransportOptions(router.address, token_file=token, scoped_token_file=scoped),
            requirement_globs=mutant.run,
            wait_s=WAIT_S,
            backend_ports=router.backend_ports,
        )
        return run(options)


@pytest.fixture(scope="module")
def reports(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[SideBySide[str, RunReport]]:
    """The selected mutants' runs, a few at once (tests/side_by_side.py says why)."""
    names = selected_keys(request, "test_the_suite_catches_the_mutant", "name")
    tmp_path_factory.getbasetemp()  # made here, once: threads that make it together can fail (pytest's own race)
    with side_by_side(names, lambda name: _suite_against(name, tmp_path_factory.mktemp(name))) as pending:
        yield pending


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(MUTANTS))
def test_the_suite_catches_the_mutant(name: str, reports: SideBySide[str, RunReport]) -> None:
    mutant = MUTANTS[name]
    report = reports.result(name)
    assert report.harness_error is None, report.harness_error
    verdicts = {v.id: v for v in report.verdicts}
    assert mutant.expect in verdicts, f"{mutant.expect} was not scored"
    caught = verdicts[mutant.expect]
    # A broken SHOULD is a WARN, which does not fail the run; a broken MUST fails it.
    wanted = FAILING | ({Status.WARN} if caught.level == "SHOULD" else set())
    assert caught.status in wanted, f"{name} ({mutant.violation}) was not caught: {caught.status} {caught.summary}"
    if caught.level == "MUST":
        assert report.exit_code == 1
