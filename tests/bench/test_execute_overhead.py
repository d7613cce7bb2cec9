"""The Execute benchmark runs end to end on a few requests and reports every figure it promises."""

from __future__ import annotations

from bench.execute_overhead import measure

KEYS = {"direct_ttft_p50_ms", "execute_ttft_p50_ms", "added_ttft_p50_ms", "direct_total_p50_ms", "execute_total_p50_ms"}


def test_a_short_run_measures_both_paths() -> None:
    results = measure(requests=4, warmup=1)
    assert set(results) >= KEYS
    assert results["added_ttft_p50_ms"] == round(results["execute_ttft_p50_ms"] - results["direct_ttft_p50_ms"], 3)
    assert 0 < results["direct_ttft_p50_ms"] <= results["direct_total_p50_ms"]
    assert 0 < results["execute_ttft_p50_ms"] <= results["execute_total_p50_ms"]
