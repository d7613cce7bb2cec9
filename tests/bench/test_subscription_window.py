"""The subscription benchmark's claims on its five-hour scenario: paced lasts to the reset, always-premium does not."""

from __future__ import annotations

import pytest

from bench.subscription_window import (
    DEFAULT_DATA,
    TRACES,
    AlwaysPremium,
    Paced,
    load,
    mean_weight,
    run,
    scenarios,
)

SOURCE = DEFAULT_DATA / TRACES


@pytest.mark.skipif(not SOURCE.exists(), reason="the shared tau-bench traces are absent")
def test_the_paced_router_lasts_the_window_and_spends_it_where_always_premium_runs_out() -> None:
    conversations = load(SOURCE)
    turns, week = scenarios(conversations)["5h"]
    per_turn = mean_weight(conversations)
    paced = run(turns, Paced(), per_turn, week)
    always = run(turns, AlwaysPremium(), per_turn, week)
    (paced_window,) = paced["windows"]["5h"]
    (always_window,) = always["windows"]["5h"]
    assert paced_window["ran_out_after_h"] is None
    assert paced_window["used"] >= 0.9
    assert always_window["ran_out_after_h"] is not None and always_window["ran_out_after_h"] < 4
    assert paced["hard_turns_on_premium"] > paced["premium_share"], "the hardest turns get the subscription"


@pytest.mark.skipif(not SOURCE.exists(), reason="the shared tau-bench traces are absent")
def test_over_a_week_of_working_days_the_paced_router_keeps_no_budget_for_the_nights() -> None:
    """The weekly window binds; its day profile expects nothing of the last night, so the week ends near its target."""
    conversations = load(SOURCE)
    turns, week = scenarios(conversations)["7d"]
    paced = run(turns, Paced(), mean_weight(conversations), week)
    (weekly,) = paced["windows"]["7d"]
    assert weekly["ran_out_after_h"] is None
    assert all(w["ran_out_after_h"] is None for w in paced["windows"]["5h"])
    assert weekly["used"] >= 0.9
