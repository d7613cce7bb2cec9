"""The normative latency model (spec 6.6): time to first token depends on what is cached.

On a local server the price of a turn is time, and time is dominated by the
prompt tokens the server must process before its first token (prefill). A
32B model that prefills 400 tokens a second needs about 95 s for 38,000 cold
tokens and a fraction of a second when they are cached, so a router that
scores latency must count the uncached tokens, not a fixed time to first
token. This module is that arithmetic, shared by routers, the conformance
suite and the published vectors (spec/vectors/latency.json).

    ttft  = base + 1000 * U / prefill_speed      (the prefill term is 0 when the speed is unknown)
    total = ttft + 1000 * O / output_speed + 1000 * E / prefill_speed

where U is the turn's uncached prompt tokens, O its expected output tokens
and E the tokens of other conversations the choice would evict from the
endpoint's cache (spec 7.7), which they will prefill again.
"""

from __future__ import annotations

from dataclasses import dataclass

#: A decayed average moves this far towards each new sample (spec 9.5).
DECAY = 0.2
#: Durations below this many seconds are told to a tenth of a second; from the next, in minutes.
TENTHS_BELOW_S = 10
MINUTES_FROM_S = 180


@dataclass(frozen=True)
class LatencyEstimate:
    """One candidate's expected time, in milliseconds, in the field order of rolemodel.v1.LatencyEstimate."""

    prefill_tokens: int
    base_ms: float
    prefill_tokens_per_second: float
    prefill_ms: float
    ttft_ms: float
    output_ms: float
    eviction_ms: float

    @property
    def total_ms(self) -> float:
        return self.ttft_ms + self.output_ms + self.eviction_ms


def prefill_ms(tokens: int, tokens_per_second: float) -> float:
    """Milliseconds to process ``tokens`` uncached prompt tokens; 0 when the speed is unknown (0)."""
    return 1000.0 * tokens / tokens_per_second if tokens_per_second > 0 else 0.0


def estimate(
    *,
    base_ms: float,
    prefill_tokens: int,
    prefill_tokens_per_second: float,
    output_tokens: int,
    output_tokens_per_second: float,
    evicted_tokens: int = 0,
) -> LatencyEstimate:
    """The expected time of one turn on one endpoint (spec 6.6)."""
    prefill = prefill_ms(prefill_tokens, prefill_tokens_per_second)
    return LatencyEstimate(
        prefill_tokens=prefill_tokens,
        base_ms=base_ms,
        prefill_tokens_per_second=prefill_tokens_per_second,
        prefill_ms=prefill,
        ttft_ms=base_ms + prefill,
        output_ms=1000.0 * output_tokens / output_tokens_per_second if output_tokens_per_second > 0 else 0.0,
        eviction_ms=prefill_ms(evicted_tokens, prefill_tokens_per_second),
    )


def base_latency_sample(ttft_ms: float, uncached_tokens: int, prefill_tokens_per_second: float) -> float:
    """What one outcome says about the latency before prefill: its TTFT less the prefill of its uncached tokens.

    Floored at 0: a server that prefilled faster than the speed on record must not
    push the base latency below nothing.
    """
    return max(0.0, ttft_ms - prefill_ms(uncached_tokens, prefill_tokens_per_second))


def decayed(previous: float | None, sample: float) -> float:
    """The exponentially decayed average of spec 9.5, started at the first sample."""
    return sample if previous is None else previous + DECAY * (sample - previous)


def describe_seconds(ms: float) -> str:
    """A duration as people say it: "0.4 s", "12 s", "95 s", "3.2 min"."""
    seconds = ms / 1000.0
    if seconds < TENTHS_BELOW_S:
        return f"{seconds:.1f} s"
    if seconds < MINUTES_FROM_S:
        return f"{seconds:.0f} s"
    return f"{seconds / 60:.1f} min"
