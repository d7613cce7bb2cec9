"""The agent-difficulty benchmark labels mistake turns as it says and reports every figure it promises."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from bench.agent_difficulty import auc, is_mistake, main

EXPECTED = {"name": "cancel_reservation", "kwargs": {"reservation_id": "ABC123"}}


def call(name: str, arguments: dict[str, Any], call_id: str) -> dict[str, Any]:
    function = {"name": name, "arguments": json.dumps(arguments)}
    return {
        "role": "assistant",
        "content": None,
        "tool_calls": [{"id": call_id, "type": "function", "function": function}],
    }


def conversation(reward: float, reservation: str) -> dict[str, Any]:
    return {
        "reward": reward,
        "info": {"task": {"actions": [EXPECTED]}},
        "traj": [
            {"role": "system", "content": "You are an airline agent."},
            {"role": "user", "content": "Cancel my booking ABC123, please."},
            call("get_reservation_details", {"reservation_id": reservation}, "c1"),
            {"role": "tool", "tool_call_id": "c1", "content": "Error: reservation not found"},
            call("cancel_reservation", {"reservation_id": reservation}, "c2"),
            {"role": "tool", "tool_call_id": "c2", "content": "{}"},
            {"role": "assistant", "content": "Done."},
        ],
    }


def test_only_unexpected_database_changes_are_mistakes() -> None:
    expected = {json.dumps(EXPECTED, sort_keys=True)}
    assert not is_mistake(call("cancel_reservation", {"reservation_id": "ABC123"}, "c"), expected)
    assert is_mistake(call("cancel_reservation", {"reservation_id": "XYZ"}, "c"), expected)
    assert not is_mistake(call("get_reservation_details", {"reservation_id": "XYZ"}, "c"), expected)


def test_auc_counts_ties_as_half() -> None:
    assert auc([2.0, 3.0], [1.0]) == 1.0
    assert auc([1.0], [1.0]) == 0.5
    assert auc([0.0], [1.0, 2.0]) == 0.0


def test_a_run_on_a_small_file_reports_every_router(tmp_path: Path) -> None:
    traces = tmp_path / "traces.json"
    traces.write_text(json.dumps([conversation(1.0, "ABC123"), conversation(0.0, "XYZ")]), encoding="utf-8")
    out = tmp_path / "agent.json"
    assert main(["--traces", str(traces), "--json", str(out), "--share", "0.5"]) == 0
    report = json.loads(out.read_text(encoding="utf-8"))
    assert report["summary"]["mistake_turns"] == 1
    assert report["summary"]["turns"] == 6
    routers = report["routers"]
    assert {"prompt length", "random", "heuristic 0.1 (before)"} <= set(routers)
    for name in ("heuristic 0.2", "heuristic 0.1 (before)"):
        assert {"premium_share", "hardest_turns_premium", "recall_at_share", "auc"} <= set(routers[name])
    assert "premium_share" not in routers["prompt length"]


def test_a_missing_file_measures_nothing(tmp_path: Path) -> None:
    assert main(["--traces", str(tmp_path / "absent.json")]) == 0
