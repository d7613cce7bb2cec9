"""The SQLite store: the embedded default, durable across restarts and kill -9.

State lives in this process (see in_process.py) and every transaction's
changes are written to SQLite before the call is answered, so an
acknowledged decision or outcome survives a crash of the router (RM-ROUTE-010,
RM-OUT-008). One writer thread commits the changes of all calls waiting at
that moment in one transaction (group commit), which keeps the event loop free
and the cost per call low under concurrency. The database uses WAL with
synchronous=NORMAL: a commit survives the death of the process; only a power
loss can take the last commits, which a router can afford.

A lock file next to the database keeps a second router from opening it.
"""

from __future__ import annotations

import asyncio
import fcntl
import os
import queue
import sqlite3
import threading
from collections.abc import Mapping
from pathlib import Path

from rolemodel_router.engine.catalog_index import QuotaIndex
from rolemodel_router.engine.quota_ledger import QuotaLedger
from rolemodel_router.state import codec
from rolemodel_router.state.in_process import Changes, InProcessStore
from rolemodel_router.state.model import QuotaEvent
from rolemodel_router.state.store import Retention

SCHEMA_VERSION = 1
SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS conversations (id TEXT PRIMARY KEY, body TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS decisions (id TEXT PRIMARY KEY, body TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS outcomes (key TEXT PRIMARY KEY, body TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS quota_events (
    quota_id TEXT NOT NULL, decision_id TEXT NOT NULL, body TEXT NOT NULL,
    PRIMARY KEY (quota_id, decision_id)
);
CREATE TABLE IF NOT EXISTS endpoint_health (endpoint_id TEXT PRIMARY KEY, body TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS share_state (role TEXT PRIMARY KEY, body TEXT NOT NULL);
"""


class StoreLockedError(RuntimeError):
    """Another router has the database open."""


def _statements(changes: Changes) -> list[tuple[str, tuple[str, ...]]]:
    out: list[tuple[str, tuple[str, ...]]] = []
    upsert = "INSERT OR REPLACE INTO {} VALUES (?, ?)"
    out += [
        (upsert.format("conversations"), (c.conversation_id, codec.dump_conversation(c))) for c in changes.conversations
    ]
    out += [(upsert.format("decisions"), (d.decision_id, codec.dump_decision(d))) for d in changes.decisions]
    out += [(upsert.format("outcomes"), (o.idempotency_key, codec.dump_outcome(o))) for o in changes.outcomes]
    out += [
        ("INSERT OR REPLACE INTO quota_events VALUES (?, ?, ?)", (q, e.decision_id, codec.dump_event(e)))
        for q, e in changes.quota_events
    ]
    out += [(upsert.format("endpoint_health"), (eid, codec.dump_health(h))) for eid, h in changes.health]
    out += [(upsert.format("share_state"), (role, codec.dump_share(s))) for role, s in changes.shares]
    out += [("DELETE FROM conversations WHERE id = ?", (cid,)) for cid in changes.deleted_conversations]
    out += [("DELETE FROM decisions WHERE id = ?", (did,)) for did in changes.deleted_decisions]
    out += [("DELETE FROM outcomes WHERE key = ?", (key,)) for key in changes.deleted_outcomes]
    out += [
        ("DELETE FROM quota_events WHERE quota_id = ? AND decision_id = ?", (q, did))
        for q, did in changes.deleted_events
    ]
    return out


class _Writer(threading.Thread):
    """Commits queued changes in batches; each caller awaits its batch's commit."""

    def __init__(self, path: Path) -> None:
        super().__init__(name="rolemodel-sqlite-writer", daemon=True)
        self.path = path
        self.jobs: queue.Queue[tuple[list[tuple[str, tuple[str, ...]]], asyncio.Future[None]] | None] = queue.Queue()
        self.error: BaseException | None = None

    def run(self) -> None:
        db = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
        db.execute("PRAGMA journal_mode=WAL")
        db.execute("PRAGMA synchronous=NORMAL")
        try:
            while True:
                job = self.jobs.get()
                if job is None:
                    return
                batch = [job]
                stop = False
                while True:
                    try:
                        more = self.jobs.get_nowait()
                    except queue.Empty:
                        break
                    if more is None:
                        stop = True
                        break
                    batch.append(more)
                self._commit(db, batch)
                if stop:
                    return
        finally:
            db.close()

    def _commit(
        self, db: sqlite3.Connection, batch: list[tuple[list[tuple[str, tuple[str, ...]]], asyncio.Future[None]]]
    ) -> None:
        error: BaseException | None = None
        try:
            db.execute("BEGIN IMMEDIATE")
            for statements, _ in batch:
                for sql, args in statements:
                    db.execute(sql, args)
            db.execute("COMMIT")
        except sqlite3.Error as exc:
            error = exc
            if db.in_transaction:
                db.execute("ROLLBACK")
        for _, future in batch:
            loop = future.get_loop()
            if error is None:
                loop.call_soon_threadsafe(_resolve, future, None)
            else:
                loop.call_soon_threadsafe(_resolve, future, error)


def _resolve(future: asyncio.Future[None], error: BaseException | None) -> None:
    if future.done():
        return
    if error is None:
        future.set_result(None)
    else:
        future.set_exception(error)


class SqliteStore(InProcessStore):
    name = "sqlite"
    durable = True

    def __init__(
        self, path: Path, retention: Retention | None = None, quotas: Mapping[str, QuotaIndex] | None = None
    ) -> None:
        super().__init__(retention, quotas)
        self.path = path
        self._lock_file: int | None = None
        self._writer: _Writer | None = None

    async def start(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._lock()
        db = sqlite3.connect(self.path)
        try:
            db.execute("PRAGMA journal_mode=WAL")
            db.executescript(SCHEMA)
            db.execute("INSERT OR IGNORE INTO meta VALUES ('schema_version', ?)", (str(SCHEMA_VERSION),))
            db.commit()
            self._load(db)
        finally:
            db.close()
        self._writer = _Writer(self.path)
        self._writer.start()

    def _lock(self) -> None:
        fd = os.open(f"{self.path}.lock", os.O_CREAT | os.O_RDWR, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            raise StoreLockedError(f"{self.path} is in use by another router") from None
        self._lock_file = fd

    def _load(self, db: sqlite3.Connection) -> None:
        for (body,) in db.execute("SELECT body FROM conversations"):
            c = codec.load_conversation(body)
            self.conversations[c.conversation_id] = c
        for (body,) in db.execute("SELECT body FROM decisions"):
            d = codec.load_decision(body)
            self.decisions[d.decision_id] = d
        for (body,) in db.execute("SELECT body FROM outcomes"):
            o = codec.load_outcome(body)
            self.outcomes[o.idempotency_key] = o
        events: dict[str, list[QuotaEvent]] = {}
        for quota_id, body in db.execute("SELECT quota_id, body FROM quota_events"):
            events.setdefault(quota_id, []).append(codec.load_event(body))
        for quota_id, loaded in events.items():
            if quota_id in self.quotas:
                self.ledgers[quota_id] = QuotaLedger(self.quotas[quota_id], loaded)
        for endpoint_id, body in db.execute("SELECT endpoint_id, body FROM endpoint_health"):
            self.health_by_endpoint[endpoint_id] = codec.load_health(body)
        for role, body in db.execute("SELECT role, body FROM share_state"):
            self.shares[role] = codec.load_share(body)

    async def _persist(self, changes: Changes) -> None:
        if self._writer is None:
            raise RuntimeError("the SQLite store is not started")
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._writer.jobs.put((_statements(changes), future))
        await asyncio.shield(future)

    async def close(self) -> None:
        writer, self._writer = self._writer, None
        if writer is not None:
            writer.jobs.put(None)
            await asyncio.to_thread(writer.join)
        if self._lock_file is not None:
            fcntl.flock(self._lock_file, fcntl.LOCK_UN)
            os.close(self._lock_file)
            self._lock_file = None
