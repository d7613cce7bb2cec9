"""The latency model (spec 6.6.1 and 9.5): prefill grows with the uncached prompt; base latency excludes it."""

from __future__ import annotations

import pytest

from rolemodel import latency


def test_the_issue_example_reads_as_people_say_it() -> None:
    cold = latency.estimate(
        base_ms=0, prefill_tokens=38_000, prefill_tokens_per_second=400, output_tokens=0, output_tokens_per_second=0
    )
    warm = latency.estimate(
        base_ms=350, prefill_tokens=112, prefill_tokens_per_second=2_800, output_tokens=0, output_tokens_per_second=0
    )
    assert latency.describe_seconds(cold.ttft_ms) == "95 s"
    assert latency.describe_seconds(warm.ttft_ms) == "0.4 s"
    assert latency.describe_seconds(400_000) == "6.7 min"


def test_an_unknown_speed_adds_no_time() -> None:
    estimate = latency.estimate(
        base_ms=120, prefill_tokens=9_000, prefill_tokens_per_second=0, output_tokens=500, output_tokens_per_second=0
    )
    assert (estimate.ttft_ms, estimate.output_ms, estimate.total_ms) == (120, 0, 120)


def test_the_base_latency_sample_subtracts_the_prefill_and_never_goes_below_zero() -> None:
    assert latency.base_latency_sample(1_500, 4_000, 3_000) == pytest.approx(1_500 - 4_000 / 3)
    assert latency.base_latency_sample(100, 40_000, 1_000) == 0.0
    assert latency.base_latency_sample(100, 40_000, 0) == 100


def test_the_decayed_average_starts_at_the_first_sample() -> None:
    assert latency.decayed(None, 10.0) == 10.0
    assert latency.decayed(10.0, 20.0) == pytest.approx(12.0)


def test_prefill_slows_with_the_depth_of_the_context() -> None:
    # The token at position i costs (1 + i / 1,250) / 250 s: 250 tokens after 6,125 cost 6 times their start cost.
    assert latency.depth_factor(250, 6_125, 1_250) == 6.0
    assert latency.prefill_ms(250, 250, 6_125, 1_250) == 6_000.0
    assert latency.prefill_ms(250, 250, 6_125, 0) == 1_000.0  # no half-speed depth: one speed
    assert latency.start_speed_sample(50.0, 250, 6_125, 1_250) == 300.0
    assert latency.base_latency_sample(6_500, 250, 250, 6_125, 1_250) == 500.0


def test_outcomes_at_spread_depths_show_the_half_speed_depth() -> None:
    # Points on t = 2.5 + 0.0025 * m ms per token: 400 tokens/s at the start, half speed 1,000 deep.
    moments = latency.fold_prefill_moments(None, 500, 0, 1000 / (2.5 + 0.0025 * 250))
    assert latency.fitted_half_speed_depth(moments) == 0  # one depth shows no slope
    moments = latency.fold_prefill_moments(moments, 250, 4_000, 1000 / (2.5 + 0.0025 * 4_125))
    assert latency.fitted_half_speed_depth(moments) == 1_000
    close = latency.fold_prefill_moments(None, 500, 0, 200.0)
    assert latency.fitted_half_speed_depth(latency.fold_prefill_moments(close, 500, 100, 150.0)) == 0  # too close
    faster = latency.fold_prefill_moments(None, 500, 0, 200.0)
    assert latency.fitted_half_speed_depth(latency.fold_prefill_moments(faster, 500, 4_000, 300.0)) == 0  # no slowdown
