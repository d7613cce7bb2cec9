"""One scripted backend and one router with ``--http`` per test module, on the front-door catalog.

The backend's models cache exactly as the catalog says their endpoints do, so what the router
predicts and what the backend reports can be compared turn by turn.
"""

from __future__ import annotations

from collections.abc import Iterator

import anthropic
import openai
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


@pytest.fixture
def oai(router: RouterProcess) -> Iterator[openai.OpenAI]:
    """The official OpenAI client on the module's router (or the test's, where a module overrides ``router``)."""
    with openai.OpenAI(base_url=router.http_url + "/v1", api_key="no-auth", max_retries=0) as client:
        yield client


@pytest.fixture
def ant(router: RouterProcess) -> Iterator[anthropic.Anthropic]:
    with anthropic.Anthropic(base_url=router.http_url, api_key="no-auth", max_retries=0) as client:
        yield client
