"""A user's demand by hour of the day, as one usage window has seen it (spec 9.8).

A developer works in a daily rhythm: busy hours, then an evening and a night with no turns at
all. A rate averaged over the window so far (idle hours included) is right on average but
wrong at the end of a long window: on the last evening of a week it still expects a night of
turns before the reset and keeps the subscription's budget for them, and the night never comes.
The profile counts the routable turns of each hour of the day (UTC) and the time the window
has spent in that hour, so each hour ahead is expected at the rate that hour has had: the
nights idle, the working hours busy.

What it cannot see is a rhythm longer than a day: a week's idle weekend is expected to be as
busy as the days the window has seen, until a later version keeps a profile across windows.
"""

from __future__ import annotations

from collections.abc import Sequence

HOUR_MS = 3_600_000
HOURS_PER_DAY = 24
DAY_MS = HOURS_PER_DAY * HOUR_MS


def hour_of_day(at_ms: int) -> int:
    """The hour of the day (UTC) of an instant in Unix ms: the profile's bucket for it."""
    return (at_ms // HOUR_MS) % HOURS_PER_DAY


def count_turn(by_hour: Sequence[int], at_ms: int) -> tuple[int, ...]:
    """The profile with one more routable turn at ``at_ms`` (an empty profile starts at zeros)."""
    counts = list(by_hour) or [0] * HOURS_PER_DAY
    counts[hour_of_day(at_ms)] += 1
    return tuple(counts)


def ms_by_hour_of_day(start_ms: int, end_ms: int) -> list[int]:
    """How many ms of ``[start_ms, end_ms)`` fall in each hour of the day (UTC)."""
    whole_days = max(0, end_ms - start_ms) // DAY_MS
    spans = [whole_days * HOUR_MS] * HOURS_PER_DAY
    at = start_ms + whole_days * DAY_MS
    while at < end_ms:
        step = min(end_ms, (at // HOUR_MS + 1) * HOUR_MS) - at
        spans[hour_of_day(at)] += step
        at += step
    return spans


def expected_turns(by_hour: Sequence[int], watched_since_ms: int, now_ms: int, until_ms: int) -> float | None:
    """The routable turns expected in ``[now_ms, until_ms)`` from the turns counted since ``watched_since_ms``.

    Each hour of the day ahead is expected at its own observed rate (its turns over the time
    watched in it). None until a whole day has been watched, since an hour not yet seen has
    no rate; an hour seen without turns has rate 0, which is what an idle night is.
    """
    if len(by_hour) != HOURS_PER_DAY or now_ms - watched_since_ms < DAY_MS:
        return None
    seen = ms_by_hour_of_day(watched_since_ms, now_ms)
    ahead = ms_by_hour_of_day(now_ms, until_ms)
    return sum(n * a / s for n, a, s in zip(by_hour, ahead, seen, strict=True))
