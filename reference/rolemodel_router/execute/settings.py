"""How Execute talks to backends: attempts, timeouts and the environment it reads keys from."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field

#: A call that names no timeout of its own (EndpointConnection.timeout_ms) ends after this long.
DEFAULT_CALL_TIMEOUT_S = 600.0


@dataclass(frozen=True)
class ExecuteSettings:
    """Bounds that keep one Execute call from running away (RM-EXEC-010).

    ``max_attempts`` counts the first attempt, so 3 means the chosen endpoint and two fallbacks.
    ``stall_timeout_s`` is the longest the router waits for the first byte of an answer or for
    the next piece of a stream: a backend that stalls before its first token is given up and the
    next fallback tried; one that stalls later ends the call (RM-EXEC-011).
    """

    max_attempts: int = 3
    stall_timeout_s: float = 30.0
    connect_timeout_s: float = 5.0
    environ: Mapping[str, str] = field(default_factory=lambda: os.environ)

    def __post_init__(self) -> None:
        if self.max_attempts < 1:
            raise ValueError("max_attempts must be at least 1")
        if self.stall_timeout_s <= 0 or self.connect_timeout_s <= 0:
            raise ValueError("timeouts must be positive")
