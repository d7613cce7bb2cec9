"""The fold from events to what the read API shows: costs, baselines, joins and bounds."""

from __future__ import annotations

from typing import Any

import pytest

from rolemodel.cost import cacheable_tokens, turn_cost
from rolemodel_router.config.catalog_loader import default_catalog_path, load_catalog
from rolemodel_router.dashboard.events import Event
from rolemodel_router.dashboard.forecast import quotas_json
from rolemodel_router.dashboard.timeline import timeline
from rolemodel_router.dashboard.view import ActivityView
from rolemodel_router.engine.catalog_index import CatalogIndex

INDEX = CatalogIndex(load_catalog(default_catalog_path()))
T0 = 1_800_000_000_000


def decision(n: int, **fields: Any) -> Event:
    event: Event = {
        "kind": "decision",
        "id": f"d{n:04d}",
        "at_ms": T0 + n * 1000,
        "conversation": "c1",
        "turn": n,
        "role": "code.plan",
        "endpoint": "gpt-5",
        "fallbacks": [],
        "difficulty": 0.5,
        "difficulty_source": "ESTIMATED",
        "prompt_tokens": 10_000 + n * 100,
        "cached_predicted": 0,
        "output_estimate": 500,
        "estimated_picos": 1_000_000,
        "side_request": False,
        "escalation_level": 0,
        "handoff": "START",
        "reasons": [{"code": "STRATEGY_BEST", "detail": "scores best"}],
        "premium_endpoint": "claude-opus-4-5",
        "cheapest_endpoint": "deepseek-chat",
        "share": None,
        "caches": {},
        "quotas": [],
    }
    event.update(fields)
    return event


def outcome(decision_id: str, *, outcome_class: str = "SUCCESS", output: int = 400, picos: int = 700_000) -> Event:
    has_usage = output > 0
    return {
        "kind": "outcome",
        "decision": decision_id,
        "at_ms": T0,
        "served": "gpt-5",
        "class": outcome_class,
        "usage": {
            "input_tokens": 10_000 if has_usage else 0,
            "cache_read_tokens": 8_000 if has_usage else 0,
            "cache_write_tokens": 0,
            "output_tokens": output,
        },
        "has_usage": has_usage,
        "reported_picos": picos if has_usage else 0,
        "ttft_ms": 120,
        "escalation_level": 0,
        "quotas": [],
    }


def test_the_premium_baseline_keeps_its_own_cache_across_turns() -> None:
    view = ActivityView(INDEX)
    view.fold([decision(0), decision(1)])
    opus = INDEX.endpoints["claude-opus-4-5"].economics
    first, second = view.ring
    assert first["premium_picos"] == turn_cost(opus, 10_000, 0, 500).total_picos
    held = 10_000 + (500 if opus.includes_output else 0)
    cached = cacheable_tokens(opus, min(held, 10_100))
    assert cached > 0
    assert second["premium_picos"] == turn_cost(opus, 10_100, cached, 500).total_picos


def test_a_pause_past_the_ttl_makes_the_baseline_cold_again() -> None:
    opus = INDEX.endpoints["claude-opus-4-5"].economics
    view = ActivityView(INDEX)
    late = decision(1, at_ms=T0 + opus.ttl_seconds * 1000 + 1)
    view.fold([decision(0), late])
    assert view.ring[1]["premium_picos"] == turn_cost(opus, 10_100, 0, 500).total_picos


def test_an_outcome_replaces_the_estimate_and_the_totals_follow() -> None:
    view = ActivityView(INDEX)
    view.fold([decision(0)])
    before = view.rev
    view.fold([outcome("d0000")])
    record = view.ring[0]
    assert record["cost_picos"] == 700_000
    assert record["rev"] > before
    assert view.totals["cost_picos"] == 700_000
    assert view.totals["reported_cache_read_tokens"] == 8_000
    assert sum(h["cost_picos"] for h in view.hours.values()) == 700_000
    # The verdict a client sends after Execute's outcome carries no usage: the cost stays.
    view.fold([outcome("d0000", outcome_class="TASK_FAILED", output=0)])
    assert record["cost_picos"] == 700_000
    assert record["outcome"]["class"] == "TASK_FAILED"
    assert view.totals["failures"] == 1


def test_a_failure_without_usage_cost_nothing() -> None:
    view = ActivityView(INDEX)
    view.fold([decision(0), outcome("d0000", outcome_class="SERVER_ERROR", output=0)])
    assert view.ring[0]["cost_picos"] == 0
    assert view.totals["cost_picos"] == 0


def test_an_outcome_that_arrives_before_its_decision_waits_for_it() -> None:
    view = ActivityView(INDEX)
    view.fold([outcome("d0000"), decision(0)])
    assert view.ring[0]["cost_picos"] == 700_000
    assert not view.orphans


def test_a_decision_delivered_twice_is_counted_once() -> None:
    view = ActivityView(INDEX)
    view.fold([decision(0), decision(0)])
    assert view.totals["decisions"] == 1


def test_memory_stays_bounded() -> None:
    view = ActivityView(INDEX, max_decisions=50, max_conversations=5)
    view.fold([decision(n, conversation=f"c{n % 9}") for n in range(400)])
    assert len(view.ring) == len(view.by_id) == 50
    assert len(view.previous_turns) <= 50
    assert len(view.conversations) == 5
    assert sum(len(s.turns) for s in view.conversations.values()) <= 50
    assert view.totals["decisions"] == 400


def test_filters_and_revisions() -> None:
    view = ActivityView(INDEX)
    view.fold([decision(0), decision(1, role="chore", endpoint="deepseek-chat", conversation="c2")])
    items, more = view.decisions(role="chore")
    assert [d["id"] for d in items] == ["d0001"] and not more
    items, more = view.decisions(endpoint="gpt-5", conversation="c1")
    assert [d["id"] for d in items] == ["d0000"]
    view.fold([outcome("d0000")])
    items, _ = view.decisions(after=2)
    assert [d["id"] for d in items] == ["d0000"]
    items, more = view.decisions(limit=1)
    assert [d["id"] for d in items] == ["d0001"] and more


def test_the_timeline_runs_the_totals_and_reads_the_caches() -> None:
    ttl_ms = INDEX.endpoints["gpt-5"].economics.ttl_seconds * 1000
    view = ActivityView(INDEX)
    view.fold(
        [
            decision(0),
            decision(1, caches={"gpt-5": {"held": 10_000, "expires_at_ms": T0 + 1000 + ttl_ms}}),
            decision(2, caches={"gpt-5": {"held": 10_100, "expires_at_ms": T0 + 2000 + ttl_ms // 10}}),
        ]
    )
    summary = view.conversation("c1")
    assert summary is not None
    shown = timeline(view, summary)
    assert [t["cache_states"]["gpt-5"] for t in shown["turns"]] == ["cold", "warm", "expiring"]
    assert shown["turns"][-1]["cumulative_cost_picos"] == 3_000_000
    assert shown["turns"][-1]["cumulative_premium_picos"] == sum(t["premium_picos"] for t in view.ring)


@pytest.mark.parametrize(("used", "lasts"), [(10, True), (200, False)])
def test_a_fixed_window_forecast(used: int, lasts: bool) -> None:
    quota_id = next(q for q, quota in INDEX.quotas.items() if quota.quota.max_requests)
    quota = INDEX.quotas[quota_id].quota
    window_ms = quota.window_seconds * 1000
    state = {
        "quota_id": quota_id,
        "endpoint": quota.endpoint_id,
        "window_kind": "FIXED",
        "window_seconds": quota.window_seconds,
        "limit": {"requests": quota.max_requests, "tokens": 0, "cost_picos": 0},
        "used": {"requests": used, "tokens": 0, "cost_picos": 0},
        "resets_at_ms": T0 + window_ms // 2,
        "at_ms": T0,
        "first_seen_ms": T0,
    }
    (row,) = [r for r in quotas_json(INDEX, {quota_id: state}, T0) if r["quota_id"] == quota_id]
    (forecast,) = row["forecast"]
    assert forecast["projected_at_reset"] == pytest.approx(used * 2)
    assert forecast["lasts"] is (used * 2 <= quota.max_requests)
    assert forecast["lasts"] is lasts
    assert (forecast["runs_out_at_ms"] is None) is lasts
