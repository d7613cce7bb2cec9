"""The state store contract.

A store runs the engine's pure functions inside a transaction: it builds a
snapshot, calls the function, and applies the returned plan atomically. That
is how concurrent routes in one conversation stay consistent and how a quota
is never over-admitted (RM-ROUTE-050, RM-QUOTA-002), whatever the store.

Stores:
    memory:             in-process only; for tests and throwaway runs
    sqlite:///path      the embedded default; in-process state persisted with
                        WAL and group commit, reloaded at start
    redis://host:port/db  shared by several router replicas
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Protocol

from rolemodel_router.engine.plans import DecisionPlan, OutcomePlan, OutcomeSnapshot, RouteSnapshot
from rolemodel_router.state.model import ConversationState, DecisionRecord, EndpointHealth


@dataclass(frozen=True)
class RouteKeys:
    """What a route transaction reads besides the conversation."""

    conversation_id: str
    role: str
    previous_decision_id: str
    now_ms: int  # the transaction's time: windows are read and the decision made at this instant


MIB = 1024 * 1024
#: Decisions younger than this are never dropped to make room (RM-ROUTE-009): a full cap refuses instead.
PROMISED_DECISION_MS = 24 * 3600 * 1000


@dataclass(frozen=True)
class Retention:
    """How long, and how much, state is kept (the README's state retention policy, spec 12.6).

    The caps bound what clients can make the router hold: conversations (each with its cache
    entries and their digest chains) and decisions kept for outcomes, in total and per principal.
    The per-principal caps apply with authentication on (``tenants``); without tokens there is
    one principal and only the totals apply.
    """

    conversation_idle_ms: int = 24 * 3600 * 1000
    decision_ms: int = 48 * 3600 * 1000
    max_conversations: int = 100_000
    max_conversations_per_principal: int = 20_000
    #: Digests in the conversations' cache entries, 32 bytes a message, each entry counted whole.
    max_conversation_digest_bytes: int = 512 * MIB
    max_conversation_digest_bytes_per_principal: int = 128 * MIB
    max_decisions: int = 500_000
    max_decisions_per_principal: int = 100_000
    #: Digests in the decisions kept for outcomes: the prompt's and the entry each would restore.
    max_decision_digest_bytes: int = 1024 * MIB
    max_decision_digest_bytes_per_principal: int = 256 * MIB
    #: The memo of verified prefixes (recent_prefixes.py): a cache, whose eviction changes no answer.
    prefix_memo_bytes: int = 64 * MIB
    #: Whether calls carry principals (authentication on): only then do the per-principal caps apply.
    tenants: bool = False


class StateStore(Protocol):
    name: str
    durable: bool

    async def start(self) -> None:
        """Open connections and load what must be in memory."""
        ...

    async def close(self) -> None:
        """Flush and release everything; safe to call twice."""
        ...

    async def route(self, keys: RouteKeys, decide: Callable[[RouteSnapshot], DecisionPlan]) -> DecisionPlan:
        """Run ``decide`` on a snapshot and apply its plan atomically; exceptions change nothing."""
        ...

    async def report(
        self, idempotency_key: str, decision_id: str, now_ms: int, apply: Callable[[OutcomeSnapshot], OutcomePlan]
    ) -> OutcomePlan:
        """Run ``apply`` on a snapshot and apply its plan atomically; exceptions change nothing."""
        ...

    async def health(self) -> Mapping[str, EndpointHealth]: ...

    async def record_health(self, endpoint_id: str, update: Callable[[EndpointHealth], EndpointHealth]) -> None:
        """Apply ``update`` to one endpoint's observed profile (Execute's failed attempts)."""
        ...

    async def conversation(self, conversation_id: str) -> ConversationState:
        """A conversation's state, for inspection and tests."""
        ...

    async def decision(self, decision_id: str) -> DecisionRecord | None: ...

    async def prune(self, now_ms: int) -> int:
        """Drop state past its retention; returns how many items were dropped."""
        ...
