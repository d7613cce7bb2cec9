"""One SQLite database shared by the worker processes of ``rolemodel serve --workers N``.

Each worker keeps the state in memory, as the single-process store does, but a transaction runs as a turn:
take the database's turn lock (a file lock, which wakes the next worker at once, where SQLite's own busy
handler would sleep a millisecond or more), read the changelog for what the other workers changed since
this one last looked and reload those rows (a conversation only when this worker next needs it), decide,
write the rows and their changelog entries, commit, and let go. The turn runs without yielding to the
event loop, so no other call of this worker interleaves, and the lock keeps other workers out: a quota is
admitted against every worker's reservations (RM-QUOTA-002), and an
outcome's idempotency key is checked against every worker's reports (RM-OUT-008).

The commit is synchronous and acknowledged calls are on disk as with one process (WAL, synchronous=NORMAL).
The price is one SQLite transaction per call instead of group commit, and a lock held for the length of a
decision: workers scale the gRPC, validation and encoding work, not the decisions themselves.

Inspection calls (the card's health, a conversation, a decision) catch up first under the same lock. The
supervisor holds the database's router lock (``.lock``) for all its workers, so a second router is still
refused.
"""

from __future__ import annotations

import fcntl
import os
import sqlite3
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from rolemodel.error_reasons import ErrorReason
from rolemodel_router.engine.catalog_index import QuotaIndex
from rolemodel_router.engine.errors import RouterError
from rolemodel_router.engine.plans import DecisionPlan, OutcomePlan, OutcomeSnapshot, RouteSnapshot
from rolemodel_router.engine.quota_ledger import QuotaLedger
from rolemodel_router.state import sqlite_rows as rows
from rolemodel_router.state.in_process import Changes, InProcessStore
from rolemodel_router.state.model import ConversationState, DecisionRecord, EndpointHealth
from rolemodel_router.state.sqlite import SqliteStore, _statements
from rolemodel_router.state.store import Retention, RouteKeys

#: Changelog entries kept; a worker that fell further behind (idle through many calls) reloads everything.
KEEP_CHANGES = 100_000
SEP = "\x1f"  # between a quota id and a decision id in one changelog key


def _changelog(changes: Changes) -> list[tuple[str, str]]:
    """(kind, key) of every row ``changes`` writes or deletes."""
    out = [("conversation", c.conversation_id) for c in changes.conversations]
    out += [("conversation", cid) for cid in changes.deleted_conversations]
    out += [("decision", d.decision_id) for d in changes.decisions]
    out += [("decision", did) for did in changes.deleted_decisions]
    out += [("outcome", o.idempotency_key) for o in changes.outcomes]
    out += [("outcome", key) for key in changes.deleted_outcomes]
    out += [("event", f"{q}{SEP}{e.decision_id}") for q, e in changes.quota_events]
    out += [("event", f"{q}{SEP}{did}") for q, did in changes.deleted_events]
    out += [("health", eid) for eid, _ in changes.health]
    out += [("share", role) for role, _ in changes.shares]
    out += [("usage", q) for q, _ in changes.usage]
    out += [("occupancy", eid) for eid, _ in changes.occupancy]
    if changes.forget_records_before_ms:
        out.append(("forget", str(changes.forget_records_before_ms)))
    return out


class SharedSqliteStore(SqliteStore):
    """The SQLite store for one of several workers on one database; see the module's docstring."""

    def __init__(
        self, path: Path, retention: Retention | None = None, quotas: Mapping[str, QuotaIndex] | None = None
    ) -> None:
        super().__init__(path, retention, quotas)
        self._db: sqlite3.Connection | None = None
        self._turn_lock: int | None = None
        self._seen = -1  # the last changelog entry this worker has applied; -1: none yet, load everything
        # Conversations another worker changed: read again when this worker next needs one, not at every turn.
        self._stale: set[str] = set()

    async def start(self) -> None:
        self._open()  # the schema (the state is loaded again below); the supervisor holds the router lock
        self._turn_lock = os.open(f"{self.path.resolve()}.turn", os.O_CREAT | os.O_RDWR, 0o600)
        self._db = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False, timeout=30)
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._reader = self._db
        with self._turn():  # the state and the changelog position read in one transaction
            pass

    @staticmethod
    def _last_seq(db: sqlite3.Connection) -> int:
        return int(db.execute("SELECT coalesce(max(seq), 0) FROM changelog").fetchone()[0])

    @contextmanager
    def _turn(self) -> Iterator[sqlite3.Connection]:
        """This worker's turn at the database: locked, in a write transaction, caught up with the others."""
        if self._db is None or self._turn_lock is None:
            raise RuntimeError("the shared SQLite store is not started")
        db = self._db
        fcntl.flock(self._turn_lock, fcntl.LOCK_EX)
        try:
            db.execute("BEGIN IMMEDIATE")
            self._catch_up(db)
            yield db
        finally:
            if db.in_transaction:
                db.execute("ROLLBACK")
            fcntl.flock(self._turn_lock, fcntl.LOCK_UN)

    def _catch_up(self, db: sqlite3.Connection) -> None:
        trimmed = db.execute("SELECT value FROM meta WHERE key = 'changelog_trimmed_through'").fetchone()
        if self._seen < 0 or (trimmed is not None and int(trimmed[0]) > self._seen):
            self._reload(db)
            return
        entries = db.execute("SELECT seq, kind, key FROM changelog WHERE seq > ? ORDER BY seq", (self._seen,))
        for seq, kind, key in entries.fetchall():
            self._apply(db, kind, key)
            self._seen = seq

    def _reload(self, db: sqlite3.Connection) -> None:
        """Everything again from the database: this worker missed changes the changelog no longer holds."""
        self.ledgers = {quota_id: QuotaLedger(quota) for quota_id, quota in self.quotas.items()}
        for table in (self.conversations, self.health_by_endpoint, self.shares, self.usage, self.occupancy):
            table.clear()
        self.recent_decisions.clear()
        self.recent_digest_bytes = 0
        self.recent_outcomes.clear()
        self._stale.clear()
        self._load(db)
        self._seen = self._last_seq(db)

    def _apply(self, db: sqlite3.Connection, kind: str, key: str) -> None:
        """Bring one changed row into memory (or drop it from memory when it was deleted)."""
        if kind == "conversation":
            self.conversations.pop(key, None)
            self._stale.add(key)
        elif kind == "decision":
            self._forget_decision(key)  # read from the database when needed
        elif kind == "outcome":
            self.recent_outcomes.pop(key, None)
        elif kind == "event":
            quota_id, decision_id = key.split(SEP, 1)
            ledger = self.ledgers.get(quota_id)
            body = self._row(
                db, "SELECT body FROM quota_events WHERE quota_id = ? AND decision_id = ?", quota_id, decision_id
            )
            if ledger is not None:
                if body is None:
                    ledger.restore(decision_id, None)
                else:
                    ledger.upsert(rows.QUOTA_EVENTS.load(body))
        elif kind == "forget":
            oldest = int(key)
            for did in [d for d, r in self.recent_decisions.items() if r.created_at_ms < oldest]:
                self._forget_decision(did)
        else:
            self._apply_keyed(db, kind, key)

    def _apply_keyed(self, db: sqlite3.Connection, kind: str, key: str) -> None:
        keyed: dict[str, tuple[str, str, dict[str, Any], Callable[[rows.Body], Any]]] = {
            "health": ("endpoint_health", "endpoint_id", self.health_by_endpoint, rows.ENDPOINT_HEALTH.load),
            "share": ("share_state", "role", self.shares, rows.SHARE_STATE.load),
            "usage": ("usage_windows", "quota_id", self.usage, rows.USAGE_WINDOWS.load),
            "occupancy": ("endpoint_occupancy", "endpoint_id", self.occupancy, rows.ENDPOINT_OCCUPANCY.load),
        }
        table, column, target, load = keyed[kind]
        body = self._row(db, f"SELECT body FROM {table} WHERE {column} = ?", key)  # noqa: S608 (names above)
        if body is None:
            target.pop(key, None)
        elif kind != "usage" or key in self.quotas:
            target[key] = load(body)

    def _conversation(self, conversation_id: str) -> ConversationState:
        if conversation_id in self._stale and self._db is not None:
            self._stale.discard(conversation_id)
            body = self._row(self._db, "SELECT body FROM conversations WHERE id = ?", conversation_id)
            if body is not None:
                self.conversations[conversation_id] = rows.CONVERSATIONS.load(body)
        return super()._conversation(conversation_id)

    @staticmethod
    def _row(db: sqlite3.Connection, sql: str, *key: str) -> rows.Body | None:
        row = db.execute(sql, key).fetchone()
        return row[0] if row else None

    # The commit below is synchronous, so no caller is cancelled while its write is queued (see SqliteStore).
    _persist_or_undo = InProcessStore._persist_or_undo

    async def _persist(self, changes: Changes) -> None:
        """Write ``changes`` and their changelog entries and commit, inside the turn the caller holds."""
        db = self._db
        if db is None or not db.in_transaction:
            raise RuntimeError("a shared SQLite write outside a turn")
        try:
            for sql, args in _statements(changes):
                db.executemany(sql, args)
            db.executemany("INSERT INTO changelog (kind, key) VALUES (?, ?)", _changelog(changes))
            seq = self._last_seq(db)
            db.execute("COMMIT")
        except sqlite3.Error as error:
            if db.in_transaction:
                db.execute("ROLLBACK")
            raise RouterError(
                ErrorReason.STATE_STORE_UNAVAILABLE,
                f"the state database cannot be written ({error}); nothing was changed",
            ) from None
        self._seen = seq

    async def route(self, keys: RouteKeys, decide: Callable[[RouteSnapshot], DecisionPlan]) -> DecisionPlan:
        with self._turn():
            return await super().route(keys, decide)

    async def report(
        self, idempotency_key: str, decision_id: str, now_ms: int, apply: Callable[[OutcomeSnapshot], OutcomePlan]
    ) -> OutcomePlan:
        with self._turn():
            return await super().report(idempotency_key, decision_id, now_ms, apply)

    async def record_health(self, endpoint_id: str, update: Callable[[EndpointHealth], EndpointHealth]) -> None:
        with self._turn():
            await super().record_health(endpoint_id, update)

    async def health(self) -> Mapping[str, EndpointHealth]:
        with self._turn():
            return dict(self.health_by_endpoint)

    async def conversation(self, conversation_id: str) -> ConversationState:
        with self._turn():
            return self._conversation(conversation_id)

    async def decision(self, decision_id: str) -> DecisionRecord | None:
        with self._turn():
            return self._decision(decision_id)

    async def prune(self, now_ms: int) -> int:
        with self._turn() as db:
            dropped = await super().prune(now_ms)
        with self._turn() as db:
            through = self._seen - KEEP_CHANGES
            if through > 0 and db.execute("DELETE FROM changelog WHERE seq <= ?", (through,)).rowcount:
                db.execute("INSERT OR REPLACE INTO meta VALUES ('changelog_trimmed_through', ?)", (str(through),))
                db.execute("COMMIT")
        return dropped

    async def close(self) -> None:
        if self._db is not None:
            self._db.close()
            self._db = self._reader = None
        if self._turn_lock is not None:
            os.close(self._turn_lock)
            self._turn_lock = None
