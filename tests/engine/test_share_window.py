"""The premium-share window carried forward turn by turn says what counting and sorting it afresh says."""

from __future__ import annotations

import math

from hypothesis import given
from hypothesis import strategies as st

from rolemodel_router.engine import share
from rolemodel_router.engine.catalog_index import ShareTarget
from rolemodel_router.state.model import ShareState

TURNS = st.lists(
    st.tuples(st.sampled_from([0.0, 0.25, 0.5, 1.0]) | st.floats(min_value=0.0, max_value=1.0), st.booleans()),
    max_size=80,
)


def share_afresh(state: ShareState) -> float:
    return sum(1 for _, premium, _ in state.window if premium) / len(state.window) if state.window else 0.0


def threshold_afresh(state: ShareState, target_share: float) -> float:
    values = sorted(d for d, _, _ in state.window)
    if len(values) < share.WARM_UP:
        return 1.0 - target_share
    rank = math.ceil((1.0 - target_share) * len(values))
    return min(1.0, max(0.0, values[min(len(values) - 1, max(0, rank - 1))] + state.integral))


@given(TURNS, st.integers(min_value=1, max_value=30), st.floats(min_value=0.0, max_value=1.0))
def test_the_running_window_matches_a_fresh_count_and_sort(
    turns: list[tuple[float, bool]], size: int, target_share: float
) -> None:
    target = ShareTarget(target_share, size, "")
    state = ShareState()
    integral = 0.0
    for at, (difficulty, premium) in enumerate(turns):
        state = share.record(state, target, target_share, difficulty, premium, at)
        loaded = ShareState(window=state.window, integral=state.integral)  # as a store loads it
        assert state.premium_count == loaded.premium_count
        assert state.sorted_difficulties == loaded.sorted_difficulties
        assert len(state.window) == min(at + 1, size)
        assert share.realized_share(state) == share_afresh(state)
        assert share.threshold(state, target_share, None) == threshold_afresh(state, target_share)
        integral = min(
            share.INTEGRAL_LIMIT,
            max(-share.INTEGRAL_LIMIT, integral + share.GAIN * (share_afresh(state) - target_share)),
        )
        assert state.integral == integral


def test_a_smaller_window_drops_every_turn_beyond_it() -> None:
    state = ShareState()
    for at in range(10):
        state = share.record(state, ShareTarget(0.5, 10, ""), 0.5, at / 10, at % 2 == 0, at)
    state = share.record(state, ShareTarget(0.5, 3, ""), 0.5, 0.95, True, 10)
    assert [d for d, _, _ in state.window] == [0.8, 0.9, 0.95]
    assert state.sorted_difficulties == (0.8, 0.9, 0.95)
    assert state.premium_count == 2  # turn 8 and the new one
