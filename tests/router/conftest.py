from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from rolemodel import ClientOptions, RetryPolicy, RouterClient
from tests.router.harness import RouterProcess


def state_url(
    kind: str, request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> tuple[str, list[str]]:
    """The --state URL for a store kind, and extra serve arguments (a fresh Redis namespace per module)."""
    if kind == "memory":
        return "memory:", []
    if kind == "sqlite":
        return f"sqlite:///{tmp_path_factory.mktemp('state') / 'router.db'}", []
    server = request.getfixturevalue("redis_server")
    return server.url, ["--redis-namespace", f"test-{uuid.uuid4().hex[:12]}"]


@pytest.fixture(scope="module", params=["memory", "sqlite", "redis"])
def router(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[RouterProcess]:
    """One router process per store kind per test module, on the fixture catalog."""
    url, extra = state_url(request.param, request, tmp_path_factory)
    with RouterProcess(url, extra=extra) as process:
        yield process


@pytest.fixture
def client(router: RouterProcess) -> Iterator[RouterClient]:
    with RouterClient(router.address, ClientOptions(retry=RetryPolicy(max_attempts=1))) as c:
        yield c


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'router.db'}"
