"""The shared routing data, or a skip that says why."""

from __future__ import annotations

from pathlib import Path

import pytest

from bench.routing_data import default_data_dir


@pytest.fixture(scope="session")
def routing_data_dir() -> Path:
    folder = default_data_dir()
    if not folder.is_dir():
        pytest.skip(f"shared routing data not found at shared/data/routing beside the main checkout ({folder})")
    return folder
