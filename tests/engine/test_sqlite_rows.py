"""The SQLite store's binary rows, and a schema-2 database (JSON rows) opened by this router."""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Callable
from pathlib import Path
from typing import Any

import msgpack

from rolemodel.v1 import decision_pb2
from rolemodel_router.config.catalog_loader import load_catalog
from rolemodel_router.core import RouterCore
from rolemodel_router.engine.catalog_index import CatalogIndex
from rolemodel_router.engine.digest_chain import DigestChain
from rolemodel_router.state import codec, sqlite, sqlite_rows
from rolemodel_router.state.model import CacheEntry, CachePoint, ConversationState, EndpointHealth, ShareState
from tests.requests import conversation, new_id, outcome, route

ROOT = Path(__file__).resolve().parents[2]
FIXTURE = CatalogIndex(load_catalog(ROOT / "conformance" / "fixtures" / "catalog.yaml"))
#: Each table, its key columns, the JSON writer schema 2 used for its body, and its body now.
TABLES: dict[str, tuple[str, Callable[[Any], str], sqlite_rows.BodyFormat[Any]]] = {
    "conversations": ("id", codec.dump_conversation, sqlite_rows.CONVERSATIONS),
    "decisions": ("id", codec.dump_decision, sqlite_rows.DECISIONS),
    "outcomes": ("key", codec.dump_outcome, sqlite_rows.OUTCOMES),
    "quota_events": ("quota_id, decision_id", codec.dump_event, sqlite_rows.QUOTA_EVENTS),
    "endpoint_health": ("endpoint_id", codec.dump_health, sqlite_rows.ENDPOINT_HEALTH),
    "share_state": ("role", codec.dump_share, sqlite_rows.SHARE_STATE),
}


async def _write_some_state(path: Path) -> tuple[RouterCore, list[str]]:
    """Routes on a quota-limited, a paced and a plain role, an outcome for each; the store is left open."""
    store = sqlite.SqliteStore(path, quotas=FIXTURE.quotas)
    await store.start()
    core = RouterCore(FIXTURE, store)
    decided = []
    for role in ("x-conformance.quota", "x-conformance.paced", "chore"):
        decision = await core.route(core.validate_route(route(role, conversation(new_id(), [40, 60]))))
        await core.report(outcome(decision.decision_id, decision.chosen_endpoint_id, key=f"key-{decision.decision_id}"))
        decided.append(decision.decision_id)
    return core, decided


def _rewrite_as_schema_2(path: Path) -> int:
    """Every body as the JSON schema 2 wrote; returns how many rows were rewritten."""
    db = sqlite3.connect(path)
    count = 0
    for table, (keys, dump_json, body_format) in TABLES.items():
        for row in db.execute(f"SELECT {keys}, body FROM {table}").fetchall():  # noqa: S608 (names from TABLES)
            where = " AND ".join(f"{k.strip()} = ?" for k in keys.split(","))
            json_body = dump_json(body_format.load(row[-1]))
            db.execute(f"UPDATE {table} SET body = ? WHERE {where}", (json_body, *row[:-1]))  # noqa: S608
            count += 1
    db.execute("UPDATE meta SET value = '2' WHERE key = 'schema_version'")
    db.commit()
    db.close()
    return count


def test_every_row_reads_back_as_written(tmp_path: Path) -> None:
    async def scenario() -> None:
        core, _ = await _write_some_state(tmp_path / "r.db")
        await core.store.close()
        db = sqlite3.connect(tmp_path / "r.db")
        for table, (keys, _, body_format) in TABLES.items():
            bodies = [row[-1] for row in db.execute(f"SELECT {keys}, body FROM {table}")]  # noqa: S608
            assert bodies, f"the scenario wrote no {table}"
            for body in bodies:
                assert isinstance(body, bytes)
                assert body_format.dump(body_format.load(body)) == body
        db.close()

    asyncio.run(scenario())


def test_health_and_share_round_trip_with_their_optional_fields() -> None:
    moments = (2_000.0, 3.0, 5_000_000.0, 7_000.0)
    for health in (
        EndpointHealth(),
        EndpointHealth(3, 120.5, 0.25, 1, 99, 900.0, 45.5, 80.0),
        EndpointHealth(3, 120.5, 0.25, 1, 99, 900.0, 45.5, 80.0, moments),
    ):
        assert sqlite_rows.ENDPOINT_HEALTH.load(sqlite_rows.ENDPOINT_HEALTH.dump(health)) == health
    share = ShareState(window=((0.5, True, 1), (0.25, False, 2)), integral=-0.125)
    assert sqlite_rows.SHARE_STATE.load(sqlite_rows.SHARE_STATE.dump(share)) == share


def test_an_explicit_cache_keeps_its_points_and_an_entry_written_without_them_reads_as_none() -> None:
    points = (CachePoint(1, 0, b"p" * 32), CachePoint(2, 3, b"q" * 32))
    entry = CacheEntry(
        DigestChain.of((b"a" * 32, b"b" * 32)),
        900,
        40,
        99_000,
        decision_pb2.CACHE_STATE_SOURCE_REPORTED,
        "d-1",
        5,
        points,
    )
    state = ConversationState("c-1", cache={"fx-opus": entry})
    body = sqlite_rows.CONVERSATIONS.dump(state)
    assert sqlite_rows.CONVERSATIONS.load(body) == state  # a restart, or another worker, sees where it can read
    fields = msgpack.unpackb(body)
    fields[3]["fx-opus"].pop()  # as the first schema-3 rows were written: seven fields per entry
    assert sqlite_rows.CONVERSATIONS.load(msgpack.packb(fields)).cache["fx-opus"].points == ()


def test_a_schema_2_database_opens_with_its_state_and_is_marked_3(tmp_path: Path) -> None:
    path = tmp_path / "r.db"

    async def scenario() -> None:
        core, decided = await _write_some_state(path)
        conversations = dict(core.store.conversations)  # type: ignore[attr-defined]
        ledgers = {q: dict(ledger.events) for q, ledger in core.store.ledgers.items()}  # type: ignore[attr-defined]
        await core.store.close()
        assert _rewrite_as_schema_2(path) >= 9
        reopened = sqlite.SqliteStore(path, quotas=FIXTURE.quotas)
        await reopened.start()
        assert reopened.conversations == conversations
        assert {q: dict(ledger.events) for q, ledger in reopened.ledgers.items()} == ledgers
        for decision_id in decided:
            record = await reopened.decision(decision_id)
            assert record is not None and record.outcome_key
        again = RouterCore(FIXTURE, reopened)
        record = await reopened.decision(decided[0])
        assert record is not None
        replay = await again.report(outcome(decided[0], record.chosen_endpoint_id, key=f"key-{decided[0]}"))
        assert replay.effects.served_endpoint_id == record.chosen_endpoint_id
        await again.route(again.validate_route(route("chore", conversation(new_id(), [10]))))
        await reopened.close()
        db = sqlite3.connect(path)
        assert db.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone() == ("3",)
        kinds = {type(body) for (body,) in db.execute("SELECT body FROM decisions")}
        assert kinds == {str, bytes}
        db.close()

    asyncio.run(scenario())


def test_a_database_of_an_unknown_schema_is_refused_by_name(tmp_path: Path) -> None:
    path = tmp_path / "r.db"

    async def scenario() -> None:
        core, _ = await _write_some_state(path)
        await core.store.close()
        db = sqlite3.connect(path)
        db.execute("UPDATE meta SET value = '9' WHERE key = 'schema_version'")
        db.commit()
        db.close()
        try:
            await sqlite.SqliteStore(path, quotas=FIXTURE.quotas).start()
        except sqlite.StoreOpenError as error:
            assert "schema 9" in str(error) and "uses 3" in str(error)
        else:
            raise AssertionError("a schema-9 database was opened")

    asyncio.run(scenario())
