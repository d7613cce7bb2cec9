"""Start-up, restarts, crashes and shutdown of a real router process."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
from pathlib import Path

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc

from rolemodel import RouterClient
from rolemodel.errors import NotFoundError
from rolemodel.v1 import common_pb2
from tests.requests import conversation, new_id, outcome, route
from tests.router.harness import EXAMPLE, FIXTURE, RouterProcess


def test_decisions_survive_a_restart_and_their_outcomes_still_work(sqlite_url: str) -> None:
    with RouterProcess(sqlite_url) as first, RouterClient(first.address) as client:
        decision = client.route(route("chore", conversation(new_id(), [500, 40])))
        assert first.stop() == 0
    with RouterProcess(sqlite_url) as second, RouterClient(second.address) as client:
        effects = client.report_outcome(
            outcome(decision.decision_id, decision.chosen_endpoint_id, common_pb2.OUTCOME_CLASS_TASK_FAILED)
        ).effects
        assert effects.escalation_level == 1


def test_a_memory_router_forgets_on_restart() -> None:
    with RouterProcess("memory:") as first, RouterClient(first.address) as client:
        decision = client.route(route("chore", conversation(new_id(), [500])))
    with RouterProcess("memory:") as second, RouterClient(second.address) as client, pytest.raises(NotFoundError):
        client.report_outcome(outcome(decision.decision_id, decision.chosen_endpoint_id))


def test_kill_9_loses_no_acknowledged_state(sqlite_url: str, tmp_path: Path) -> None:
    conv_id = new_id()
    with RouterProcess(sqlite_url) as first, RouterClient(first.address) as client:
        decisions = []
        for turn in range(5):
            d = client.route(route("chore", conversation(conv_id, [500] * (turn + 1), turn_index=turn)))
            client.report_outcome(outcome(d.decision_id, d.chosen_endpoint_id, common_pb2.OUTCOME_CLASS_TASK_FAILED))
            decisions.append(d)
        quota = [client.route(route("x-conformance.burst", conversation(new_id(), [10]))) for _ in range(4)]
        assert first.kill9() == -9
    db = sqlite3.connect(sqlite_url.removeprefix("sqlite:///"))
    assert db.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    stored = {row[0] for row in db.execute("SELECT id FROM decisions")}
    assert {d.decision_id for d in decisions + quota} <= stored
    assert db.execute("SELECT count(*) FROM outcomes").fetchone() == (5,)
    events = db.execute("SELECT count(*) FROM quota_events WHERE quota_id = 'fx-burst-window'").fetchone()
    assert events == (4,)
    db.close()
    with RouterProcess(sqlite_url) as second, RouterClient(second.address) as client:
        # Two TASK_FAILED outcomes capped the chore escalation at level 2; the rest kept it there.
        d = client.route(route("chore", conversation(conv_id, [500] * 6, turn_index=5), dry_run=True))
        assert d.policy.escalation_level == 2
        assert d.chosen_endpoint_id == "fx-gpt5"


def test_sigterm_drains_and_exits_zero() -> None:
    with RouterProcess() as router:
        with grpc.insecure_channel(router.address) as channel:
            reply = health_pb2_grpc.HealthStub(channel).Check(health_pb2.HealthCheckRequest(service=""))
            assert reply.status == health_pb2.HealthCheckResponse.SERVING
        assert router.stop() == 0


def test_an_invalid_catalog_is_refused_with_paths(tmp_path: Path) -> None:
    bad = tmp_path / "catalog.yaml"
    text = FIXTURE.read_text().replace("endpoint_ids: [fx-local]}", "endpoint_ids: [gpt-x]}", 1)
    bad.write_text(text.replace('input_per_mtok: "1.25"', 'input_per_mtok: "-1.25"'))
    result = subprocess.run(
        [sys.executable, "-m", "rolemodel_router.cli.main", "serve", "--catalog", str(bad), "--state", "memory:"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 2
    assert "endpoints[1].pricing.input_per_mtok: '-1.25' is not a price" in result.stderr
    bad.write_text(text)
    result = subprocess.run(
        [sys.executable, "-m", "rolemodel_router.cli.main", "check-catalog", str(bad)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 2
    assert "roles[0].ladder[0].endpoint_ids[0]: unknown endpoint 'gpt-x'" in result.stderr


def test_a_second_router_cannot_open_the_same_database(sqlite_url: str) -> None:
    with RouterProcess(sqlite_url), pytest.raises(RuntimeError, match="in use by another router"):
        RouterProcess(sqlite_url).start()


def test_a_symlink_to_the_database_meets_the_same_lock(sqlite_url: str, tmp_path: Path) -> None:
    """Two routers on one file through a symlink would both admit a quota's full limit."""
    link = tmp_path / "elsewhere" / "link.db"
    link.parent.mkdir()
    link.symlink_to(Path(sqlite_url.removeprefix("sqlite:///")))
    with RouterProcess(sqlite_url), pytest.raises(RuntimeError, match="in use by another router"):
        RouterProcess(f"sqlite:///{link}").start()


def test_cli_card_and_route_print_tables_and_json() -> None:
    with RouterProcess(catalog=EXAMPLE) as router:
        run = [sys.executable, "-m", "rolemodel_router.cli.main"]
        card = subprocess.run([*run, "card", "--target", router.address], capture_output=True, text=True, check=True)
        assert "claude-opus-4-5" in card.stdout and "code.edit" in card.stdout
        explained = subprocess.run(
            [
                *run,
                "route",
                "--target",
                router.address,
                "--role",
                "chore",
                "--text",
                "run the linters",
                "--difficulty",
                "0.2",
            ],
            capture_output=True,
            text=True,
            check=True,
        )
        assert "chore -> local-big" in explained.stdout and "Candidates" in explained.stdout
        as_json = subprocess.run(
            [
                *run,
                "route",
                "--target",
                router.address,
                "--role",
                "code.edit",
                "--tokens",
                "30000",
                "--difficulty",
                "0.1",
                "--json",
            ],
            capture_output=True,
            text=True,
            check=True,
        )
        decision = json.loads(as_json.stdout)
        assert decision["chosen_endpoint_id"] == "deepseek-chat"
        assert len(decision["candidates"]) == 7
        refused = subprocess.run(
            [*run, "route", "--target", router.address, "--role", "nope"], capture_output=True, text=True, check=False
        )
        assert refused.returncode == 1 and "UNKNOWN_ROLE" in refused.stderr
