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
    r          = (u_target - u_est) / (R - now)    the share per ms the window can afford
    lambda     = routable turns since the window began / time since it began, once a tenth
                 of the window has passed (idle nights count: a week is not all working hours);
                 before that, the role's recent arrival rate
    s_w        = clamp(r / c / lambda, 0, 1)
                 and at most CAUTIOUS_SHARE while c is the prior or lambda is unknown
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
    outlives resets, since a turn weighs the same in the next window.
    """

    used: float = 0.0
    per_turn: float = 0.0
    routable: int = 0
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
    """After the reset time the window is empty until a report says otherwise."""
    if state.resets_at_ms and now_ms >= state.resets_at_ms:
        return UsageWindowState(per_turn=state.per_turn)
    return state


def record_turn(state: UsageWindowState, now_ms: int) -> UsageWindowState:
    """A premium turn was sent to the endpoint: one more turn since the reset."""
    state = reset_if_due(state, now_ms)
    return replace(state, turns=state.turns + 1)


def record_routable(state: UsageWindowState, now_ms: int) -> UsageWindowState:
    """A routable turn arrived, premium or not: the demand the window is paced against."""
    state = reset_if_due(state, now_ms)
    return replace(state, routable=state.routable + 1)


def demand_rate(state: UsageWindowState, now_ms: int, window_seconds: int, recent_per_ms: float | None) -> float | None:
    """Routable turns per ms over the window so far, once a tenth of it has passed; else the recent rate."""
    if not state.resets_at_ms or state.routable <= 0:
        return recent_per_ms
    elapsed = now_ms - (state.resets_at_ms - window_seconds * 1000)
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
        state = UsageWindowState(per_turn=state.per_turn, routable=state.routable)
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
    rate = demand_rate(state, now_ms, window_seconds, turns_per_ms)
    if rate is None or rate <= 0:
        share = CAUTIOUS_SHARE
    else:
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
