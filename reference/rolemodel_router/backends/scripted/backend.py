"""The scripted backend, in process: script it, start it, point a client at it, assert on what it saw."""

from __future__ import annotations

import threading
from collections.abc import Iterable, Mapping
from pathlib import Path
from types import TracebackType
from typing import Any

from rolemodel_router.backends.scripted.app import create_app
from rolemodel_router.backends.scripted.cache_rules import CacheRules
from rolemodel_router.backends.scripted.clock import SimulatedClock
from rolemodel_router.backends.scripted.recording import RecordedRequest
from rolemodel_router.backends.scripted.script import Step
from rolemodel_router.backends.scripted.script_file import apply_document, load_file
from rolemodel_router.backends.scripted.server import BackgroundServer, install_cut_filter
from rolemodel_router.backends.scripted.state import BackendState
from rolemodel_router.backends.scripted.subscription import Subscription


class ScriptedBackend:
    """A real HTTP server on loopback that answers from a per-model script.

    Use it as a context manager::

        with ScriptedBackend() as backend:
            backend.configure("gpt-small", cache=CacheRules.openai())
            backend.script("gpt-small", [Reply(text="Hi"), Fault.rate_limited(retry_after=1)])
            httpx.post(backend.base_url + "/v1/chat/completions", json=...)
            assert backend.requests[0].usage.cache_read_tokens == 0

    ``clock`` defaults to real time that tests can move forward with ``backend.clock.advance``;
    pass ``SimulatedClock(frozen=True)`` for exact TTL arithmetic. With ``api_key`` set, every
    generation request must carry it (``Authorization: Bearer`` or ``x-api-key``).
    """

    def __init__(
        self,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        clock: SimulatedClock | None = None,
        api_key: str | None = None,
    ) -> None:
        self.state = BackendState(clock, api_key=api_key)
        self._host = host
        self._port = port
        self._stopping = threading.Event()
        self._server: BackgroundServer | None = None

    def start(self) -> ScriptedBackend:
        if self._server is None:
            install_cut_filter()
            self._stopping.clear()
            self._server = BackgroundServer(
                create_app(self.state, self._stopping), self._stopping, host=self._host, port=self._port
            )
            self._server.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._stopping.set()
            self._server.stop()
            self._server = None

    def __enter__(self) -> ScriptedBackend:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    @property
    def base_url(self) -> str:
        """``http://127.0.0.1:PORT``: the Anthropic SDK's base URL."""
        if self._server is None:
            raise RuntimeError("the scripted backend is not running; call start() first")
        return self._server.base_url

    @property
    def openai_base_url(self) -> str:
        """``http://127.0.0.1:PORT/v1``: the OpenAI SDK's base URL."""
        return self.base_url + "/v1"

    @property
    def clock(self) -> SimulatedClock:
        return self.state.clock

    def configure(
        self,
        model: str,
        *,
        cache: CacheRules | None = None,
        context_window_tokens: int | None = None,
        default: Step | None = None,
        subscription: Subscription | None = None,
    ) -> None:
        """Create ``model`` or change its cache rules, context window, fallback answer or subscription."""
        self.state.configure(
            model, cache=cache, context_window_tokens=context_window_tokens, default=default, subscription=subscription
        )

    def script(self, model: str, steps: Iterable[Step]) -> None:
        """Append replies and faults to ``model``'s script; each generation request takes the next one."""
        self.state.script(model, steps)

    def load(self, document: Mapping[str, Any] | Path) -> None:
        """Apply a script document (see :mod:`.script_file`), given parsed or as a file path."""
        if isinstance(document, Path):
            load_file(self.state, document)
        else:
            apply_document(self.state, document)

    @property
    def requests(self) -> list[RecordedRequest]:
        """Every request received so far, oldest first."""
        return self.state.requests()

    def requests_for(self, model: str) -> list[RecordedRequest]:
        return [r for r in self.state.requests() if r.model == model]

    def reset(self) -> None:
        """Forget the remaining steps, the recorded requests and the cache; models keep their setup."""
        self.state.reset()

    def remaining(self, model: str) -> int:
        """Steps of ``model``'s script not yet consumed."""
        return self.state.remaining(model)

    def cached_prefixes(self, model: str) -> list[tuple[int, float]]:
        """(tokens, expiry) of ``model``'s live cache entries, longest first."""
        return self.state.cached_prefixes(model)
