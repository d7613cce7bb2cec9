"""The scripted backend's state: models, their scripts and cache rules, the cache, the recordings.

Tests script and inspect the backend from their own thread while the server answers in its
event-loop thread, so every access goes through one lock. Each method holds it briefly and
never across an ``await``.
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass, field, replace

from rolemodel_router.backends.scripted.cache_rules import CacheRules
from rolemodel_router.backends.scripted.clock import SimulatedClock
from rolemodel_router.backends.scripted.prefix_cache import CacheAccount, PrefixCache
from rolemodel_router.backends.scripted.prompt_layout import PromptLayout
from rolemodel_router.backends.scripted.recording import RecordedRequest
from rolemodel_router.backends.scripted.script import Step
from rolemodel_router.backends.scripted.subscription import Subscription


@dataclass
class ModelSetup:
    """One scripted model: its cache rules, an optional context window, and its steps.

    ``default`` answers when the script has run out; without one, such a request fails with a
    500 that names the model, so that a test which consumed more turns than it scripted notices.
    """

    cache: CacheRules = field(default_factory=CacheRules)
    context_window_tokens: int | None = None
    default: Step | None = None
    steps: deque[Step] = field(default_factory=deque)
    subscription: Subscription | None = None  # usage windows reported in the headers (spec 9.8)


class BackendState:
    def __init__(self, clock: SimulatedClock | None = None, *, api_key: str | None = None) -> None:
        self.clock = clock or SimulatedClock()
        self.api_key = api_key
        self._lock = threading.Lock()
        self._models: dict[str, ModelSetup] = {}
        self._cache = PrefixCache()
        self._requests: list[RecordedRequest] = []
        self._sequence = 0

    def configure(
        self,
        model: str,
        *,
        cache: CacheRules | None = None,
        context_window_tokens: int | None = None,
        default: Step | None = None,
        subscription: Subscription | None = None,
    ) -> None:
        """Create ``model`` or change its setup; arguments left ``None`` keep their value."""
        with self._lock:
            setup = self._models.setdefault(model, ModelSetup())
            if subscription is not None:
                setup.subscription = subscription
            if cache is not None:
                setup.cache = cache
            if context_window_tokens is not None:
                setup.context_window_tokens = context_window_tokens
            if default is not None:
                setup.default = default

    def script(self, model: str, steps: Iterable[Step]) -> None:
        """Append steps to ``model``'s script, creating the model when needed."""
        with self._lock:
            self._models.setdefault(model, ModelSetup()).steps.extend(steps)

    def models(self) -> list[str]:
        with self._lock:
            return sorted(self._models)

    def setup(self, model: str) -> ModelSetup | None:
        """A copy of ``model``'s setup without its steps, or ``None`` for an unknown model."""
        with self._lock:
            setup = self._models.get(model)
            return None if setup is None else replace(setup, steps=deque())

    def remaining(self, model: str) -> int:
        with self._lock:
            setup = self._models.get(model)
            return len(setup.steps) if setup else 0

    def next_sequence(self) -> int:
        with self._lock:
            self._sequence += 1
            return self._sequence

    def next_step(self, model: str) -> Step | None:
        with self._lock:
            setup = self._models.get(model)
            if setup is None:
                return None
            return setup.steps.popleft() if setup.steps else setup.default

    def account_cache(self, model: str, rules: CacheRules, layout: PromptLayout) -> CacheAccount:
        with self._lock:
            return self._cache.account(model, rules, layout, self.clock.now())

    def remember_prefix(self, model: str, rules: CacheRules, key: bytes, tokens: int) -> None:
        with self._lock:
            self._cache.remember(model, rules, key, tokens, self.clock.now())

    def cached_prefixes(self, model: str) -> list[tuple[int, float]]:
        with self._lock:
            return self._cache.cached_prefixes(model, self.clock.now())

    def clear_cache(self) -> None:
        with self._lock:
            self._cache.clear()

    def record(self, request: RecordedRequest) -> None:
        with self._lock:
            self._requests.append(request)

    def requests(self) -> list[RecordedRequest]:
        with self._lock:
            return list(self._requests)

    def mark_abandoned(self, sequence: int) -> None:
        """Note that the client of request ``sequence`` disconnected while its response hung."""
        with self._lock:
            self._requests = [replace(r, abandoned=True) if r.sequence == sequence else r for r in self._requests]

    def reset(self) -> None:
        """Forget every model's remaining steps, the recorded requests and the cache.

        Models keep their setup (cache rules, context window, default answer) and the API key
        stays, so that a test in another process can start each scenario from a known state.
        Request numbers keep counting, so that request ids stay unique.
        """
        with self._lock:
            for setup in self._models.values():
                setup.steps.clear()
            self._requests.clear()
            self._cache.clear()
