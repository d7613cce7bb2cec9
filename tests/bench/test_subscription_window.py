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
