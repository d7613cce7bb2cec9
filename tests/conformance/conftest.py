"""Routers for the suite's own tests: one reference router per module, started with the fixture."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.conformance.routers import Router, running_router


@pytest.fixture(scope="module")
def reference() -> Iterator[Router]:
    """The reference router with the fixture catalog and the memory store."""
    with running_router() as router:
        yield router
