"""The normative latency model (spec 6.6): time to first token depends on what is cached.

On a local server the price of a turn is time, and time is dominated by the
prompt tokens the server must process before its first token (prefill). A
32B model that prefills 400 tokens a second needs about 95 s for 38,000 cold
tokens and a fraction of a second when they are cached, so a router that
scores latency must count the uncached tokens, not a fixed time to first
token. This module is that arithmetic, shared by routers, the conformance
suite and the published vectors (spec/vectors/latency.json).

    prefill(n, c) = 1000 * n / prefill_speed * (1 + (c + n / 2) / half_speed_depth)
    ttft  = base + prefill(U, C)                 (the prefill term is 0 when the speed is unknown)
    total = ttft + 1000 * O / output_speed + prefill(E, 0)

where U is the turn's uncached prompt tokens, C the cached tokens before
them, O its expected output tokens and E the tokens of other conversations
the choice would evict from the endpoint's cache (spec 7.7), which they will
prefill again from the start. Attention makes each prompt token cost time in
proportion to the tokens before it, so prefill slows with the depth of the
context: the token at position i takes (1 + i / half_speed_depth) /
prefill_speed seconds, and n tokens after c take the sum, n times the cost
of the middle one. A half-speed depth of 0 is unknown: prefill runs at one
speed, as before the depth was declared.
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
    prefill_depth_tokens: int = 0
    prefill_half_speed_depth_tokens: int = 0

    @property
    def total_ms(self) -> float:
        return self.ttft_ms + self.output_ms + self.eviction_ms


def depth_factor(tokens: int, depth_tokens: int, half_speed_depth_tokens: int) -> float:
    """How much slower ``tokens`` new tokens after ``depth_tokens`` cached ones run than at the start of a context.

    The cost of the middle token, ``1 + (depth + tokens / 2) / half_speed_depth``; 1 when the
    half-speed depth is unknown (0).
    """
    if half_speed_depth_tokens <= 0:
        return 1.0
    return 1.0 + (depth_tokens + tokens / 2.0) / half_speed_depth_tokens


def prefill_ms(tokens: int, tokens_per_second: float, depth_tokens: int = 0, half_speed_depth_tokens: int = 0) -> float:
    """Milliseconds to process ``tokens`` uncached prompt tokens after ``depth_tokens`` cached ones.

    ``tokens_per_second`` is the speed at the start of a context; 0 (unknown) gives 0.
    """
    if tokens_per_second <= 0:
        return 0.0
    return 1000.0 * tokens / tokens_per_second * depth_factor(tokens, depth_tokens, half_speed_depth_tokens)


def start_speed_sample(tokens_per_second: float, tokens: int, depth_tokens: int, half_speed_depth_tokens: int) -> float:
    """A speed measured over ``tokens`` tokens after ``depth_tokens`` cached ones, as the speed at the start (spec 9.5).

    A server reports how fast it prefilled this prompt at its depth; the router keeps the speed
    at the start of a context, so that turns at any depth can be predicted from it.
    """
    return tokens_per_second * depth_factor(tokens, depth_tokens, half_speed_depth_tokens)


def estimate(
    *,
    base_ms: float,
    prefill_tokens: int,
    prefill_tokens_per_second: float,
    output_tokens: int,
    output_tokens_per_second: float,
    evicted_tokens: int = 0,
    cached_tokens: int = 0,
    half_speed_depth_tokens: int = 0,
) -> LatencyEstimate:
    """The expected time of one turn on one endpoint (spec 6.6.1); ``cached_tokens`` precede the prefill."""
    depth = cached_tokens if half_speed_depth_tokens > 0 else 0
    prefill = prefill_ms(prefill_tokens, prefill_tokens_per_second, depth, half_speed_depth_tokens)
    return LatencyEstimate(
        prefill_tokens=prefill_tokens,
        base_ms=base_ms,
        prefill_tokens_per_second=prefill_tokens_per_second,
        prefill_ms=prefill,
        ttft_ms=base_ms + prefill,
        output_ms=1000.0 * output_tokens / output_tokens_per_second if output_tokens_per_second > 0 else 0.0,
        eviction_ms=prefill_ms(evicted_tokens, prefill_tokens_per_second, 0, half_speed_depth_tokens),
        prefill_depth_tokens=depth,
        prefill_half_speed_depth_tokens=max(0, half_speed_depth_tokens),
    )


def base_latency_sample(
    ttft_ms: float,
    uncached_tokens: int,
    prefill_tokens_per_second: float,
    cached_tokens: int = 0,
    half_speed_depth_tokens: int = 0,
) -> float:
    """What one outcome says about the latency before prefill: its TTFT less the prefill of its uncached tokens.

    The speed is the start speed, slowed by the depth; pass a half-speed depth of 0 with a speed
    the server measured over this very prompt. Floored at 0: a server that prefilled faster than
    the speed on record must not push the base latency below nothing.
    """
    return max(
        0.0, ttft_ms - prefill_ms(uncached_tokens, prefill_tokens_per_second, cached_tokens, half_speed_depth_tokens)
    )


#: Depth midpoints must spread at least this far (their standard deviation, in tokens) before
#: outcomes tell how prefill slows with depth (spec 9.5).
MIN_DEPTH_SPREAD_TOKENS = 256
#: Decayed means of (m, t, m * m, m * t) over outcomes: m the depth of the middle prefilled token,
#: t the milliseconds per prefilled token.
PrefillMoments = tuple[float, float, float, float]


def fold_prefill_moments(
    moments: PrefillMoments | None, tokens: int, depth_tokens: int, tokens_per_second: float
) -> PrefillMoments:
    """The decayed moments after one outcome that prefilled ``tokens`` after ``depth_tokens`` cached ones (spec 9.5)."""
    m = depth_tokens + tokens / 2.0
    t = 1000.0 / tokens_per_second
    sample = (m, t, m * m, m * t)
    if moments is None:
        return sample
    return (
        moments[0] + DECAY * (sample[0] - moments[0]),
        moments[1] + DECAY * (sample[1] - moments[1]),
        moments[2] + DECAY * (sample[2] - moments[2]),
        moments[3] + DECAY * (sample[3] - moments[3]),
    )


def fitted_half_speed_depth(moments: PrefillMoments | None) -> int:
    """The half-speed depth the outcomes show: the least-squares line t = a + b * m, a / b tokens; 0 when unknown.

    Unknown until the depths spread by ``MIN_DEPTH_SPREAD_TOKENS``, and when the line does not
    slow down with depth (b <= 0) or starts at no cost (a <= 0): noise, not a slowdown.
    """
    if moments is None:
        return 0
    m, t, mm, mt = moments
    spread = mm - m * m
    if spread < MIN_DEPTH_SPREAD_TOKENS**2:
        return 0
    b = (mt - m * t) / spread
    a = t - b * m
    return round(a / b) if a > 0 and b > 0 else 0


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
