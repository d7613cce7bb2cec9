"""A simulated subscription: the usage windows a scripted model reports in its response headers (spec 9.8).

A ChatGPT or Claude plan meters each request against a 5-hour and a 7-day window and reports,
with every answer, the share used and the reset time of each, in its own header family
(:func:`rolemodel.usage_headers.usage_headers`). Here each served request weighs its uncached
prompt tokens, a tenth of its cached ones and four times its output, against a capacity in such
tokens per window. The 5-hour window starts with the first request after the previous one
ended, the 7-day window when the subscription is set up. Tests start a window part-used
(``short_used``, ``long_used``) to reach the states they need without thousands of requests.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from rolemodel.usage_headers import (
    FIVE_HOURS_S,
    SEVEN_DAYS_S,
    UsageReport,
    WindowLength,
    parse_usage_headers,
    usage_headers,
)
from rolemodel.v1 import outcome_pb2

FAMILIES = ("codex", "anthropic")


@dataclass
class _Window:
    length_ms: int
    capacity: float
    used: float = 0.0
    start_ms: int | None = None

    def roll(self, now_ms: int) -> None:
        if self.start_ms is not None and now_ms >= self.start_ms + self.length_ms:
            self.start_ms, self.used = None, 0.0


@dataclass
class Subscription:
    """The windows of one scripted model; thread-safe, since the backend serves requests concurrently."""

    family: str
    short_capacity: float
    long_capacity: float
    short_used: float = 0.0
    long_used: float = 0.0
    _windows: tuple[_Window, _Window] = field(init=False)
    _lock: threading.Lock = field(init=False, default_factory=threading.Lock)

    def __post_init__(self) -> None:
        if self.family not in FAMILIES:
            raise ValueError(f"a subscription's family is one of {FAMILIES}, not {self.family!r}")
        if self.short_capacity <= 0 or self.long_capacity <= 0:
            raise ValueError("a subscription's capacities are positive")
        now = _now_ms()
        self._windows = (
            _Window(FIVE_HOURS_S * 1000, self.short_capacity, self.short_used * self.short_capacity),
            _Window(SEVEN_DAYS_S * 1000, self.long_capacity, self.long_used * self.long_capacity, now),
        )
        if self.short_used:
            self._windows[0].start_ms = now

    def meter(self, usage: outcome_pb2.Usage) -> dict[str, str]:
        """Charge one served request and return the headers that report both windows."""
        cached = usage.cache_read_tokens
        weight = (usage.input_tokens - cached) + 0.1 * cached + 4 * usage.output_tokens
        now = _now_ms()
        reports = []
        with self._lock:
            for length, window in zip((WindowLength.SHORT, WindowLength.LONG), self._windows, strict=True):
                window.roll(now)
                if window.start_ms is None:
                    window.start_ms = now
                window.used += weight
                share = min(1.0, window.used / window.capacity)
                reports.append(UsageReport(length, share, window.start_ms + window.length_ms, window.length_ms // 1000))
        return usage_headers(reports, self.family)


def rate_limits_event(headers: Mapping[str, str]) -> dict[str, Any] | None:
    """The ``codex.rate_limits`` stream event the ChatGPT backend sends besides its headers, from those headers.

    Its windows carry ``used_percent``, ``window_minutes`` and ``reset_at`` (Unix seconds), as
    Codex parses the event (rate_limits.rs); None for a family that has no such event.
    """
    reports = parse_usage_headers(headers, _now_ms()) if "x-codex-primary-used-percent" in headers else []
    if not reports:
        return None
    windows = {
        ("primary" if r.window == WindowLength.SHORT else "secondary"): {
            "used_percent": round(r.used * 100),
            "window_minutes": r.window_seconds // 60,
            "reset_at": r.resets_at_ms // 1000,
        }
        for r in reports
    }
    return {"type": "codex.rate_limits", "plan_type": "plus", "rate_limits": windows}


def _now_ms() -> int:
    return time.time_ns() // 1_000_000
