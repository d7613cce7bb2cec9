"""The suite as a pytest plugin: ``pytest --rolemodel-target HOST:PORT``.

One test item per requirement of the registry that the selection keeps (the
same ``--rolemodel-level`` and ``--rolemodel-requirement`` as the command).
The suite runs once, when the first item runs, exactly as the command would;
each item then reports its requirement's verdict:

* PASS passes; SKIP skips, with the reason;
* FAIL, NOT_TESTABLE and ERROR fail, and so does every item when the run has
  no verdict (unreachable router, unusable card): a plugin that cannot reach
  the router must never look green;
* WARN and a listed expected failure are xfail; a stale expected failure fails.

Items carry the marker ``rolemodel`` and the property ``requirement``, so
``-m rolemodel`` selects them and ``--junitxml`` records the id.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from rolemodel_conformance.connect import HarnessError, TransportOptions
from rolemodel_conformance.expected_failures import load as load_expected_failures
from rolemodel_conformance.fixture import DEFAULT_BACKEND_PORTS, parse_backend_ports
from rolemodel_conformance.model import RequirementVerdict, Status
from rolemodel_conformance.registry import Requirement, out_of_scope, requirements
from rolemodel_conformance.report import json_report, junit
from rolemodel_conformance.runner import RunOptions, RunReport, run
from rolemodel_conformance.selection import LEVELS, matches

REPORT_KEY = pytest.StashKey[RunReport]()
MARKER = "rolemodel"


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("rolemodel-conformance", "rolemodel.v1 conformance suite")
    group.addoption("--rolemodel-target", metavar="HOST:PORT", help="run the conformance suite against this router")
    group.addoption("--rolemodel-tls", action="store_true", help="connect with TLS")
    group.addoption("--rolemodel-ca-file", type=Path, help="CA bundle (PEM) of the router's certificate")
    group.addoption("--rolemodel-token-file", type=Path, help="file holding the bearer token")
    group.addoption("--rolemodel-scoped-token-file", type=Path, help="file holding a token limited to the role chat")
    group.addoption("--rolemodel-spec-version", default="1.0", help="protocol version to test")
    group.addoption("--rolemodel-level", choices=sorted(LEVELS), default="all", help="levels to score")
    group.addoption(
        "--rolemodel-requirement", action="append", default=[], metavar="GLOB", help="requirement ids to score"
    )
    group.addoption("--rolemodel-expected-failures", type=Path, help="requirement ids known to fail")
    group.addoption("--rolemodel-report-dir", type=Path, help="also write report.json and junit.xml here")
    group.addoption("--rolemodel-wait", type=float, default=30.0, help="seconds to wait for the router to serve")
    group.addoption(
        "--rolemodel-backend-ports",
        metavar="A,B,C",
        default=",".join(str(p) for p in DEFAULT_BACKEND_PORTS),
        help="loopback ports of the scripted model backends (the router's catalog must name the same)",
    )


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", f"{MARKER}: a requirement verdict of the rolemodel.v1 conformance suite")


def _options(config: pytest.Config) -> RunOptions:
    expected_file: Path | None = config.getoption("rolemodel_expected_failures")
    return RunOptions(
        transport=TransportOptions(
            config.getoption("rolemodel_target"),
            config.getoption("rolemodel_tls"),
            config.getoption("rolemodel_ca_file"),
            config.getoption("rolemodel_token_file"),
            config.getoption("rolemodel_scoped_token_file"),
        ),
        spec_version=config.getoption("rolemodel_spec_version"),
        level=config.getoption("rolemodel_level"),
        requirement_globs=tuple(config.getoption("rolemodel_requirement")),
        expected_failures=load_expected_failures(expected_file) if expected_file else frozenset(),
        wait_s=config.getoption("rolemodel_wait"),
        backend_ports=_backend_ports(config.getoption("rolemodel_backend_ports")),
    )


def _backend_ports(text: str) -> tuple[int, int, int]:
    try:
        return parse_backend_ports(text)
    except ValueError as error:
        raise HarnessError(str(error)) from None


def _report(config: pytest.Config) -> RunReport:
    """Run the suite once per session, on first use."""
    if REPORT_KEY not in config.stash:
        report = run(_options(config))
        directory: Path | None = config.getoption("rolemodel_report_dir")
        if directory is not None:
            directory.mkdir(parents=True, exist_ok=True)
            json_report.write(report, directory)
            junit.write(report, directory)
        config.stash[REPORT_KEY] = report
    return config.stash[REPORT_KEY]


class RequirementItem(pytest.Item):
    """The verdict of one requirement."""

    def __init__(self, *, requirement: Requirement, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.requirement = requirement
        self.add_marker(MARKER)
        self.user_properties.append(("requirement", requirement.id))

    def runtest(self) -> None:
        report = _report(self.config)
        if report.harness_error is not None:
            pytest.fail(f"no verdict: {report.harness_error}", pytrace=False)
        found = next((v for v in report.verdicts if v.id == self.requirement.id), None)
        if found is None:
            pytest.fail("the run did not score this requirement", pytrace=False)
        self._judge(found)

    def _judge(self, verdict: RequirementVerdict) -> None:
        text = f"{verdict.status.value}: {verdict.summary}"
        if verdict.stale_expected_failure:
            pytest.fail(f"stale expected failure: {self.requirement.id} now passes", pytrace=False)
        if verdict.expected_failure or verdict.status == Status.WARN:
            pytest.xfail(text)
        if verdict.status == Status.SKIP:
            pytest.skip(text)
        if verdict.status != Status.PASS:
            pytest.fail(text, pytrace=False)

    def reportinfo(self) -> tuple[Path, int, str]:
        return self.path, 0, f"{self.requirement.id} [{self.requirement.level}] {self.requirement.text}"


def pytest_collection_modifyitems(session: pytest.Session, config: pytest.Config, items: list[pytest.Item]) -> None:
    if not config.getoption("rolemodel_target"):
        return
    try:
        _options(config)
    except HarnessError as error:
        raise pytest.UsageError(str(error)) from None
    levels = LEVELS[config.getoption("rolemodel_level")]
    globs = tuple(config.getoption("rolemodel_requirement"))
    excluded = out_of_scope()
    items.extend(
        RequirementItem.from_parent(session, name=r.id, requirement=r)
        for r in requirements().values()
        if r.level in levels and matches(r.id, globs) and r.id not in excluded
    )
