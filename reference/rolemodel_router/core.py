"""The router, independent of any transport.

``RouterCore`` ties the catalog, the state store, the difficulty estimator and
the clock to the engine. The gRPC service and the HTTP front door both call
it, so every transport gets the same decisions from the same state.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import AsyncGenerator, Callable
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING

from rolemodel import latency
from rolemodel.error_reasons import ErrorReason
from rolemodel.v1 import card_pb2, common_pb2, decision_pb2, hints_pb2, outcome_pb2, router_service_pb2
from rolemodel.versions import SUPPORTED_VERSIONS
from rolemodel_router import __version__
from rolemodel_router.access import check_role, current_principal
from rolemodel_router.deadlines import DEFAULT_MARGIN_S, CommitDeadline
from rolemodel_router.engine import outcome as outcome_engine
from rolemodel_router.engine.catalog_index import CatalogIndex
from rolemodel_router.engine.decide import decide
from rolemodel_router.engine.difficulty import DifficultyEstimator
from rolemodel_router.engine.errors import RouterError
from rolemodel_router.engine.limits import Limits
from rolemodel_router.engine.plans import DecisionPlan, OutcomePlan, OutcomeSnapshot, RouteSnapshot
from rolemodel_router.engine.route_input import RouteInput, build_route_input
from rolemodel_router.engine.verified_prefix import Wire
from rolemodel_router.estimators.registry import DEFAULT_ESTIMATOR, load_estimator
from rolemodel_router.execute import ExecuteSettings, Executor
from rolemodel_router.execute.credentials import NO_CREDENTIAL, ClientCredential
from rolemodel_router.recent_prefixes import RecentPrefixes
from rolemodel_router.state.model import EndpointHealth
from rolemodel_router.state.store import RouteKeys, StateStore
from rolemodel_router.tenancy import check_pin, owns, scoped

if TYPE_CHECKING:
    from rolemodel_router.dashboard.feed import ActivityFeed

ROUTER_NAME = "rolemodel-reference-router"
CLAIMED_CAPABILITIES = (
    card_pb2.ROUTER_CAPABILITY_QUOTA,
    card_pb2.ROUTER_CAPABILITY_CACHE_ACCOUNTING,
    card_pb2.ROUTER_CAPABILITY_ESCALATION,
    card_pb2.ROUTER_CAPABILITY_AFFINITY,
    card_pb2.ROUTER_CAPABILITY_SIDE_REQUESTS,
    card_pb2.ROUTER_CAPABILITY_SHARE_TARGET,
    card_pb2.ROUTER_CAPABILITY_DRY_RUN,
    card_pb2.ROUTER_CAPABILITY_HANDOFF_MESSAGES,
    card_pb2.ROUTER_CAPABILITY_EXECUTE,
)


def wall_clock_ms() -> int:
    return time.time_ns() // 1_000_000


def new_decision_id(now_ms: int) -> str:
    """Time-ordered and unguessable: 12 hex digits of milliseconds, 16 random hex digits."""
    return f"{now_ms:012x}{secrets.token_hex(8)}"


@dataclass
class RouterCore:
    index: CatalogIndex
    store: StateStore
    limits: Limits = field(default_factory=Limits)
    default_estimator: str = DEFAULT_ESTIMATOR
    estimators: dict[str, DifficultyEstimator] = field(default_factory=dict)
    clock: Callable[[], int] = wall_clock_ms
    capabilities: tuple[card_pb2.RouterCapability.ValueType, ...] = CLAIMED_CAPABILITIES
    execute_settings: ExecuteSettings = field(default_factory=ExecuteSettings)
    executor: Executor = field(init=False)
    #: The dashboard's feed, when the router serves the dashboard: told of every recorded decision and outcome.
    activity: ActivityFeed | None = None
    #: What each conversation's last request verified, so that the next reads only its new messages.
    prefixes: RecentPrefixes = field(default_factory=RecentPrefixes)
    #: Where the HTTP front door answers, advertised in the card (spec 14.1); None when it is not served.
    front_door: card_pb2.HttpFrontDoor | None = None
    #: What a call must have left of its deadline when its decision is ready, or nothing is committed.
    deadline_margin_s: float = DEFAULT_MARGIN_S

    def __post_init__(self) -> None:
        """One estimator per role, loaded once: the role's choice in the catalog, else the default."""
        for name, role in self.index.roles.items():
            if name not in self.estimators:
                self.estimators[name] = load_estimator(role.role.difficulty_estimator or self.default_estimator)
        self.executor = Executor(self, self.execute_settings)

    def execute(
        self,
        request: router_service_pb2.ExecuteRequest,
        *,
        deadline_s: float | None = None,
        credential: ClientCredential = NO_CREDENTIAL,
        data: bytes | None = None,
    ) -> AsyncGenerator[router_service_pb2.ExecuteResponse, None]:
        """Execute's events (spec chapter 10); validation errors raise RouterError before the first one.

        ``deadline_s`` is the time the caller allows from now. Close the iterator early (``aclose``)
        to cancel: the backend call is closed and the outcome recorded as cancelled. ``credential``
        is the client's own login, sent only to the endpoints that declare it (spec 12.4). ``data``
        is the request as received, when the transport kept it (see ``validate_route``).
        """
        self._require(card_pb2.ROUTER_CAPABILITY_EXECUTE)
        self._require_for_hints(request.hints)
        return self.executor.execute(request, deadline_s=deadline_s, credential=credential, data=data)

    def execute_batches(
        self,
        request: router_service_pb2.ExecuteRequest,
        *,
        credential: ClientCredential = NO_CREDENTIAL,
        compact_candidates: bool = False,
    ) -> AsyncGenerator[list[router_service_pb2.ExecuteResponse], None]:
        """:meth:`execute`'s events in the batches they come in hand (one read of the backend's stream each).

        For a relay that writes what it has at once: one write per batch, not one per event.
        ``compact_candidates`` decides as a Route request that sets it does (RM-ROUTE-012): for a
        relay that shows nobody the decision's candidates in full.
        """
        self._require(card_pb2.ROUTER_CAPABILITY_EXECUTE)
        self._require_for_hints(request.hints)
        return self.executor.execute_batches(request, credential=credential, compact_candidates=compact_candidates)

    async def aclose(self) -> None:
        """Finishes what Execute is still recording and closes its connections; the store is closed by its owner."""
        await self.executor.aclose()

    def commit_deadline(self, remaining_s: float | None) -> CommitDeadline:
        """The check a call with ``remaining_s`` left (None: no deadline) passes before it commits (RM-ERR-020)."""
        return CommitDeadline.after(remaining_s, self.deadline_margin_s)

    def _require(self, capability: card_pb2.RouterCapability.ValueType) -> None:
        if capability not in self.capabilities:
            name = card_pb2.RouterCapability.Name(capability)
            raise RouterError(
                ErrorReason.CAPABILITY_NOT_SUPPORTED, f"this router does not claim {name}", {"capability": name}
            )

    def _require_for_hints(self, hints: hints_pb2.RoutingHints) -> None:
        """The hints that need a capability (spec 1.3): a side request, a forced escalation level."""
        if hints.HasField("side_request"):
            self._require(card_pb2.ROUTER_CAPABILITY_SIDE_REQUESTS)
        if hints.escalation.HasField("force_level"):
            self._require(card_pb2.ROUTER_CAPABILITY_ESCALATION)

    def validate_route(self, request: router_service_pb2.RouteRequest, data: bytes | None = None) -> RouteInput:
        """Validation only: raises RouterError before any state is read.

        The messages the conversation's previous request carried, byte for byte, are not read again
        (see ``engine.verified_prefix``); what this request verified is kept for the next one.
        ``data`` is ``request`` as received, when the transport kept it: the messages are found in
        it rather than in a serialization made here.
        """
        if request.include_handoff:
            self._require(card_pb2.ROUTER_CAPABILITY_HANDOFF_MESSAGES)
        if request.dry_run:
            self._require(card_pb2.ROUTER_CAPABILITY_DRY_RUN)
        self._require_for_hints(request.hints)
        memo_key = scoped(request.conversation.conversation_id)  # one principal's memo never serves another's
        known = self.prefixes.get(memo_key)
        wire = Wire.of_request(data) if data is not None else None
        route_input = build_route_input(request, self.index, self.limits, known=known, remember=True, wire=wire)
        check_pin(self.index, route_input.pinned)
        self.prefixes.remember(route_input.verified, key=memo_key)
        return route_input

    async def route(
        self, request: RouteInput, before_commit: Callable[[], None] | None = None
    ) -> decision_pb2.Decision:
        """Decide and record; ``before_commit`` may raise to abandon the decision (a passed deadline).

        The conversation is the calling principal's (spec 12.5): the engine and the store see its
        scoped key, a previous decision of another principal is not seen at all, and the client
        gets its own conversation id back.
        """

        now = self.clock()
        principal = current_principal.get()
        client_conversation_id = request.conversation_id
        key = scoped(client_conversation_id, principal)
        if key != client_conversation_id:  # a copy only when authentication scopes the id
            request = replace(request, conversation_id=key)

        def run(snapshot: RouteSnapshot) -> DecisionPlan:
            previous = snapshot.previous_decision
            if previous is not None and not owns(previous.conversation_id, principal):
                snapshot = replace(snapshot, previous_decision=None)
            estimator = self.estimators[request.role.role.name]
            plan = decide(self.index, snapshot, request, now, new_decision_id(now), estimator)
            if before_commit is not None:
                before_commit()
            return plan

        keys = RouteKeys(request.conversation_id, request.role.role.name, request.previous_decision_id, now)
        plan = await self.store.route(keys, run)
        decision = plan.decision
        decision.conversation_id = client_conversation_id
        if self.activity is not None and not decision.dry_run:
            self.activity.decided(decision)
        return decision

    async def report(
        self,
        outcome: outcome_pb2.Outcome,
        before_commit: Callable[[], None] | None = None,
        *,
        executed: bool = False,
    ) -> router_service_pb2.ReportOutcomeResponse:
        """Record an outcome; ``executed`` marks one that Execute itself records, which a verdict may follow.

        The decision must be the calling principal's and the idempotency key is kept in its
        namespace (spec 12.5). With authentication on, a failure a client reports moves the
        endpoint's observed failure rate but never its cooldown (RM-AUTH-013): only the
        failures the router observes itself in Execute do.
        """
        outcome_engine.validate(outcome, self.index, self.limits)

        now = self.clock()
        principal = current_principal.get()
        client_key = outcome.idempotency_key
        key = scoped(client_key, principal)

        def run(snapshot: OutcomeSnapshot) -> OutcomePlan:
            if snapshot.record is not None and not owns(snapshot.record.conversation_id, principal):
                snapshot = replace(snapshot, record=None)
            if snapshot.record is not None:
                check_role(snapshot.record.role)
            plan = outcome_engine.apply_outcome(self.index, snapshot, outcome, now, executed=executed)
            if plan.outcome is not None:
                plan = replace(plan, outcome=replace(plan.outcome, idempotency_key=key))
            if plan.record is not None:
                plan = replace(plan, record=replace(plan.record, outcome_key=key))
            if principal is not None and not executed and plan.health is not None:
                plan = replace(
                    plan, health=_without_cooldown(plan.health, snapshot.health.get(plan.served_endpoint_id))
                )
            if before_commit is not None and not plan.replayed:
                before_commit()
            return plan

        plan = await self.store.report(key, outcome.decision_id, now, run)
        if self.activity is not None and not plan.replayed:
            self.activity.reported(outcome, plan.response, now)
        return plan.response

    async def card(self) -> card_pb2.RouterCard:
        health = await self.store.health()
        endpoints = []
        for e in self.index.catalog.endpoints:
            public = card_pb2.EndpointProfile()
            public.endpoint.CopyFrom(e)
            public.endpoint.ClearField("connection")
            h = health.get(e.id)
            if h is not None:
                public.status.observed_outcomes = h.observed_outcomes
                public.status.observed_failure_rate = h.failure_rate or 0.0
                public.status.observed_ttft_ms = h.ttft_ms or 0.0
                public.status.observed_prefill_tokens_per_second = h.prefill_tokens_per_second or 0.0
                public.status.observed_output_tokens_per_second = h.output_tokens_per_second or 0.0
                public.status.observed_base_latency_ms = h.base_latency_ms or 0.0
                public.status.observed_prefill_half_speed_depth_tokens = latency.fitted_half_speed_depth(
                    h.prefill_moments
                )
                if h.cooldown_until_ms > self.clock():
                    public.status.cooldown_until.FromMilliseconds(h.cooldown_until_ms)
            endpoints.append(public)
        return card_pb2.RouterCard(
            supported_versions=list(SUPPORTED_VERSIONS),
            router_name=ROUTER_NAME,
            router_version=__version__,
            capabilities=list(self.capabilities),
            roles=list(self.index.catalog.roles),
            endpoints=endpoints,
            strategies=[
                common_pb2.STRATEGY_COST,
                common_pb2.STRATEGY_BALANCED,
                common_pb2.STRATEGY_QUALITY,
                common_pb2.STRATEGY_LATENCY,
            ],
            limits=self.limits.to_proto(),
            catalog_name=self.index.catalog.name,
            catalog_digest=self.index.digest,
            http_front_door=self.front_door,
        )


def _without_cooldown(after: EndpointHealth, before: EndpointHealth | None) -> EndpointHealth:
    """A client's report with its consecutive-failure count and cooldown left as they were."""
    before = before or EndpointHealth()
    return replace(after, consecutive_failures=before.consecutive_failures, cooldown_until_ms=before.cooldown_until_ms)
