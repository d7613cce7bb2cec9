"""The replay benchmark's claim, kept honest on a slice of the traces: caches make the router cheaper."""

from __future__ import annotations

import pytest

from bench.replay_traces import DEFAULT_DATA, TRACES, compare, load, schedule

SOURCE = DEFAULT_DATA / TRACES


@pytest.mark.skipif(not SOURCE.exists(), reason="the shared tau-bench traces are absent")
@pytest.mark.parametrize("pauses", [False, True])
def test_at_the_same_premium_share_the_router_costs_less_than_a_cache_oblivious_one(pauses: bool) -> None:
    conversations = load(SOURCE)[:60]
    policies = compare(conversations, schedule(conversations, pauses=pauses), target=0.3)
    router, oblivious = policies["router"], policies["oblivious"]
    assert router["premium_share"] == oblivious["premium_share"]
    assert abs(router["premium_share"] - 0.3) < 0.05
    assert router["cost_usd"] < oblivious["cost_usd"]
    assert router["cache_hit_ratio"] > oblivious["cache_hit_ratio"]
    assert router["switches"] < oblivious["switches"]
    assert policies["always_cheap"]["cost_usd"] < router["cost_usd"] < policies["always_premium"]["cost_usd"]
