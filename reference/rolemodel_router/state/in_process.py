"""State held in this process: the memory store, and the base of the SQLite store.

A transaction is synchronous from snapshot to apply: under asyncio nothing
else runs in between, so concurrent routes in one conversation, and
concurrent admissions to one quota, are serialised without locks. Durable
stores then persist the changes before the call is answered.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, MutableMapping
from dataclasses import dataclass, field
from typing import TypeVar

from rolemodel.cache_capacity import Resident
from rolemodel.error_reasons import ErrorReason
from rolemodel.pacing import UsageWindowState
from rolemodel_router.engine.catalog_index import QuotaIndex
from rolemodel_router.engine.errors import RouterError
from rolemodel_router.engine.plans import DecisionPlan, OutcomePlan, OutcomeSnapshot, RouteSnapshot
from rolemodel_router.engine.quota import Window
from rolemodel_router.engine.quota_ledger import QuotaLedger
from rolemodel_router.state.caps import (
    CappedKeys,
    CappedTable,
    Caps,
    conversation_weight,
    decision_weight,
    victims,
)
from rolemodel_router.state.model import (
    ConversationState,
    DecisionRecord,
    EndpointHealth,
    OutcomeRecord,
    QuotaEvent,
    ShareState,
)
from rolemodel_router.state.store import PROMISED_DECISION_MS, Retention, RouteKeys

V = TypeVar("V")


@dataclass
class Changes:
    """What a transaction wrote, for a durable store to persist."""

    conversations: list[ConversationState] = field(default_factory=list)
    decisions: list[DecisionRecord] = field(default_factory=list)
    outcomes: list[OutcomeRecord] = field(default_factory=list)
    quota_events: list[tuple[str, QuotaEvent]] = field(default_factory=list)
    health: list[tuple[str, EndpointHealth]] = field(default_factory=list)
    shares: list[tuple[str, ShareState]] = field(default_factory=list)
    usage: list[tuple[str, UsageWindowState]] = field(default_factory=list)
    occupancy: list[tuple[str, tuple[Resident, ...]]] = field(default_factory=list)
    deleted_conversations: list[str] = field(default_factory=list)
    deleted_decisions: list[str] = field(default_factory=list)
    deleted_outcomes: list[str] = field(default_factory=list)
    deleted_events: list[tuple[str, str]] = field(default_factory=list)
    forget_records_before_ms: int = 0  # durable stores drop decisions and outcomes older than this

    def __bool__(self) -> bool:
        return any(bool(getattr(self, name)) for name in self.__dataclass_fields__)


class InProcessStore:
    """The memory store: fast, exact, and gone when the process ends."""

    name = "memory"
    durable = False

    def __init__(self, retention: Retention | None = None, quotas: Mapping[str, QuotaIndex] | None = None) -> None:
        self.retention = retention or Retention()
        self.quotas = dict(quotas or {})
        self.ledgers = {quota_id: QuotaLedger(quota) for quota_id, quota in self.quotas.items()}
        r = self.retention
        self.conversation_caps = CappedKeys(
            Caps(
                r.max_conversations,
                r.max_conversations_per_principal,
                r.max_conversation_digest_bytes,
                r.max_conversation_digest_bytes_per_principal,
            ),
            tenants=r.tenants,
        )
        self.decision_caps = CappedKeys(
            Caps(
                r.max_decisions,
                r.max_decisions_per_principal,
                r.max_decision_digest_bytes,
                r.max_decision_digest_bytes_per_principal,
            ),
            tenants=r.tenants,
        )
        self.conversations: CappedTable[ConversationState] = CappedTable(
            self.conversation_caps, conversation_weight, lambda key, _: self.conversation_caps.owner(key)
        )
        self.decisions: CappedTable[DecisionRecord] = CappedTable(
            self.decision_caps, decision_weight, lambda _, record: self.decision_caps.owner(record.conversation_id)
        )
        self.outcomes: dict[str, OutcomeRecord] = {}
        self.health_by_endpoint: dict[str, EndpointHealth] = {}
        self.shares: dict[str, ShareState] = {}
        self.usage: dict[str, UsageWindowState] = {}  # reported quotas' windows (spec 9.8)
        self.occupancy: dict[str, tuple[Resident, ...]] = {}

    async def start(self) -> None:
        return None

    async def close(self) -> None:
        return None

    async def _persist(self, changes: Changes) -> None:
        """Durable stores write ``changes`` before the call is answered."""
        return None

    def _decision(self, decision_id: str) -> DecisionRecord | None:
        return self.decisions.get(decision_id)

    def _remember_decision(self, record: DecisionRecord) -> None:
        self.decisions[record.decision_id] = record

    def _outcome(self, idempotency_key: str) -> OutcomeRecord | None:
        return self.outcomes.get(idempotency_key)

    def _remember_outcome(self, record: OutcomeRecord) -> None:
        self.outcomes[record.idempotency_key] = record

    def _forget_decision(self, decision_id: str) -> None:
        self.decisions.pop(decision_id, None)

    def _forget_outcome(self, idempotency_key: str) -> None:
        self.outcomes.pop(idempotency_key, None)

    async def _persist_or_undo(self, changes: Changes, undo: list[Callable[[], None]]) -> None:
        """Write ``changes``; when the write fails, take back what they changed in memory, then raise.

        Memory is changed first so that concurrent calls see a quota slot as taken while its write is
        in flight; a failed write (a full disk, a read-only database) must not leave it taken.
        """
        try:
            await self._persist(changes)
        except BaseException:
            for step in reversed(undo):
                step()
            raise

    def _undo_map(self, table: MutableMapping[str, V], key: str) -> Callable[[], None]:
        previous = table.get(key)

        def restore() -> None:
            if previous is None:
                table.pop(key, None)
            else:
                table[key] = previous

        return restore

    def _undo_event(self, quota_id: str, decision_id: str) -> Callable[[], None]:
        ledger = self.ledgers.get(quota_id)
        previous = ledger.events.get(decision_id) if ledger is not None else None
        return lambda: ledger.restore(decision_id, previous) if ledger is not None else None

    def _undo_usage(self, usage: Mapping[str, UsageWindowState]) -> list[Callable[[], None]]:
        return [self._undo_map(self.usage, quota_id) for quota_id in usage if quota_id in self.quotas]

    def _conversation(self, conversation_id: str) -> ConversationState:
        return self.conversations.get(conversation_id) or ConversationState(conversation_id=conversation_id)

    def _windows(self, now_ms: int) -> dict[str, Window]:
        return {quota_id: ledger.window(now_ms) for quota_id, ledger in self.ledgers.items()}

    def _record_event(self, quota_id: str, event: QuotaEvent, changes: Changes) -> None:
        ledger = self.ledgers.get(quota_id)
        if ledger is None:  # a quota the catalog no longer defines
            return
        ledger.upsert(event)
        changes.quota_events.append((quota_id, event))

    def _record_usage(self, usage: Mapping[str, UsageWindowState], changes: Changes) -> None:
        for quota_id, state in usage.items():
            if quota_id in self.quotas:
                self.usage[quota_id] = state
                changes.usage.append((quota_id, state))

    async def route(self, keys: RouteKeys, decide: Callable[[RouteSnapshot], DecisionPlan]) -> DecisionPlan:
        snapshot = RouteSnapshot(
            conversation=self._conversation(keys.conversation_id),
            quota_windows=self._windows(keys.now_ms),
            health=self.health_by_endpoint,
            share=self.shares.get(keys.role),
            previous_decision=self._decision(keys.previous_decision_id) if keys.previous_decision_id else None,
            usage=self.usage,
            occupancy=self.occupancy,
        )
        plan = decide(snapshot)
        changes = Changes()
        undo: list[Callable[[], None]] = []
        if plan.record is not None:
            record = plan.record
            self._make_room_for_decision(record, keys.now_ms, changes, undo)  # or refuse, having changed nothing
            undo.append(lambda: self._forget_decision(record.decision_id))
            self._remember_decision(record)
            changes.decisions.append(record)
        if plan.conversation is not None:
            undo.append(self._undo_map(self.conversations, plan.conversation.conversation_id))
            self.conversations[plan.conversation.conversation_id] = plan.conversation
            changes.conversations.append(plan.conversation)
            self._make_room_for_conversation(plan.conversation.conversation_id, changes, undo)
        for quota_id, event in plan.quota_events.items():
            undo.append(self._undo_event(quota_id, event.decision_id))
            self._record_event(quota_id, event, changes)
        if plan.share is not None:
            undo.append(self._undo_map(self.shares, keys.role))
            self.shares[keys.role] = plan.share
            changes.shares.append((keys.role, plan.share))
        undo += self._undo_usage(plan.usage)
        self._record_usage(plan.usage, changes)
        self._record_occupancy(plan.occupancy, changes, undo)
        if changes:
            await self._persist_or_undo(changes, undo)
        return plan

    def _make_room_for_conversation(self, keep: str, changes: Changes, undo: list[Callable[[], None]]) -> None:
        """Forget the least recently used conversations over the caps (spec 12.6): a conversation may go."""
        caps = self.conversation_caps
        dropped, _ = victims(caps, caps.owner(keep), lambda _: True, keep=keep)
        for cid in dropped:
            undo.append(self._undo_map(self.conversations, cid))
            del self.conversations[cid]
            changes.deleted_conversations.append(cid)
            caps.counters.evictions += 1

    def _make_room_for_decision(
        self, record: DecisionRecord, now_ms: int, changes: Changes, undo: list[Callable[[], None]]
    ) -> None:
        """Make room for ``record`` within the decision caps, or refuse with STATE_LIMIT_REACHED.

        Only decisions older than the 24 hours an outcome may take (RM-ROUTE-009) are dropped, oldest
        first; when the cap is full of younger ones the call is refused before anything changed.
        """
        caps = self.decision_caps
        principal = caps.owner(record.conversation_id)
        promised = now_ms - PROMISED_DECISION_MS

        def may_drop(decision_id: str) -> bool:
            kept = self.decisions.get(decision_id)
            return kept is None or kept.created_at_ms < promised

        dropped, cap = victims(caps, principal, may_drop, extra_items=1, extra_bytes=decision_weight(record))
        if cap:
            caps.counters.refusals += 1
            limit = caps.caps.items if cap == "total" else caps.caps.items_per_principal
            raise RouterError(
                ErrorReason.STATE_LIMIT_REACHED,
                f"this router keeps at most {limit:,} decisions{' per principal' if cap == 'principal' else ''} "
                "(and a cap on their digests), each for the 24 hours an outcome may take; retry later",
                {"state": "decisions", "scope": cap, "limit": str(limit)},
            )
        for decision_id in dropped:
            self._drop_decision(decision_id, changes, undo)
            caps.counters.evictions += 1

    def _drop_decision(self, decision_id: str, changes: Changes, undo: list[Callable[[], None]]) -> None:
        """Forget a decision and its outcome within a transaction, ``undo`` restoring both."""
        old = self.decisions.get(decision_id)
        if old is None:
            return
        undo.append(self._undo_map(self.decisions, decision_id))
        self._forget_decision(decision_id)
        changes.deleted_decisions.append(decision_id)
        if old.outcome_key and old.outcome_key in self.outcomes:
            undo.append(self._undo_map(self.outcomes, old.outcome_key))
            self._forget_outcome(old.outcome_key)
            changes.deleted_outcomes.append(old.outcome_key)

    def _record_occupancy(
        self, occupancy: Mapping[str, tuple[Resident, ...]], changes: Changes, undo: list[Callable[[], None]]
    ) -> None:
        for endpoint_id, residents in occupancy.items():
            undo.append(self._undo_map(self.occupancy, endpoint_id))
            self.occupancy[endpoint_id] = residents
            changes.occupancy.append((endpoint_id, residents))

    async def report(
        self, idempotency_key: str, decision_id: str, now_ms: int, apply: Callable[[OutcomeSnapshot], OutcomePlan]
    ) -> OutcomePlan:
        record = self._decision(decision_id)
        conversation = self._conversation(record.conversation_id if record else "")
        snapshot = OutcomeSnapshot(
            record=record,
            conversation=conversation,
            quota_windows=self._windows(now_ms),
            health=self.health_by_endpoint,
            previous_report=self._outcome(idempotency_key),
            usage=self.usage,
            occupancy=self.occupancy,
        )
        plan = apply(snapshot)
        if plan.replayed:
            return plan
        changes = Changes()
        undo: list[Callable[[], None]] = []
        if plan.record is not None:
            previous_record = self._decision(plan.record.decision_id)
            undo.append(lambda: self._restore_decision(plan.record.decision_id if plan.record else "", previous_record))
            self._remember_decision(plan.record)
            changes.decisions.append(plan.record)
        if plan.outcome is not None:
            key = plan.outcome.idempotency_key
            undo.append(lambda: self._forget_outcome(key))
            self._remember_outcome(plan.outcome)
            changes.outcomes.append(plan.outcome)
        if plan.conversation is not None:
            undo.append(self._undo_map(self.conversations, plan.conversation.conversation_id))
            self.conversations[plan.conversation.conversation_id] = plan.conversation
            changes.conversations.append(plan.conversation)
            self._make_room_for_conversation(plan.conversation.conversation_id, changes, undo)
        for quota_id, event in plan.quota_events.items():
            undo.append(self._undo_event(quota_id, event.decision_id))
            self._record_event(quota_id, event, changes)
        if plan.health is not None and plan.served_endpoint_id:
            undo.append(self._undo_map(self.health_by_endpoint, plan.served_endpoint_id))
            self.health_by_endpoint[plan.served_endpoint_id] = plan.health
            changes.health.append((plan.served_endpoint_id, plan.health))
        undo += self._undo_usage(plan.usage)
        self._record_usage(plan.usage, changes)
        self._record_occupancy(plan.occupancy, changes, undo)
        await self._persist_or_undo(changes, undo)
        return plan

    def _restore_decision(self, decision_id: str, previous: DecisionRecord | None) -> None:
        if previous is None:
            self._forget_decision(decision_id)
        else:
            self._remember_decision(previous)

    async def health(self) -> Mapping[str, EndpointHealth]:
        return dict(self.health_by_endpoint)

    async def record_health(self, endpoint_id: str, update: Callable[[EndpointHealth], EndpointHealth]) -> None:
        updated = update(self.health_by_endpoint.get(endpoint_id, EndpointHealth()))
        self.health_by_endpoint[endpoint_id] = updated
        await self._persist(Changes(health=[(endpoint_id, updated)]))

    async def conversation(self, conversation_id: str) -> ConversationState:
        return self._conversation(conversation_id)

    async def decision(self, decision_id: str) -> DecisionRecord | None:
        return self._decision(decision_id)

    def _expire_records(self, oldest_ms: int, changes: Changes) -> None:
        """Forget decisions (and their outcomes) made before ``oldest_ms``."""
        for did, record in list(self.decisions.items()):
            if record.created_at_ms < oldest_ms:
                del self.decisions[did]
                changes.deleted_decisions.append(did)
                if record.outcome_key and self.outcomes.pop(record.outcome_key, None) is not None:
                    changes.deleted_outcomes.append(record.outcome_key)

    def _expired(self, now_ms: int) -> Changes:
        changes = Changes()
        idle = now_ms - self.retention.conversation_idle_ms
        for cid, conv in list(self.conversations.items()):
            if conv.updated_at_ms < idle:  # idle time alone bounds memory; set it above the longest cache TTL
                del self.conversations[cid]
                changes.deleted_conversations.append(cid)
        self._expire_records(now_ms - self.retention.decision_ms, changes)
        for quota_id, ledger in self.ledgers.items():
            ledger.window(now_ms)  # evict what no longer counts
            for decision_id in ledger.forget_before(now_ms - 2 * ledger.length_ms):
                changes.deleted_events.append((quota_id, decision_id))
        return changes

    async def prune(self, now_ms: int) -> int:
        """Drop idle conversations, old decisions and their outcomes, and quota events two windows old."""
        changes = self._expired(now_ms)
        count = (
            len(changes.deleted_conversations)
            + len(changes.deleted_decisions)
            + len(changes.deleted_outcomes)
            + len(changes.deleted_events)
        )
        if changes:
            await self._persist(changes)
        return count
