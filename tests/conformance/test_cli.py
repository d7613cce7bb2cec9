"""The command against real routers: exit codes, reports, no verdict without a router, expected failures."""

from __future__ import annotations

import json
import socket
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from rolemodel_conformance.report.json_report import validate
from tests.conformance.routers import ROOT, Router, running_router
from tests.conformance.suite import load_report, run_suite, statuses


def unused_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def test_an_unreachable_router_gets_no_verdict_and_a_clear_message(tmp_path: Path) -> None:
    done = run_suite("--target", f"127.0.0.1:{unused_port()}", "--wait", "1", "--report-dir", str(tmp_path))
    assert done.returncode == 2
    assert "did not report SERVING" in done.stdout + done.stderr
    assert "Totals" not in done.stdout, "a table of zeros after 'No verdict' reads like a result"
    document = load_report(tmp_path)
    validate(document)
    assert document["outcome"] == "NO_VERDICT"
    assert document["summary"]["PASS"] == 0
    assert document["requirements"] == []
    suite = ET.parse(tmp_path / "junit.xml").getroot()  # noqa: S314 - the suite's own output
    assert suite.get("errors") == "1"
    assert suite.find("./testsuite/testcase/error") is not None


def test_a_filtered_run_passes_and_writes_both_reports(reference: Router, tmp_path: Path) -> None:
    done = run_suite(
        *reference.target_args,
        "--requirement",
        "RM-CARD-*",
        "--requirement",
        "RM-VER-*",
        "--report-dir",
        str(tmp_path),
    )
    assert done.returncode == 0, done.stdout + done.stderr
    document = load_report(tmp_path)
    validate(document)
    assert document["outcome"] == "PASS"
    assert set(statuses(document)) == {r for r in statuses(document) if r.startswith(("RM-CARD-", "RM-VER-"))}
    assert set(statuses(document).values()) == {"PASS"}
    assert {e["id"] for e in document["excluded"]} == {"RM-VER-001", "RM-VER-010", "RM-VER-011"}
    root = ET.parse(tmp_path / "junit.xml").getroot()  # noqa: S314 - the suite's own output
    cases = root.findall("./testsuite/testcase")
    assert len(cases) == len(document["requirements"]) == int(root.get("tests", "0"))
    for case in cases:
        requirement = case.find("./properties/property[@name='requirement']")
        assert requirement is not None
        assert case.get("name", "").startswith(requirement.get("value", "?") + " ")


def test_nothing_scored_means_no_verdict(reference: Router) -> None:
    assert run_suite(*reference.target_args, "--requirement", "RM-NOTHING-*").returncode == 2
    only_skipped = run_suite(*reference.target_args, "--requirement", "RM-AUTH-*")
    assert only_skipped.returncode == 2, only_skipped.stdout


def test_the_harness_refuses_what_it_cannot_honour(reference: Router, tmp_path: Path) -> None:
    version = run_suite(*reference.target_args, "--spec-version", "2.0")
    assert version.returncode == 2
    assert "2.0" in version.stderr + version.stdout
    token = tmp_path / "token"
    token.write_text("a-secret-token-of-some-length")
    plaintext = run_suite("--target", "192.0.2.1:443", "--token-file", str(token), "--wait", "1")
    assert plaintext.returncode == 2
    assert "without TLS" in plaintext.stdout + plaintext.stderr
    assert run_suite("--report-dir", str(tmp_path)).returncode == 2


def test_json_output_is_the_report(reference: Router) -> None:
    done = run_suite(*reference.target_args, "--requirement", "RM-CORE-*", "--json")
    assert done.returncode == 0
    document = json.loads(done.stdout)
    validate(document)
    assert statuses(document) == {"RM-CORE-001": "PASS", "RM-CORE-002": "PASS", "RM-CORE-003": "PASS"}


def test_vectors_mode_reproduces_every_published_vector() -> None:
    done = run_suite("--vectors")
    assert done.returncode == 0
    published = [*(ROOT / "spec" / "vectors").glob("*.json"), *(ROOT / "spec" / "vectors" / "handoff").glob("*.json")]
    count = sum(len(json.loads(p.read_text()).get("vectors", [])) for p in published if p.name != "vectors.schema.json")
    assert count >= 56
    assert f"{count} of {count} vectors reproduced" in done.stdout.replace("\n", " ")
    assert "handoff.tool-ids       handoff-201  ok" in done.stdout


def test_a_listed_failure_that_now_passes_fails_the_run_as_stale(reference: Router, tmp_path: Path) -> None:
    listed = tmp_path / "expected.txt"
    listed.write_text("RM-CARD-001  # fixed upstream, but still listed\n")
    done = run_suite(
        *reference.target_args,
        "--requirement",
        "RM-CARD-*",
        "--expected-failures",
        str(listed),
        "--report-dir",
        str(tmp_path),
    )
    assert done.returncode == 1
    document = load_report(tmp_path)
    assert document["expected_failures"]["stale"] == ["RM-CARD-001"]
    assert "stale" in done.stdout


def test_an_unknown_id_in_the_expected_failures_file_is_a_harness_error(reference: Router, tmp_path: Path) -> None:
    listed = tmp_path / "expected.txt"
    listed.write_text("RM-CARD-404\n")
    done = run_suite(*reference.target_args, "--expected-failures", str(listed))
    assert done.returncode == 2
    assert "RM-CARD-404" in done.stderr + done.stdout


@pytest.mark.slow
def test_a_listed_failure_is_excused(tmp_path: Path) -> None:
    listed = tmp_path / "expected.txt"
    listed.write_text("RM-VER-003\n")
    with running_router(mutant="accepts_unknown_version") as mutant:
        failing = run_suite(*mutant.target_args, "--requirement", "RM-VER-003")
        excused = run_suite(
            *mutant.target_args,
            "--requirement",
            "RM-VER-003",
            "--expected-failures",
            str(listed),
            "--report-dir",
            str(tmp_path),
        )
    assert failing.returncode == 1
    assert excused.returncode == 0, excused.stdout
    document = load_report(tmp_path)
    assert document["requirements"][0]["status"] == "FAIL"
    assert document["requirements"][0]["expected_failure"] is True


def test_a_router_without_the_fixture_is_not_judged_on_fixture_behaviour(tmp_path: Path) -> None:
    with running_router(catalog=ROOT / "examples" / "catalog.yaml") as other:
        done = run_suite(
            *other.target_args,
            "--requirement",
            "RM-CONF-002",
            "--requirement",
            "RM-ELIG-001",
            "--report-dir",
            str(tmp_path),
        )
    assert done.returncode == 1
    found = statuses(load_report(tmp_path))
    assert found == {"RM-ELIG-001": "NOT_TESTABLE", "RM-CONF-002": "FAIL"}
