"""One scripted backend per test, on loopback, with a frozen clock so that TTL arithmetic is exact."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from rolemodel_router.backends.scripted import ScriptedBackend, SimulatedClock


@pytest.fixture
def backend() -> Iterator[ScriptedBackend]:
    with ScriptedBackend(clock=SimulatedClock(frozen=True)) as running:
        yield running


@pytest.fixture
def http(backend: ScriptedBackend) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=backend.base_url, timeout=10.0) as client:
        yield client
