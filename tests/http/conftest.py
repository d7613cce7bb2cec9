"""One scripted backend and one router with ``--http`` per test module, on the front-door catalog.

The backend's models cache exactly as the catalog says their endpoints do, so what the router
predicts and what the backend reports can be compared turn by turn.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from google.protobuf import json_format

from rolemodel.v1 import catalog_pb2
from rolemodel_router.backends.scripted import CacheRules, ScriptedBackend
from tests.http.catalog import catalog, write_catalog
from tests.router.harness import RouterProcess


@pytest.fixture(scope="module")
def backend() -> Iterator[ScriptedBackend]:
    with ScriptedBackend() as server:
        for endpoint in catalog(server.base_url)["endpoints"]:
            caching = json_format.ParseDict(endpoint["caching"], catalog_pb2.CachingBehavior())
            server.configure(endpoint["model"], cache=CacheRules.from_catalog(caching))
        yield server


@pytest.fixture(scope="module")
def router(backend: ScriptedBackend, tmp_path_factory: pytest.TempPathFactory) -> Iterator[RouterProcess]:
    path = write_catalog(tmp_path_factory.mktemp("catalog"), backend.base_url)
    with RouterProcess("memory:", catalog=path, extra=["--http", "127.0.0.1:0"]) as process:
        yield process
