from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from rolemodel import ClientOptions, RetryPolicy, RouterClient
from rolemodel_router.backends.scripted import CacheRules, ScriptedBackend
from tests.execute.catalog import CLAUDE_MODEL, LOCAL_MODEL, MINI_MODEL, write_catalog
from tests.router.harness import RouterProcess

#: Short enough that a stalled backend costs a test about a second.
STALL_TIMEOUT_S = "1.0"


@pytest.fixture
def backend() -> Iterator[ScriptedBackend]:
    with ScriptedBackend() as server:
        server.configure(LOCAL_MODEL, cache=CacheRules(), context_window_tokens=8192)
        server.configure(MINI_MODEL, cache=CacheRules.openai())
        server.configure(CLAUDE_MODEL, cache=CacheRules.anthropic())
        yield server


def router_process(
    backend: ScriptedBackend, tmp_path: Path, *extra: str, env: dict[str, str] | None = None, **catalog: str
) -> RouterProcess:
    """A router (not yet started) on the Execute catalog, pointed at ``backend``; use it in a ``with``."""
    path = write_catalog(tmp_path, backend.base_url, **catalog)
    return RouterProcess("memory:", catalog=path, extra=["--execute-stall-timeout", STALL_TIMEOUT_S, *extra], env=env)


@pytest.fixture
def router(backend: ScriptedBackend, tmp_path: Path) -> Iterator[RouterProcess]:
    with router_process(backend, tmp_path) as process:
        yield process


@pytest.fixture
def client(router: RouterProcess) -> Iterator[RouterClient]:
    with RouterClient(router.address, ClientOptions(retry=RetryPolicy(max_attempts=1), timeout_s=30.0)) as c:
        yield c
