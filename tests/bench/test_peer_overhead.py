"""The peer benchmark runs end to end on a few requests, and without LiteLLM says how to add it."""

from __future__ import annotations

import argparse
from pathlib import Path

import pytest

from bench import peer_overhead

KEYS = {"c1_ttft_p50_ms", "c1_ttft_p99_ms", "c1_rps", "c16_rps", "c16_ttft_p50_ms"}


def test_without_litellm_it_measures_direct_the_bare_relay_and_the_front_door(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(peer_overhead, "LITELLM_BIN", Path("/nonexistent/litellm"))
    said: list[str] = []
    args = argparse.Namespace(c1_requests=3, c16_requests=16, warmup=1, rounds=1)
    results = peer_overhead.measure(args, said.append)
    assert len(said) == 1
    assert "LiteLLM is not set up" in said[0]
    assert peer_overhead.LITELLM_SETUP in said[0]
    assert results["litellm"] is None
    for path in ("direct", "relay", "rolemodel"):
        assert set(results[path]) >= KEYS
        assert results[path]["c1_requests"] == 3
        assert results[path]["c16_requests"] == 16
        assert 0 < results[path]["c1_ttft_p50_ms"] <= results[path]["c1_ttft_p99_ms"]
        assert results[path]["c16_server_cpu_ms_per_request"] > 0
    ratios = results["ratios"]
    added = results["rolemodel"]["c1_ttft_p50_ms"] - results["direct"]["c1_ttft_p50_ms"]
    assert ratios["rolemodel_added_ttft_p50_ms"] == round(added, 3)
    assert "litellm_added_ttft_p50_ms" not in ratios
    relay_added = results["relay"]["c1_ttft_p50_ms"] - results["direct"]["c1_ttft_p50_ms"]
    assert ratios["relay_added_ttft_p50_ms"] == round(relay_added, 3)
    assert ratios["rolemodel_c16_throughput_over_relay"] > 0


def test_the_prompt_is_about_two_thousand_tokens() -> None:
    assert 1900 <= peer_overhead.prompt_tokens() <= 2100
