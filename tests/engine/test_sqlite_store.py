"""The SQLite store keeps only recent records in memory and reads older ones from disk."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from rolemodel_router.config.catalog_loader import load_catalog
from rolemodel_router.core import RouterCore
from rolemodel_router.engine.catalog_index import CatalogIndex
from rolemodel_router.engine.errors import RouterError
from rolemodel_router.state import sqlite
from rolemodel_router.state.store import Retention
from tests.requests import conversation, new_id, outcome, route

ROOT = Path(__file__).resolve().parents[2]
FIXTURE = CatalogIndex(load_catalog(ROOT / "conformance" / "fixtures" / "catalog.yaml"))


class Clock:
    def __init__(self) -> None:
        self.ms = 1_700_000_000_000

    def __call__(self) -> int:
        return self.ms


def test_old_decisions_are_read_from_disk_and_pruned_after_retention(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sqlite, "RECENT_RECORDS", 5)
    clock = Clock()

    async def scenario() -> None:
        store = sqlite.SqliteStore(tmp_path / "r.db", Retention(decision_ms=60_000), FIXTURE.quotas)
        await store.start()
        core = RouterCore(FIXTURE, store, clock=clock)
        decisions = [
            await core.route(core.validate_route(route("chore", conversation(new_id(), [10])))) for _ in range(20)
        ]
        assert len(store.recent_decisions) == 5
        oldest = decisions[0]
        effects = (await core.report(outcome(oldest.decision_id, oldest.chosen_endpoint_id))).effects
        assert effects.served_endpoint_id == oldest.chosen_endpoint_id
        with pytest.raises(RouterError) as second:
            await core.report(outcome(oldest.decision_id, oldest.chosen_endpoint_id, key="again"))
        assert second.value.reason.value == "OUTCOME_ALREADY_REPORTED"
        clock.ms += 61_000
        await store.prune(clock.ms)
        await store.close()
        reopened = sqlite.SqliteStore(tmp_path / "r.db", Retention(decision_ms=60_000), FIXTURE.quotas)
        await reopened.start()
        assert await reopened.decision(decisions[-1].decision_id) is None
        await reopened.close()

    asyncio.run(scenario())
