"""A real llama.cpp server with a tiny model written at test time (bench/local_llama.py).

The tests skip when no llama-server binary is found, unless ROLEMODEL_REQUIRE_LLAMA=1 (which
.ci/run sets after building it with .ci/build-llama-server): then a missing binary fails them.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from bench.local_llama import LlamaServer, find_llama_server, write_model


@pytest.fixture(scope="session")
def llama_binary() -> Path:
    binary = find_llama_server()
    if binary is None:
        if os.environ.get("ROLEMODEL_REQUIRE_LLAMA") == "1":
            pytest.fail("ROLEMODEL_REQUIRE_LLAMA=1 but no llama-server was found (run .ci/build-llama-server)")
        pytest.skip("no llama-server binary (build one with .ci/build-llama-server)")
    return binary


@pytest.fixture(scope="session")
def tiny_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_model(tmp_path_factory.mktemp("model") / "tiny.gguf")


@pytest.fixture
def llama_server(llama_binary: Path, tiny_model: Path, tmp_path: Path) -> Iterator[LlamaServer]:
    with LlamaServer(llama_binary, tiny_model, slots=2, context=8192, log=tmp_path / "llama.log") as server:
        yield server
