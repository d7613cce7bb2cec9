"""Two shared SQLite stores on one database, as two workers hold them: each sees what the other wrote."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from rolemodel_router.config.catalog_loader import load_catalog
from rolemodel_router.core import RouterCore
from rolemodel_router.engine.catalog_index import CatalogIndex
from rolemodel_router.state import sqlite_shared
from rolemodel_router.state.sqlite_shared import SharedSqliteStore
from tests.requests import conversation, new_id, outcome, route

ROOT = Path(__file__).resolve().parents[2]
FIXTURE = CatalogIndex(load_catalog(ROOT / "conformance" / "fixtures" / "catalog.yaml"))


class Clock:
    def __init__(self) -> None:
        self.ms = 1_700_000_000_000

    def __call__(self) -> int:
        return self.ms


async def _two_workers(path: Path, clock: Clock) -> tuple[RouterCore, RouterCore]:
    cores = []
    for _ in range(2):
        store = SharedSqliteStore(path, quotas=FIXTURE.quotas)
        await store.start()
        cores.append(RouterCore(FIXTURE, store, clock=clock))
    return cores[0], cores[1]


def test_a_quota_and_an_outcome_are_shared_between_workers(tmp_path: Path) -> None:
    clock = Clock()

    async def scenario() -> None:
        first, second = await _two_workers(tmp_path / "r.db", clock)
        quota = [
            await core.route(core.validate_route(route("x-conformance.quota", conversation(new_id(), [20]))))
            for core in (first, second, first)
        ]
        assert [d.chosen_endpoint_id for d in quota] == ["fx-quota"] * 3
        fourth = await second.route(second.validate_route(route("x-conformance.quota", conversation(new_id(), [20]))))
        assert fourth.chosen_endpoint_id == "fx-deepseek"
        decided = quota[0]
        report = outcome(decided.decision_id, decided.chosen_endpoint_id, key="once")
        assert not (await second.report(report)).replayed
        assert (await first.report(report)).replayed
        conversation_id = (await first.store.decision(decided.decision_id)).conversation_id  # type: ignore[union-attr]
        assert await first.store.conversation(conversation_id) == await second.store.conversation(conversation_id)
        assert await first.store.health() == await second.store.health()
        for core in (first, second):
            await core.store.close()

    asyncio.run(scenario())


def test_a_worker_behind_a_trimmed_changelog_reloads_everything(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sqlite_shared, "KEEP_CHANGES", 2)
    clock = Clock()

    async def scenario() -> None:
        first, second = await _two_workers(tmp_path / "r.db", clock)
        conversations = [new_id() for _ in range(4)]
        for conversation_id in conversations:
            await first.route(first.validate_route(route("chore", conversation(conversation_id, [30]))))
        await first.store.prune(clock.ms)  # keeps the last two entries, marks the rest trimmed
        assert isinstance(second.store, SharedSqliteStore)
        for conversation_id in conversations:
            assert (await second.store.conversation(conversation_id)).current_endpoint_id
        for core in (first, second):
            await core.store.close()

    asyncio.run(scenario())
