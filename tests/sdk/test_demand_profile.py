"""The day profile of a window's demand (spec 9.8): time split by hour of day, and the turns it expects."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from rolemodel.demand_profile import DAY_MS, HOUR_MS, count_turn, expected_turns, hour_of_day, ms_by_hour_of_day

INSTANTS = st.integers(min_value=-10 * DAY_MS, max_value=10 * DAY_MS)


@given(INSTANTS, st.integers(min_value=0, max_value=9 * DAY_MS))
def test_the_hours_of_a_span_add_up_to_the_span(start_ms: int, length_ms: int) -> None:
    spans = ms_by_hour_of_day(start_ms, start_ms + length_ms)
    assert sum(spans) == length_ms
    assert max(spans) - min(spans) <= HOUR_MS  # a span covers every hour of the day about evenly


@given(INSTANTS)
def test_an_instant_falls_in_the_hour_that_a_one_ms_span_there_reports(at_ms: int) -> None:
    spans = ms_by_hour_of_day(at_ms, at_ms + 1)
    assert spans.index(1) == hour_of_day(at_ms)


@given(st.lists(st.integers(min_value=0, max_value=23), min_size=1, max_size=30), st.integers(min_value=1, max_value=5))
def test_a_steady_daily_rhythm_is_expected_to_repeat(busy_hours: list[int], days: int) -> None:
    """Turns at the same hours every day: the days ahead are expected to bring exactly as many."""
    profile: tuple[int, ...] = ()
    for day in range(days):
        for hour in busy_hours:
            profile = count_turn(profile, day * DAY_MS + hour * HOUR_MS)
    expected = expected_turns(profile, 0, days * DAY_MS, (days + 2) * DAY_MS)
    assert expected is not None
    assert abs(expected - 2 * len(busy_hours)) < 1e-9


def test_nothing_is_expected_of_hours_that_have_had_no_turns() -> None:
    profile = count_turn((), 9 * HOUR_MS)  # one turn at 09:00 on day 0
    assert expected_turns(profile, 0, DAY_MS + 12 * HOUR_MS, 2 * DAY_MS) == 0  # the evening ahead is idle
    assert expected_turns(profile, 0, DAY_MS - 1, 2 * DAY_MS) is None  # not a whole day watched yet
