from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from rolemodel import ClientOptions, RetryPolicy, RouterClient
from tests.router.harness import RouterProcess


@pytest.fixture(scope="module", params=["memory", "sqlite"])
def router(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[RouterProcess]:
    """One router process per store kind per test module, on the fixture catalog."""
    url = "memory:" if request.param == "memory" else f"sqlite:///{tmp_path_factory.mktemp('state') / 'router.db'}"
    with RouterProcess(url) as process:
        yield process


@pytest.fixture
def client(router: RouterProcess) -> Iterator[RouterClient]:
    with RouterClient(router.address, ClientOptions(retry=RetryPolicy(max_attempts=1))) as c:
        yield c


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'router.db'}"
