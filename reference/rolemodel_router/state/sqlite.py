"""The SQLite store: the embedded default, durable across restarts and kill -9.

State lives in this process (see in_process.py) and every transaction's
changes are written to SQLite before the call is answered, so an
acknowledged decision or outcome survives a crash of the router (RM-ROUTE-010,
RM-OUT-008). At the end of each turn of the event loop, the changes of every
call that finished in it are committed in one transaction (group commit), on
the loop: short and bounded, a WAL append of about 40 µs a call, merged into one
executemany per table, with rows in MessagePack (sqlite_rows.py). The database uses WAL with
synchronous=NORMAL: a commit survives the death of the process; only a power
loss can take the last commits, which a router can afford.

A lock file next to the database keeps a second router from opening it.
"""

from __future__ import annotations

import asyncio
import fcntl
import os
import sqlite3
from collections import OrderedDict
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from rolemodel.error_reasons import ErrorReason
from rolemodel_router.engine.catalog_index import QuotaIndex
from rolemodel_router.engine.errors import RouterError
from rolemodel_router.engine.quota_ledger import QuotaLedger
from rolemodel_router.state import sqlite_rows as rows
from rolemodel_router.state.caps import decision_weight
from rolemodel_router.state.in_process import Changes, InProcessStore
from rolemodel_router.state.model import DecisionRecord, OutcomeRecord, QuotaEvent
from rolemodel_router.state.store import Retention

#: 3: bodies are MessagePack (sqlite_rows.py). A schema-2 database (JSON bodies) opens as it is and is marked 3:
#: its rows are read either way and rewritten in the new form as they change.
SCHEMA_VERSION = 3
READABLE_SCHEMAS = frozenset({"2", "3"})
#: Decisions and outcomes kept in memory; older ones are read from the database when an outcome needs them.
RECENT_RECORDS = 20_000
#: And at most this many bytes of digests among the recent decisions (a 4,096-message prompt holds 128 KiB).
RECENT_DIGEST_BYTES = 64 * 1024 * 1024
SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS conversations (id TEXT PRIMARY KEY, body TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS decisions (id TEXT PRIMARY KEY, created_ms INTEGER NOT NULL, body TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS decisions_by_time ON decisions (created_ms);
CREATE TABLE IF NOT EXISTS outcomes (key TEXT PRIMARY KEY, created_ms INTEGER NOT NULL, body TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS outcomes_by_time ON outcomes (created_ms);
CREATE TABLE IF NOT EXISTS quota_events (
    quota_id TEXT NOT NULL, decision_id TEXT NOT NULL, body TEXT NOT NULL,
    PRIMARY KEY (quota_id, decision_id)
);
CREATE TABLE IF NOT EXISTS endpoint_health (endpoint_id TEXT PRIMARY KEY, body TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS share_state (role TEXT PRIMARY KEY, body TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS usage_windows (quota_id TEXT PRIMARY KEY, body TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS endpoint_occupancy (endpoint_id TEXT PRIMARY KEY, body TEXT NOT NULL);
-- What each transaction of a worker changed, for the other workers of `serve --workers N` (sqlite_shared.py).
CREATE TABLE IF NOT EXISTS changelog (seq INTEGER PRIMARY KEY AUTOINCREMENT, kind TEXT NOT NULL, key TEXT NOT NULL);
"""


class StoreOpenError(RuntimeError):
    """The database cannot be opened: in use by another router, of another schema, or not a database at all."""


class StoreLockedError(StoreOpenError):
    """Another router has the database open."""


#: One statement and the parameters of each row it writes (run with executemany).
Statement = tuple[str, list[tuple[object, ...]]]
#: A transaction's writes and the future its caller awaits.
Job = tuple[list[Statement], "asyncio.Future[None]"]
Row = tuple[object, ...]
#: Each list of Changes, the statement that writes one of its items, and the item's row.
WRITES: tuple[tuple[str, str, Callable[[Any], Row]], ...] = (
    ("conversations", "INSERT OR REPLACE INTO conversations VALUES (?, ?)",
     lambda c: (c.conversation_id, rows.CONVERSATIONS.dump(c))),
    ("decisions", "INSERT OR REPLACE INTO decisions VALUES (?, ?, ?)",
     lambda d: (d.decision_id, d.created_at_ms, rows.DECISIONS.dump(d))),
    ("quota_events", "INSERT OR REPLACE INTO quota_events VALUES (?, ?, ?)",
     lambda qe: (qe[0], qe[1].decision_id, rows.QUOTA_EVENTS.dump(qe[1]))),
    ("health", "INSERT OR REPLACE INTO endpoint_health VALUES (?, ?)",
     lambda eh: (eh[0], rows.ENDPOINT_HEALTH.dump(eh[1]))),
    ("shares", "INSERT OR REPLACE INTO share_state VALUES (?, ?)", lambda rs: (rs[0], rows.SHARE_STATE.dump(rs[1]))),
    ("usage", "INSERT OR REPLACE INTO usage_windows VALUES (?, ?)", lambda qu: (qu[0], rows.USAGE_WINDOWS.dump(qu[1]))),
    ("occupancy", "INSERT OR REPLACE INTO endpoint_occupancy VALUES (?, ?)",
     lambda er: (er[0], rows.ENDPOINT_OCCUPANCY.dump(er[1]))),
    ("deleted_conversations", "DELETE FROM conversations WHERE id = ?", lambda cid: (cid,)),
    ("deleted_decisions", "DELETE FROM decisions WHERE id = ?", lambda did: (did,)),
    ("deleted_outcomes", "DELETE FROM outcomes WHERE key = ?", lambda key: (key,)),
    ("deleted_events", "DELETE FROM quota_events WHERE quota_id = ? AND decision_id = ?", tuple),
)  # fmt: skip


def _statements(changes: Changes) -> list[Statement]:
    """The writes of one transaction, one statement per table, each with all its rows."""
    out: list[Statement] = []
    for name, sql, row in WRITES:
        items = getattr(changes, name)
        if items:
            out.append((sql, [row(item) for item in items]))
    if changes.outcomes:
        created = {d.decision_id: d.created_at_ms for d in changes.decisions}
        out.append(
            (
                "INSERT OR REPLACE INTO outcomes VALUES (?, ?, ?)",
                # An outcome is kept as long as its decision: its row carries the decision's time.
                [(o.idempotency_key, created.get(o.decision_id, 0), rows.OUTCOMES.dump(o)) for o in changes.outcomes],
            )
        )
    if changes.forget_records_before_ms:
        cutoff: list[Row] = [(changes.forget_records_before_ms,)]
        out += [
            ("DELETE FROM decisions WHERE created_ms < ?", cutoff),
            ("DELETE FROM outcomes WHERE created_ms < ?", cutoff),
        ]
    return out


def _merged(jobs: list[list[Statement]]) -> list[Statement]:
    """The statements of several transactions, each SQL once with the rows of all, in the order written.

    Upserts of different transactions commute except on the same key, where executemany keeps their order.
    A transaction that deletes is its own run: merged with upserts, its delete could move past a later
    upsert of the same key.
    """
    merged: list[Statement] = []
    run: dict[str, list[tuple[object, ...]]] = {}
    for statements in jobs:
        deletes = any(sql.startswith("DELETE") for sql, _ in statements)
        if deletes:
            merged += run.items()
            run = {}
            merged += statements
            continue
        for sql, args in statements:
            run.setdefault(sql, []).extend(args)
    merged += run.items()
    return merged


def commit_batch(db: sqlite3.Connection, batch: list[Job]) -> None:
    """Commit the writes of ``batch`` in one transaction and settle each caller's future with the result."""
    error: BaseException | None = None
    try:
        db.execute("BEGIN IMMEDIATE")
        for sql, args in _merged([statements for statements, _ in batch]):
            db.executemany(sql, args)
        db.execute("COMMIT")
    except sqlite3.Error as exc:
        error = exc
        if db.in_transaction:
            db.execute("ROLLBACK")
    _resolve([future for _, future in batch], error)


def _resolve(futures: list[asyncio.Future[None]], error: BaseException | None) -> None:
    for future in futures:
        if future.done():
            continue
        if error is None:
            future.set_result(None)
        else:
            future.set_exception(error)


def _unavailable(error: sqlite3.Error) -> RouterError:
    return RouterError(
        ErrorReason.STATE_STORE_UNAVAILABLE, f"the state database cannot be written ({error}); nothing was changed"
    )


def _undo(undo: list[Callable[[], None]]) -> None:
    for step in reversed(undo):
        step()


def _undo_if_failed(done: asyncio.Future[None], undo: list[Callable[[], None]]) -> None:
    if not done.cancelled() and done.exception() is not None:
        _undo(undo)


class SqliteStore(InProcessStore):
    name = "sqlite"
    durable = True

    def __init__(
        self, path: Path, retention: Retention | None = None, quotas: Mapping[str, QuotaIndex] | None = None
    ) -> None:
        super().__init__(retention, quotas)
        self.path = path
        self._lock_file: int | None = None
        self._db: sqlite3.Connection | None = None  # the event loop's connection, which commits
        self._reader: sqlite3.Connection | None = None
        self._pending: list[Job] = []  # finished this turn of the event loop, handed to the writer at its end
        # The most recent records only; the rest are read from the database on demand.
        self.recent_decisions: OrderedDict[str, DecisionRecord] = OrderedDict()
        self.recent_outcomes: OrderedDict[str, OutcomeRecord] = OrderedDict()
        self.recent_digest_bytes = 0

    async def start(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.lock_against_other_routers()
        try:
            self._open()
        except BaseException:
            self.release_router_lock()
            raise
        self._reader = sqlite3.connect(self.path, check_same_thread=False)
        self._db = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
        self._db.execute("PRAGMA synchronous=NORMAL")

    @staticmethod
    def _recent(cache: OrderedDict[str, Any], key: str, value: Any) -> None:
        cache[key] = value
        cache.move_to_end(key)
        while len(cache) > RECENT_RECORDS:
            cache.popitem(last=False)

    def _remember_decision(self, record: DecisionRecord) -> None:
        """Keep ``record`` among the recent ones, within a count and a digest budget (the database has them all)."""
        self._forget_decision(record.decision_id)
        self.recent_decisions[record.decision_id] = record
        self.recent_digest_bytes += decision_weight(record)
        while len(self.recent_decisions) > RECENT_RECORDS or (
            self.recent_digest_bytes > RECENT_DIGEST_BYTES and len(self.recent_decisions) > 1
        ):
            _, old = self.recent_decisions.popitem(last=False)
            self.recent_digest_bytes -= decision_weight(old)

    def _make_room_for_decision(
        self, record: DecisionRecord, now_ms: int, changes: Changes, undo: list[Callable[[], None]]
    ) -> None:
        """Nothing to make room for: decisions live in the database, which keeps them their retention time."""

    def _remember_outcome(self, record: OutcomeRecord) -> None:
        self._recent(self.recent_outcomes, record.idempotency_key, record)

    def _forget_decision(self, decision_id: str) -> None:
        old = self.recent_decisions.pop(decision_id, None)
        if old is not None:
            self.recent_digest_bytes -= decision_weight(old)

    def _forget_outcome(self, idempotency_key: str) -> None:
        self.recent_outcomes.pop(idempotency_key, None)

    def _read(self, sql: str, key: str) -> rows.Body | None:
        """A short, bounded read on the event loop: one indexed row from a WAL database."""
        if self._reader is None:
            return None
        row = self._reader.execute(sql, (key,)).fetchone()
        return row[0] if row else None

    def _decision(self, decision_id: str) -> DecisionRecord | None:
        record = self.recent_decisions.get(decision_id)
        if record is None:
            body = self._read("SELECT body FROM decisions WHERE id = ?", decision_id)
            record = rows.DECISIONS.load(body) if body else None
        return record

    def _outcome(self, idempotency_key: str) -> OutcomeRecord | None:
        record = self.recent_outcomes.get(idempotency_key)
        if record is None:
            body = self._read("SELECT body FROM outcomes WHERE key = ?", idempotency_key)
            record = rows.OUTCOMES.load(body) if body else None
        return record

    def _expire_records(self, oldest_ms: int, changes: Changes) -> None:
        for key in [k for k, v in self.recent_decisions.items() if v.created_at_ms < oldest_ms]:
            self._forget_decision(key)
        kept = {r.outcome_key for r in self.recent_decisions.values()}
        for key in [k for k in self.recent_outcomes if k not in kept]:
            del self.recent_outcomes[key]
        changes.forget_records_before_ms = oldest_ms

    def lock_against_other_routers(self) -> None:
        """Hold the database's router lock: one router (or one supervisor of workers) per database."""
        # The resolved path: two routers that reach one file through a symlink must meet at one lock.
        fd = os.open(f"{self.path.resolve()}.lock", os.O_CREAT | os.O_RDWR, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            raise StoreLockedError(f"{self.path} is in use by another router") from None
        self._lock_file = fd

    def release_router_lock(self) -> None:
        if self._lock_file is not None:
            fcntl.flock(self._lock_file, fcntl.LOCK_UN)
            os.close(self._lock_file)
            self._lock_file = None

    def _open(self) -> None:
        """Create or check the schema and load the state; a file SQLite cannot use is a StoreOpenError."""
        try:
            db = sqlite3.connect(self.path)
        except sqlite3.Error as error:
            raise StoreOpenError(f"cannot open {self.path}: {error}") from None
        try:
            db.execute("PRAGMA journal_mode=WAL")
            db.executescript(SCHEMA)
            version = db.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()
            if version is not None and str(version[0]) not in READABLE_SCHEMAS:
                raise StoreOpenError(
                    f"{self.path} has state schema {version[0]}; this router uses {SCHEMA_VERSION}: move the file aside"
                )
            # Marked 3 even when it was 2: a router that writes only JSON would misread the binary rows to come.
            db.execute("INSERT OR REPLACE INTO meta VALUES ('schema_version', ?)", (str(SCHEMA_VERSION),))
            db.commit()
            self._load(db)
        except sqlite3.Error as error:
            raise StoreOpenError(f"cannot use {self.path} as the router's state: {error}") from None
        finally:
            db.close()

    def _load(self, db: sqlite3.Connection) -> None:
        for (body,) in db.execute("SELECT body FROM conversations"):
            c = rows.CONVERSATIONS.load(body)
            self.conversations[c.conversation_id] = c
        events: dict[str, list[QuotaEvent]] = {}
        for quota_id, body in db.execute("SELECT quota_id, body FROM quota_events"):
            events.setdefault(quota_id, []).append(rows.QUOTA_EVENTS.load(body))
        for quota_id, loaded in events.items():
            if quota_id in self.quotas:
                self.ledgers[quota_id] = QuotaLedger(self.quotas[quota_id], loaded)
        for endpoint_id, body in db.execute("SELECT endpoint_id, body FROM endpoint_health"):
            self.health_by_endpoint[endpoint_id] = rows.ENDPOINT_HEALTH.load(body)
        for role, body in db.execute("SELECT role, body FROM share_state"):
            self.shares[role] = rows.SHARE_STATE.load(body)
        for quota_id, body in db.execute("SELECT quota_id, body FROM usage_windows"):
            if quota_id in self.quotas:
                self.usage[quota_id] = rows.USAGE_WINDOWS.load(body)
        for endpoint_id, body in db.execute("SELECT endpoint_id, body FROM endpoint_occupancy"):
            self.occupancy[endpoint_id] = rows.ENDPOINT_OCCUPANCY.load(body)

    def _queue(self, changes: Changes) -> asyncio.Future[None]:
        """Hand ``changes`` to this turn's group commit; the future settles when it has been committed."""
        if self._db is None:
            raise RuntimeError("the SQLite store is not started")
        loop = asyncio.get_running_loop()
        future: asyncio.Future[None] = loop.create_future()
        if not self._pending:
            loop.call_soon(self._hand_off)
        self._pending.append((_statements(changes), future))
        return future

    async def _persist(self, changes: Changes) -> None:
        try:
            await asyncio.shield(self._queue(changes))
        except sqlite3.Error as error:
            raise _unavailable(error) from None

    async def _persist_or_undo(self, changes: Changes, undo: list[Callable[[], None]]) -> None:
        """Write ``changes``; undo memory when the write fails, also when the caller is cancelled meanwhile.

        A cancelled caller (its deadline passed, or the client went away) does not take a queued write
        back: the group commit goes ahead, so memory keeps what the database will hold, and is undone
        only if that commit fails. Memory and database never disagree about a decision or a quota slot.
        """
        future = self._queue(changes)
        try:
            await asyncio.shield(future)
        except asyncio.CancelledError:
            future.add_done_callback(lambda done: _undo_if_failed(done, undo))
            raise
        except sqlite3.Error as error:
            # A full disk, a read-only or damaged database: nothing was written.
            _undo(undo)
            raise _unavailable(error) from None

    def _hand_off(self) -> None:
        """Commit every transaction this turn of the event loop finished: one SQLite transaction for all.

        On the loop itself: a WAL append without fsync (synchronous=NORMAL), about 40 µs a call in batches
        of 32. A writer thread did the same work but cost two wake-ups per batch (its own and the loop's),
        and on a busy machine each waited for the scheduler while every caller of the batch waited too.
        """
        pending, self._pending = self._pending, []
        if pending and self._db is not None:
            commit_batch(self._db, pending)

    async def close(self) -> None:
        self._hand_off()
        if self._db is not None:
            self._db.close()
            self._db = None
        if self._reader is not None:
            self._reader.close()
            self._reader = None
        self.release_router_lock()
