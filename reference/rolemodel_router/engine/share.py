"""The premium-share controller (spec 9.7).

It keeps the difficulties of a role's recent main turns and sets the top
tier's threshold at the (1 - s*) quantile of them, so that the hardest
requests get the premium model, plus a slow integral term that removes the
drift between the realised share and the target.

The window keeps its premium count and its difficulties in order as it moves (``ShareState``), so
a decision reads the realised share and the quantile in constant and logarithmic time instead of
counting and sorting up to ``window_requests`` turns.
"""

from __future__ import annotations

import bisect
import math

from rolemodel_router.engine.catalog_index import ShareTarget
from rolemodel_router.engine.quota import Window
from rolemodel_router.state.model import ShareState

WARM_UP = 10
GAIN = 0.02
INTEGRAL_LIMIT = 0.5
#: Turns needed to estimate an arrival rate.
MIN_RATE_SAMPLES = 2


def realized_share(state: ShareState) -> float:
    if not state.window:
        return 0.0
    return state.premium_count / len(state.window)


def arrival_rate(state: ShareState) -> float | None:
    """The role's main turns per ms over the controller's window; None until it can be told."""
    if len(state.window) < MIN_RATE_SAMPLES:
        return None
    first, last = state.window[0][2], state.window[-1][2]
    if last <= first:
        return None
    return (len(state.window) - 1) / (last - first)


def paced_target(target: ShareTarget, state: ShareState, window: Window | None, remaining: int, now_ms: int) -> float:
    """s* that makes a quota last: remaining / expected requests before the window frees capacity."""
    rate_per_ms = arrival_rate(state)
    if window is None or rate_per_ms is None:
        return target.target_share
    expected = rate_per_ms * max(0, window.resets_at_ms - now_ms)
    if expected <= 0:
        return 1.0
    return min(1.0, max(0.0, remaining / expected))


def threshold(state: ShareState, target_share: float, top_min_difficulty: float | None) -> float:
    values = state.sorted_difficulties
    if len(values) < WARM_UP:
        return top_min_difficulty if top_min_difficulty is not None else 1.0 - target_share
    rank = math.ceil((1.0 - target_share) * len(values))
    quantile = values[min(len(values) - 1, max(0, rank - 1))]
    return min(1.0, max(0.0, quantile + state.integral))


def record(
    state: ShareState, target: ShareTarget, target_share: float, difficulty: float, premium: bool, now_ms: int
) -> ShareState:
    grown = (*state.window, (difficulty, premium, now_ms))
    evicted = grown[: max(0, len(grown) - target.window_requests)]
    window = grown[len(evicted) :]
    count = state.premium_count + premium - sum(1 for _, went, _ in evicted if went)
    values = list(state.sorted_difficulties)
    bisect.insort(values, difficulty)
    for old, _, _ in evicted:
        del values[bisect.bisect_left(values, old)]
    error = (count / len(window) if window else 0.0) - target_share
    integral = min(INTEGRAL_LIMIT, max(-INTEGRAL_LIMIT, state.integral + GAIN * error))
    return ShareState(window=window, integral=integral, premium_count=count, sorted_difficulties=tuple(values))
