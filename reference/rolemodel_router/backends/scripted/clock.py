"""The backend's clock, which tests can move forward to expire cache entries without sleeping."""

from __future__ import annotations

import time


class SimulatedClock:
    """Monotonic seconds plus an offset that :meth:`advance` increases.

    ``frozen`` clocks do not move on their own, so that a test's TTL arithmetic is exact.
    """

    def __init__(self, *, frozen: bool = False) -> None:
        self._frozen = frozen
        self._origin = time.monotonic()
        self._offset = 0.0

    def now(self) -> float:
        elapsed = 0.0 if self._frozen else time.monotonic() - self._origin
        return elapsed + self._offset

    def advance(self, seconds: float) -> None:
        if seconds < 0:
            raise ValueError("a clock only moves forward")
        self._offset += seconds
