"""Pacing a subscription's usage windows (spec 9.8): the normative arithmetic.

A subscription (a ChatGPT plan through Codex, a Claude plan through Claude Code) is limited by
usage windows, typically one of 5 hours and one of 7 days. For each window the provider reports
only the share used and when the window resets; nobody says how much one request uses. The
router must spend the subscription as fully as possible without running out before a reset,
sending the rest of the traffic to a paid cheap endpoint. This module turns the reports into the
premium share the subscription can afford, so that the premium-share controller (spec 9.7) sends
the hardest turns to the subscription and the others elsewhere.

Per window ``w`` (all shares in [0, 1], times in milliseconds):

    reset      when now >= R: u = 0, the samples are dropped, the turn count restarts; the
               next window is taken to end window_seconds after now until a report says
    u_est      = u_last + c * (n_now - n_last)      turns sent since the last report count too
    c          = least-squares slope of u over n, through the samples since the reset,
                 once there are MIN_SAMPLES of them and u has moved by MIN_MOVE; else the
                 last such slope of an earlier window; else the catalog's prior c0
    D          = the routable turns expected from now to R, counted from S = max(window start,
                 when the router began to watch): once a whole day has been watched, the
                 window's own day profile (each hour of the day ahead at the rate that hour
                 has had, so the nights and the last evening of a week ask for nothing);
                 before that, once a tenth of the window has passed, the average rate since S
                 times (R - now); before that, the role's recent arrival rate times (R - now)
    s_w        = clamp((u_target - u_est) / c / D, 0, 1), 1 when D = 0, CAUTIOUS_SHARE when
                 D is unknown, and at most CAUTIOUS_SHARE while c is the prior
    hard stop  u_est >= u_target: s_w = 0 and the endpoint takes no more turns until R
    s          = min over windows of s_w            the tightest window binds

``n`` counts the premium turns sent to the endpoint since the window's reset; ``u_target`` is
slightly below 1 because reports lag and are rounded (Codex reports whole percents).

What can go wrong: a provider that stops reporting leaves ``u_est`` growing with the turns sent,
so the share falls rather than overshoots; a report of a new window (a later ``R``, or a lower
``u``) starts the window's samples over.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace

from rolemodel.demand_profile import count_turn, expected_turns

#: The share of a window a router aims to end at; the rest absorbs lag and rounding.
DEFAULT_TARGET = 0.95
#: The movement of the reported share that backs an estimate of one turn's use.
MIN_MOVE = 0.03
#: The reports that back an estimate: fewer make a slope of two jumps, which other use of the
#: same subscription (its web app, another machine) can make arbitrarily steep.
MIN_SAMPLES = 4
#: The largest share while the estimate is the prior or the arrival rate is unknown.
CAUTIOUS_SHARE = 0.5
#: Samples kept per window; older ones add little to the slope.
MAX_SAMPLES = 256
#: A report lower than the last by more than this starts a new window (rounding moves less).
NEW_WINDOW_DROP = 0.02


@dataclass(frozen=True)
class UsageSample:
    """One report: the share used after ``turns`` premium turns since the reset."""

    at_ms: int
    used: float
    turns: int


@dataclass(frozen=True)
class UsageWindowState:
    """What a router knows about one usage window.

    ``turns`` counts the premium turns sent since the reset, reported or not; ``samples`` holds
    the reports since the reset, oldest first. ``resets_at_ms`` is 0 until a report gives it.
    ``per_turn`` is the last estimate of one turn's use that reports backed (0: none yet); it
    outlives resets, since a turn weighs the same in the next window. ``routable`` counts the
    routable turns since ``watched_since_ms`` (when the router began to count them: its first
    event in the window, or the reset it watched), ``routable_by_hour`` the same by hour of day.
    """

    used: float = 0.0
    per_turn: float = 0.0
    routable: int = 0
    routable_by_hour: tuple[int, ...] = ()
    watched_since_ms: int | None = None
    resets_at_ms: int = 0
    reported_at_ms: int = 0
    turns: int = 0
    turns_at_report: int = 0
    samples: tuple[UsageSample, ...] = field(default_factory=tuple)


@dataclass(frozen=True)
class WindowPace:
    """The pacing of one window at one instant, with the figures a decision reports."""

    share: float
    used_estimate: float
    per_turn: float
    backed: bool
    affordable_turns_per_hour: float
    hard_stop: bool


@dataclass(frozen=True)
class Pace:
    """The share every window allows together; ``binding`` indexes the tightest window (-1: none)."""

    share: float
    binding: int
    hard_stop: bool
    windows: tuple[WindowPace, ...]


def reset_if_due(state: UsageWindowState, now_ms: int) -> UsageWindowState:
    """After the reset time the window is empty until a report says otherwise; the first event starts the watch."""
    if state.resets_at_ms and now_ms >= state.resets_at_ms:
        return UsageWindowState(per_turn=state.per_turn, watched_since_ms=state.resets_at_ms)
    if state.watched_since_ms is None:
        return replace(state, watched_since_ms=now_ms)
    return state


def demand_since_ms(state: UsageWindowState, window_seconds: int) -> int:
    """Where the window's demand is measured from: its start, or later if the router began to watch later."""
    started_ms = state.resets_at_ms - window_seconds * 1000
    return started_ms if state.watched_since_ms is None else max(state.watched_since_ms, started_ms)


def record_turn(state: UsageWindowState, now_ms: int) -> UsageWindowState:
    """A premium turn was sent to the endpoint: one more turn since the reset."""
    state = reset_if_due(state, now_ms)
    return replace(state, turns=state.turns + 1)


def record_routable(state: UsageWindowState, now_ms: int) -> UsageWindowState:
    """A routable turn arrived, premium or not: the demand the window is paced against, by hour of day."""
    state = reset_if_due(state, now_ms)
    return replace(state, routable=state.routable + 1, routable_by_hour=count_turn(state.routable_by_hour, now_ms))


def demand_rate(state: UsageWindowState, now_ms: int, window_seconds: int, recent_per_ms: float | None) -> float | None:
    """Routable turns per ms over the window so far, once a tenth of it has passed; else the recent rate."""
    if not state.resets_at_ms or state.routable <= 0:
        return recent_per_ms
    elapsed = now_ms - demand_since_ms(state, window_seconds)
    if elapsed < window_seconds * 100:  # a tenth of the window, in ms
        return recent_per_ms
    return state.routable / elapsed


def record_report(state: UsageWindowState, used: float, resets_at_ms: int, now_ms: int) -> UsageWindowState:
    """A provider's report of the share used and the reset time, after the turns counted so far."""
    state = reset_if_due(state, now_ms)
    new_window = bool(state.resets_at_ms) and (
        resets_at_ms > state.resets_at_ms + 60_000 or used < state.used - NEW_WINDOW_DROP
    )
    if new_window:
        state = UsageWindowState(per_turn=state.per_turn, watched_since_ms=now_ms)
    samples = (*state.samples, UsageSample(now_ms, used, state.turns))[-MAX_SAMPLES:]
    slope = _slope(samples)
    return replace(
        state,
        used=used,
        resets_at_ms=resets_at_ms,
        reported_at_ms=now_ms,
        turns_at_report=state.turns,
        samples=samples,
        per_turn=slope if slope is not None else state.per_turn,
    )


def _slope(samples: Sequence[UsageSample]) -> float | None:
    """The least-squares share per turn, once the reports have moved by MIN_MOVE; else None."""
    if len(samples) < MIN_SAMPLES or samples[-1].used - samples[0].used < MIN_MOVE:
        return None
    n = len(samples)
    mean_x = sum(s.turns for s in samples) / n
    mean_y = sum(s.used for s in samples) / n
    sxx = sum((s.turns - mean_x) ** 2 for s in samples)
    if sxx <= 0:
        return None
    slope = sum((s.turns - mean_x) * (s.used - mean_y) for s in samples) / sxx
    return slope if slope > 0 else None


def per_turn_use(state: UsageWindowState, prior: float) -> tuple[float, bool]:
    """The share one premium turn uses, and whether reports back it (else it is the prior)."""
    if state.per_turn > 0:
        return state.per_turn, True
    return prior, False


def window_pace(
    state: UsageWindowState,
    now_ms: int,
    turns_per_ms: float | None,
    prior: float,
    window_seconds: int,
    target: float = DEFAULT_TARGET,
) -> WindowPace:
    """The share of routable turns this window can afford from now to its reset."""
    state = reset_if_due(state, now_ms)
    per_turn, backed = per_turn_use(state, prior)
    used = state.used + per_turn * (state.turns - state.turns_at_report)
    if used >= target:
        return WindowPace(0.0, used, per_turn, backed, 0.0, True)
    resets_at_ms = state.resets_at_ms or now_ms + window_seconds * 1000  # a fresh window starts now
    left_ms = max(1, resets_at_ms - now_ms)
    affordable_per_ms = (target - used) / left_ms / per_turn
    expected = (
        expected_turns(state.routable_by_hour, demand_since_ms(state, window_seconds), now_ms, state.resets_at_ms)
        if state.resets_at_ms
        else None
    )
    if expected is not None:  # the window's own day profile: the idle hours ahead ask for nothing
        affordable = affordable_per_ms * left_ms
        share = 1.0 if affordable >= expected else affordable / expected
    else:
        rate = demand_rate(state, now_ms, window_seconds, turns_per_ms)
        if rate is None or rate <= 0:
            return WindowPace(CAUTIOUS_SHARE, used, per_turn, backed, affordable_per_ms * 3_600_000, False)
        share = min(1.0, affordable_per_ms / rate)
    if not backed:
        share = min(share, CAUTIOUS_SHARE)
    return WindowPace(share, used, per_turn, backed, affordable_per_ms * 3_600_000, False)


@dataclass(frozen=True)
class WindowRule:
    """What the catalog says about a window: one turn's prior use, its length, the share to end at."""

    prior_per_turn: float
    window_seconds: int
    target: float = DEFAULT_TARGET


def pace(
    states: Sequence[UsageWindowState], rules: Sequence[WindowRule], now_ms: int, turns_per_ms: float | None
) -> Pace:
    """The tightest window binds; any hard stop stops the subscription."""
    windows = tuple(
        window_pace(state, now_ms, turns_per_ms, rule.prior_per_turn, rule.window_seconds, rule.target)
        for state, rule in zip(states, rules, strict=True)
    )
    if not windows:
        return Pace(1.0, -1, False, ())
    binding = min(range(len(windows)), key=lambda i: windows[i].share)
    hard = any(w.hard_stop for w in windows)
    return Pace(0.0 if hard else windows[binding].share, binding, hard, windows)
