"""The suite's scripted backends: set up from the fixture, honest when they cannot run, gone after the run."""

from __future__ import annotations

import os
import socket
from pathlib import Path

from rolemodel.v1 import common_pb2
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


def test_the_responses_endpoint_is_served_on_the_openai_port_and_in_no_role_but_its_own() -> None:
    """Spec 14.9: the Responses checks' endpoint changes no other role's candidates (or those checks' expectations)."""
    fixture = load_fixture()
    assert fixture.endpoints["fx-responses"].connection.api_dialect == common_pb2.API_DIALECT_OPENAI_RESPONSES
    assert "fixture-responses" in setup_document(fixture, "127.0.0.1:18082")["models"]
    naming = [r.name for r in fixture.catalog.roles for rung in r.ladder if "fx-responses" in rung.endpoint_ids]
    assert naming == ["x-conformance.responses"]
    assert list(fixture.roles["x-conformance.responses"].ladder[0].endpoint_ids) == ["fx-responses"]


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
        first, taken, third = reference.backend_ports
        squatter.bind(("127.0.0.1", taken))
        squatter.listen(1)
        done = run_suite(*reference.target_args, "--requirement", "RM-EXEC-01*", "--report-dir", str(tmp_path))
    assert done.returncode == 1
    verdicts = {r["id"]: r for r in load_report(tmp_path)["requirements"]}
    assert {v["status"] for v in verdicts.values()} == {"NOT_TESTABLE"}
    assert f"127.0.0.1:{taken}" in verdicts["RM-EXEC-010"]["summary"]
    assert all(_port_is_free(p) for p in (first, third))


def test_the_backends_answer_and_stop_with_the_run(reference: Router, tmp_path: Path) -> None:
    done = run_suite(*reference.target_args, "--requirement", "RM-EXEC-002", "--report-dir", str(tmp_path))
    assert done.returncode == 0, done.stdout[-3000:]
    assert all(_port_is_free(p) for p in reference.backend_ports)


def test_moved_backend_ports_move_every_endpoint_and_nothing_else() -> None:
    moved = load_fixture((28083, 28081, 28082))
    original = load_fixture()
    assert {h.port for h in homes(moved).values()} == {28081, 28082, 28083}
    shift = {18081: 28083, 18082: 28081, 18083: 28082}
    for endpoint_id, home in homes(original).items():
        assert homes(moved)[endpoint_id].port == shift[home.port]
    for ours, theirs in zip(moved.catalog.endpoints, original.catalog.endpoints, strict=True):
        ours_copy, theirs_copy = type(ours)(), type(theirs)()
        ours_copy.CopyFrom(ours)
        theirs_copy.CopyFrom(theirs)
        ours_copy.connection.ClearField("base_url")
        theirs_copy.connection.ClearField("base_url")
        assert ours_copy == theirs_copy


def test_print_fixture_writes_the_catalog_for_the_ports_and_refuses_bad_ones() -> None:
    printed = run_suite("--print-fixture", "--backend-ports", "29081,29082,29083")
    assert printed.returncode == 0
    assert "127.0.0.1:29083" in printed.stdout and "1808" not in printed.stdout
    assert run_suite("--print-fixture").stdout == (ROOT / "conformance" / "fixtures" / "catalog.yaml").read_text()
    for bad in ("29081,29082", "29081,29081,29082", "1,2,70000", "a,b,c"):
        refused = run_suite("--print-fixture", "--backend-ports", bad)
        assert refused.returncode == 2
        assert "--backend-ports" in refused.stderr and "Traceback" not in refused.stderr


def test_a_router_started_without_the_test_key_is_told_how_to_start(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k not in (API_KEY_ENV, UNSET_KEY_ENV)}
    with running_router(env=env) as router:
        done = run_suite(*router.target_args, "--requirement", "RM-EXEC-020", "--report-dir", str(tmp_path))
    assert done.returncode == 1
    verdict = load_report(tmp_path)["requirements"][0]
    assert verdict["status"] == "NOT_TESTABLE"
    assert f"{API_KEY_ENV}={API_KEY}" in verdict["summary"]
    # The fix comes first and whole, above the table whose cells cut it.
    first = " ".join(done.stdout.split()).split("Fix first: ", 1)[1]
    assert first.startswith(f"the router was started without {API_KEY_ENV}, so Execute skips fx-opus")
    assert f"{API_KEY_ENV}={API_KEY} (a test value; see docs/conformance.md)" in first.split("Requirements")[0]
