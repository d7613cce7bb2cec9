"""What the engine reads (snapshots) and what it asks a store to write (plans).

The engine is a pure function from (catalog, snapshot, request, clock) to a
plan. Stores build snapshots and apply plans atomically; that boundary is what
lets the memory, SQLite and Redis stores behave identically.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from rolemodel.cache_capacity import Resident
from rolemodel.pacing import UsageWindowState
from rolemodel.v1 import decision_pb2, router_service_pb2
from rolemodel_router.engine.quota import Window
from rolemodel_router.state.model import (
    ConversationState,
    DecisionRecord,
    EndpointHealth,
    OutcomeRecord,
    QuotaEvent,
    ShareState,
)


@dataclass(frozen=True)
class RouteSnapshot:
    conversation: ConversationState
    quota_windows: Mapping[str, Window]  # every quota's window at the transaction's time
    health: Mapping[str, EndpointHealth]
    share: ShareState | None
    previous_decision: DecisionRecord | None
    degraded: bool = False
    usage: Mapping[str, UsageWindowState] = field(default_factory=dict)  # reported quotas' windows (9.8)
    # The residents of every endpoint with a cache capacity (spec 7.7), least recently used first.
    occupancy: Mapping[str, tuple[Resident, ...]] = field(default_factory=dict)


@dataclass(frozen=True)
class DecisionPlan:
    decision: decision_pb2.Decision
    record: DecisionRecord | None  # None for a dry run
    conversation: ConversationState | None  # None: unchanged
    quota_events: Mapping[str, QuotaEvent] = field(default_factory=dict)  # quota id -> new event
    share: ShareState | None = None  # None: unchanged
    usage: Mapping[str, UsageWindowState] = field(default_factory=dict)  # quota id -> new window state
    # endpoint id -> its residents after this decision; only the chosen endpoint, when it has a capacity
    occupancy: Mapping[str, tuple[Resident, ...]] = field(default_factory=dict)


@dataclass(frozen=True)
class OutcomeSnapshot:
    record: DecisionRecord | None
    conversation: ConversationState
    quota_windows: Mapping[str, Window]
    health: Mapping[str, EndpointHealth]
    previous_report: OutcomeRecord | None  # the report made under this idempotency key, if any
    usage: Mapping[str, UsageWindowState] = field(default_factory=dict)
    # The residents of the decision's endpoints with a cache capacity (spec 7.7), least recently used first.
    occupancy: Mapping[str, tuple[Resident, ...]] = field(default_factory=dict)


@dataclass(frozen=True)
class OutcomePlan:
    response: router_service_pb2.ReportOutcomeResponse
    replayed: bool
    record: DecisionRecord | None = None  # with outcome_key set
    outcome: OutcomeRecord | None = None
    conversation: ConversationState | None = None
    quota_events: Mapping[str, QuotaEvent] = field(default_factory=dict)  # quota id -> replacement event
    served_endpoint_id: str = ""
    health: EndpointHealth | None = None
    usage: Mapping[str, UsageWindowState] = field(default_factory=dict)  # quota id -> new window state
    # endpoint id -> its residents after the outcome (RM-CACHE-034, RM-CACHE-035); usually empty
    occupancy: Mapping[str, tuple[Resident, ...]] = field(default_factory=dict)
