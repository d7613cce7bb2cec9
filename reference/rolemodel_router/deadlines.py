"""When a call may still commit its effects: before its deadline, less the router's margin (RM-ERR-020).

Every call with a stored effect (Route, ReportOutcome, the decision of Execute) decides first, then checks
the time left, and only then commits; a call that fails the check is refused with DEADLINE_TOO_SHORT and
leaves nothing behind. The check cannot be the deadline itself: after the commit the answer must still be
encoded, written to the transport and carried to the client, and on a busy router the commit itself waits
for the end of the event loop's turn (the SQLite store's group commit). The margin is the router's reserve
for that: a call with less than ``margin_s`` left when its decision is ready is abandoned.

No margin closes the race entirely: an answer sent with time to spare can still reach the client after
its own timer fired, and the client then sees DEADLINE_EXCEEDED for a call whose effects were stored
(spec 11.3 says what a client can rely on). ``bench/deadline_effects.py`` measures how often.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

from rolemodel.error_reasons import ErrorReason
from rolemodel_router.engine.errors import RouterError

#: The default reserve between the check and the call's deadline; see ``bench/deadline_effects.py``.
DEFAULT_MARGIN_S = 0.020


@dataclass(frozen=True)
class CommitDeadline:
    """The last moment a call may commit: its deadline less the margin. Call it to check (``before_commit``)."""

    #: The call's deadline on ``clock`` (seconds); None when the caller set none.
    deadline: float | None
    margin_s: float = DEFAULT_MARGIN_S
    clock: Callable[[], float] = field(default=time.monotonic, repr=False)

    @classmethod
    def after(
        cls, remaining_s: float | None, margin_s: float = DEFAULT_MARGIN_S, clock: Callable[[], float] = time.monotonic
    ) -> CommitDeadline:
        """The commit deadline of a call that has ``remaining_s`` left now (None: no deadline)."""
        return cls(None if remaining_s is None else clock() + remaining_s, margin_s, clock)

    def remaining_s(self) -> float | None:
        return None if self.deadline is None else self.deadline - self.clock()

    def __call__(self) -> None:
        """Raises DEADLINE_TOO_SHORT when less than the margin is left; called after deciding, before committing."""
        left = self.remaining_s()
        if left is not None and left < self.margin_s:
            raise RouterError(
                ErrorReason.DEADLINE_TOO_SHORT,
                f"{max(0.0, left) * 1000:.0f} ms of the call's deadline were left when its decision was ready; "
                f"the router commits only with {self.margin_s * 1000:.0f} ms to spare, so nothing was changed",
                {"remaining_ms": str(max(0, round(left * 1000)))},
            )
