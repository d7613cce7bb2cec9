"""Usage-window reports in providers' response headers, read into one shape (spec 9.8).

Two header families carry a subscription's windows, as the clients that rely on them parse them:

- **Codex** (the ChatGPT backend; ``codex-rs/codex-api/src/rate_limits.rs``):
  ``x-codex-primary-used-percent`` (a float in percent, 0 to 100),
  ``x-codex-primary-window-minutes`` (an integer), ``x-codex-primary-reset-at`` (Unix seconds), and
  the same for ``secondary``. Older backends sent ``x-codex-primary-reset-after-seconds`` instead of
  ``-reset-at``; both are read. The primary window is the short one (300 minutes), the secondary the
  long one (10080 minutes), except on plans that report only a weekly window, as primary.
- **Anthropic** (subscription credentials): ``anthropic-ratelimit-unified-5h-utilization`` (a
  fraction, 0 to 1, which may exceed 1), ``anthropic-ratelimit-unified-5h-reset`` (Unix seconds),
  and the same for ``7d``.

Each report names its window by length: ``SHORT`` for the 5-hour window, ``LONG`` for the 7-day
one, so that a catalog pairs a quota with a window without caring which provider reports it. A
header that does not parse is ignored, never guessed at.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum

#: Windows up to this long (minutes) are the short window; longer ones the long window.
SHORT_WINDOW_LIMIT_MINUTES = 24 * 60
FIVE_HOURS_S = 5 * 3600
SEVEN_DAYS_S = 7 * 24 * 3600


class WindowLength(StrEnum):
    SHORT = "short"  # the 5-hour window
    LONG = "long"  # the 7-day window


@dataclass(frozen=True)
class UsageReport:
    """One window's state as a provider reported it."""

    window: WindowLength
    used: float  # share of the window used, in [0, 1] (clamped)
    resets_at_ms: int
    window_seconds: int


def _number(headers: Mapping[str, str], name: str) -> float | None:
    raw = headers.get(name)
    if raw is None:
        return None
    try:
        value = float(raw.strip())
    except ValueError:
        return None
    return value if math.isfinite(value) else None


def _codex(headers: Mapping[str, str], which: str, now_ms: int) -> UsageReport | None:
    prefix = f"x-codex-{which}-"
    percent = _number(headers, prefix + "used-percent")
    if percent is None:
        return None
    minutes = _number(headers, prefix + "window-minutes")
    reset_at = _number(headers, prefix + "reset-at")
    after = _number(headers, prefix + "reset-after-seconds")
    if reset_at is not None:
        resets_at_ms = int(reset_at * 1000)
    elif after is not None:
        resets_at_ms = now_ms + int(after * 1000)
    else:
        return None  # a share without a reset time cannot be paced
    if minutes is None or minutes <= 0:
        length = WindowLength.SHORT if which == "primary" else WindowLength.LONG
        seconds = FIVE_HOURS_S if length == WindowLength.SHORT else SEVEN_DAYS_S
    else:
        length = WindowLength.SHORT if minutes <= SHORT_WINDOW_LIMIT_MINUTES else WindowLength.LONG
        seconds = int(minutes * 60)
    return UsageReport(length, min(1.0, max(0.0, percent / 100)), resets_at_ms, seconds)


def _anthropic(headers: Mapping[str, str], which: str) -> UsageReport | None:
    utilization = _number(headers, f"anthropic-ratelimit-unified-{which}-utilization")
    reset = _number(headers, f"anthropic-ratelimit-unified-{which}-reset")
    if utilization is None or reset is None:
        return None
    length, seconds = (WindowLength.SHORT, FIVE_HOURS_S) if which == "5h" else (WindowLength.LONG, SEVEN_DAYS_S)
    return UsageReport(length, min(1.0, max(0.0, utilization)), int(reset * 1000), seconds)


#: Codex's rate-limit header families: ``x-codex-primary-*``, ``x-codex-<limit>-secondary-*``,
#: ``x-codex-credits-*``, ``x-codex-<limit>-limit-name`` and ``x-codex-rate-limit-*`` (rate_limits.rs).
_CODEX_PREFIX = "x-codex-"
_CODEX_PARTS = ("-primary-", "-secondary-", "-credits-", "-rate-limit-")
_ANTHROPIC_PREFIX = "anthropic-ratelimit-unified-"


def is_usage_header(name: str) -> bool:
    """Whether a response header belongs to a plan's usage report, in a family a client parses (spec 14.5)."""
    lower = name.lower()
    if lower.startswith(_ANTHROPIC_PREFIX):
        return True
    if not lower.startswith(_CODEX_PREFIX):
        return False
    rest = lower[len(_CODEX_PREFIX) - 1 :]  # keep the dash, so "-primary-" also matches right after the prefix
    return rest.endswith("-limit-name") or any(part in rest for part in _CODEX_PARTS)


def parse_usage_headers(headers: Mapping[str, str], now_ms: int) -> list[UsageReport]:
    """Every window the headers report, at most one per length (``headers`` keyed in lower case)."""
    found = [
        _codex(headers, "primary", now_ms),
        _codex(headers, "secondary", now_ms),
        _anthropic(headers, "5h"),
        _anthropic(headers, "7d"),
    ]
    by_length: dict[WindowLength, UsageReport] = {}
    for report in found:
        if report is not None and report.window not in by_length:
            by_length[report.window] = report
    return list(by_length.values())


def usage_headers(reports: list[UsageReport], family: str) -> dict[str, str]:
    """The headers a provider of ``family`` ("codex" or "anthropic") sends for ``reports``.

    The inverse of :func:`parse_usage_headers`, used by the scripted backend to play a
    subscription; Codex sends whole percents as its backend does.
    """
    headers: dict[str, str] = {}
    for report in reports:
        if family == "codex":
            which = "primary" if report.window == WindowLength.SHORT else "secondary"
            headers[f"x-codex-{which}-used-percent"] = str(round(report.used * 100))
            headers[f"x-codex-{which}-window-minutes"] = str(report.window_seconds // 60)
            headers[f"x-codex-{which}-reset-at"] = str(report.resets_at_ms // 1000)
        else:
            which = "5h" if report.window == WindowLength.SHORT else "7d"
            headers[f"anthropic-ratelimit-unified-{which}-utilization"] = f"{report.used:.2f}"
            headers[f"anthropic-ratelimit-unified-{which}-reset"] = str(report.resets_at_ms // 1000)
    return headers
