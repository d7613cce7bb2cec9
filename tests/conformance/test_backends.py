"""The suite's scripted backends: set up from the fixture, honest when they cannot run, gone after the run."""

from __future__ import annotations

import os
import socket
from pathlib import Path

from rolemodel_conformance.backends import API_KEY, API_KEY_ENV, UNSET_KEY_ENV, homes, setup_document
from rolemodel_conformance.fixture import load_fixture
from tests.conformance.routers import ROOT, Router, running_router
from tests.conformance.suite import load_report, run_suite


def test_each_port_serves_its_endpoints_models_with_their_caches_and_the_key_where_named() -> None:
    fixture = load_fixture()
    by_port = {(h.port, h.model) for h in homes(fixture).values()}
    assert {port for port, _ in by_port} == {18081, 18082, 18083}
    assert (18083, "fixture-opus") in by_port and (18081, "fixture-local-small") in by_port
    anthropic = setup_document(fixture, "127.0.0.1:18083")
    assert anthropic["api_key"] == API_KEY
    assert set(anthropic["models"]) == {"fixture-opus", "fixture-subscription"}
    assert anthropic["models"]["fixture-opus"]["cache"] == {
        "mode": "explicit",
        "min_tokens": 1024,
        "granularity": 1,
        "ttl_seconds": 300.0,
        "refresh_on_hit": True,
        "includes_output": False,
    }
    openai = setup_document(fixture, "127.0.0.1:18082")
    assert "api_key" not in openai
    assert openai["models"]["fixture-deepseek"]["context_window_tokens"] == 131072
    local = setup_document(fixture, "127.0.0.1:18081")
    assert local["models"]["fixture-local-small"]["cache"] == {"mode": "none"}
    assert {e.connection.api_key_env for e in fixture.catalog.endpoints} == {"", API_KEY_ENV, UNSET_KEY_ENV}


def test_the_guide_gives_the_key_the_backends_require() -> None:
    guide = (ROOT / "docs" / "conformance.md").read_text()
    assert f"{API_KEY_ENV}={API_KEY}" in guide
    assert UNSET_KEY_ENV in guide


def _port_is_free(port: int) -> bool:
    """Nothing listens on the port (it may still hold connections in TIME_WAIT)."""
    try:
        socket.create_connection(("127.0.0.1", port), timeout=1).close()
    except OSError:
        return True
    return False


def test_a_taken_port_makes_the_execute_checks_not_testable_never_passing(reference: Router, tmp_path: Path) -> None:
    with socket.socket() as squatter:
        squatter.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        squatter.bind(("127.0.0.1", 18082))
        squatter.listen(1)
        done = run_suite("--target", reference.address, "--requirement", "RM-EXEC-01*", "--report-dir", str(tmp_path))
    assert done.returncode == 1
    verdicts = {r["id"]: r for r in load_report(tmp_path)["requirements"]}
    assert {v["status"] for v in verdicts.values()} == {"NOT_TESTABLE"}
    assert "127.0.0.1:18082" in verdicts["RM-EXEC-010"]["summary"]
    assert all(_port_is_free(p) for p in (18081, 18083))


def test_the_backends_answer_and_stop_with_the_run(reference: Router, tmp_path: Path) -> None:
    done = run_suite("--target", reference.address, "--requirement", "RM-EXEC-002", "--report-dir", str(tmp_path))
    assert done.returncode == 0, done.stdout[-3000:]
    assert all(_port_is_free(p) for p in (18081, 18082, 18083))


def test_a_router_started_without_the_test_key_is_told_how_to_start(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k not in (API_KEY_ENV, UNSET_KEY_ENV)}
    with running_router(env=env) as router:
        done = run_suite("--target", router.address, "--requirement", "RM-EXEC-020", "--report-dir", str(tmp_path))
    assert done.returncode == 1
    verdict = load_report(tmp_path)["requirements"][0]
    assert verdict["status"] == "NOT_TESTABLE"
    assert f"{API_KEY_ENV}={API_KEY}" in verdict["summary"]
