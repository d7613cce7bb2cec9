"""Eligibility filters and costing, per endpoint (spec 6.3 and 6.4).

Every endpoint is checked against every filter, so that a decision explains
each exclusion, not only the first. Costing happens here too, because two
filters (quota and budget) need the cost.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from rolemodel import cache_capacity, cost, explicit_cache
from rolemodel.latency import LatencyEstimate
from rolemodel.money import format_picos
from rolemodel.v1 import catalog_pb2, common_pb2, decision_pb2
from rolemodel_router.engine import usage_windows
from rolemodel_router.engine.catalog_index import CatalogIndex, EndpointIndex
from rolemodel_router.engine.components import Component
from rolemodel_router.engine.explicit_points import PromptLayout, held_points, points_after_turn
from rolemodel_router.engine.plans import RouteSnapshot
from rolemodel_router.engine.quota import Need, Window, admits, describe_exhaustion, empty_window
from rolemodel_router.engine.route_input import RouteInput
from rolemodel_router.handoff.compaction import COMPACTING, Compaction, compaction_for
from rolemodel_router.handoff.families import wire_dialect
from rolemodel_router.state.model import CacheEntry, CachePoint

X = decision_pb2
_CAPABILITY_NAMES = {v: k.removeprefix("CAPABILITY_").lower() for k, v in common_pb2.Capability.items()}
_MODALITY_NAMES = {v: k.removeprefix("MODALITY_").lower() for k, v in common_pb2.Modality.items()}
_LOCALITY_NAMES = {v: k.removeprefix("LOCALITY_").lower() for k, v in common_pb2.Locality.items()}
#: Exclusions that a pin or a tool-loop pin may override.
SOFT_EXCLUSIONS = frozenset({X.EXCLUSION_CODE_NOT_IN_ROLE, X.EXCLUSION_CODE_BELOW_REQUIRED_TIER})


@dataclass(slots=True)
class Candidate:
    """One endpoint while a decision is being made."""

    endpoint_id: str
    index: EndpointIndex
    tier: int | None
    exclusions: list[tuple[decision_pb2.ExclusionCode.ValueType, str]] = field(default_factory=list)
    entry: CacheEntry | None = None
    matched_tokens: int = 0
    expired: bool = False
    output_tokens: int = 0
    costing: cost.AmortizedCost | None = None
    score: float = 0.0
    components: list[Component] = field(default_factory=list)
    quality: float | None = None
    rank: int = 0
    amortized: int = 0  # set with ``costing``; every candidate is costed before it is compared
    myopic: int = 0
    prompt_tokens: int = 0  # the prompt this endpoint would get: the request's, or its compaction's
    compaction: Compaction | None = None
    evicted: bool = False  # the endpoint's capacity pushed the conversation's entry out (spec 7.7)
    admission: cache_capacity.Admission | None = None  # the occupancy if chosen; None without a capacity
    latency: LatencyEstimate | None = None  # set when scored and the latency is known
    latency_sources: tuple[int, int] = (0, 0)  # of the base latency and of the prefill speed
    held_after: tuple[CachePoint, ...] = ()  # explicit caching: the points the endpoint holds if chosen (7.2.1)
    held_after_tokens: int = 0  # and the tokens of the longest of them

    def exclude(self, code: decision_pb2.ExclusionCode.ValueType, detail: str) -> None:
        self.exclusions.append((code, detail))

    @property
    def hard_eligible(self) -> bool:
        """Passes every filter a pin cannot override."""
        return all(code in SOFT_EXCLUSIONS for code, _ in self.exclusions)

    @property
    def eligible(self) -> bool:
        return not self.exclusions


def turn_budget(index: CatalogIndex, request: RouteInput) -> int:
    """The smallest of the hint's, the role's and the catalog's budgets that are set (0: none)."""
    budgets = [b for b in (request.max_cost_picos, request.role.turn_budget_picos) if b > 0]
    return min(budgets) if budgets else 0


def matching_deny_rules(index: CatalogIndex, request: RouteInput) -> list[catalog_pb2.DenyRule]:
    """The deny rules whose roles and labels match the request; checked once, not per endpoint."""
    labels = request.hints.labels
    role = request.role.role.name
    return [
        rule
        for rule in index.deny_rules
        if (not rule.roles or role in rule.roles) and all(labels.get(k) == v for k, v in rule.labels.items())
    ]


def _denied_by(rules: list[catalog_pb2.DenyRule], endpoint: catalog_pb2.Endpoint) -> str | None:
    for rule in rules:
        if endpoint.id in rule.endpoint_ids or (rule.locality and rule.locality == endpoint.locality):
            return f"deny rule '{rule.id}'" + (f": {rule.description}" if rule.description else "")
    return None


def _admit(c: Candidate, request: RouteInput, snapshot: RouteSnapshot, now_ms: int) -> bool:
    """Predict the endpoint's cache occupancy if chosen (spec 7.7); returns whether the entry cannot be read.

    A main turn holds its conversation's slot; an isolated side request takes one of its own and
    therefore reads nothing from the conversation's. The server keeps prompt and reply, so the
    resident's tokens are P + O.
    """
    capacity = c.index.capacity
    if not capacity.limited:
        return False
    residents = snapshot.occupancy.get(c.endpoint_id, ())
    key = cache_capacity.resident_key(request.conversation_id, side_request=request.isolated)
    c.admission = cache_capacity.admit(residents, capacity, key, c.prompt_tokens + c.output_tokens, now_ms)
    return request.isolated or cache_capacity.find(residents, key) is None


def _cost(
    c: Candidate, request: RouteInput, snapshot: RouteSnapshot, now_ms: int, horizon: int, layout: _Layout
) -> None:
    econ = c.index.economics
    entry = snapshot.conversation.cache.get(c.endpoint_id)
    c.entry = entry
    cached = 0
    c.output_tokens = cost.expected_output_tokens(econ, request.expected_output_tokens)
    c.prompt_tokens = request.prompt_tokens
    c.compaction = compaction_for(c.index.endpoint, request, c.output_tokens)
    if c.compaction is not None:
        c.prompt_tokens = c.compaction.prompt_tokens
    unreadable = _admit(c, request, snapshot, now_ms)
    c.evicted = unreadable and entry is not None and not request.isolated
    if econ.explicit and c.compaction is None:
        _cost_explicit(c, request, now_ms, horizon, layout.get(request), unreadable)
        return
    if entry is not None and not unreadable:
        matched_messages = cost.matched_prefix_messages(request.digests, entry.digests)
        c.matched_tokens = cost.matched_prefix_tokens(
            request.cumulative_tokens,
            matched_messages=matched_messages,
            held_messages=len(entry.digests),
            reply_tokens=entry.reply_tokens,
            includes_output=econ.includes_output,
            generation_prompt_tokens=econ.generation_prompt_tokens,
        )
        c.expired = not entry.live(now_ms)
        if not c.expired:
            cached = cost.cacheable_tokens(econ, c.matched_tokens)
    if c.compaction is not None:
        # The compacted prompt shares only its leading system messages with what any cache holds.
        shared = c.compaction.shared_prefix_messages
        c.matched_tokens = min(c.matched_tokens, request.cumulative_tokens[shared - 1] if shared else 0)
        cached = cost.cacheable_tokens(econ, c.matched_tokens) if cached else 0
    c.costing = costing = cost.amortized_cost(
        econ,
        prompt_tokens=c.prompt_tokens,
        cached_tokens=cached,
        new_tokens=request.new_tokens,
        output_tokens=c.output_tokens,
        horizon_turns=horizon,
    )
    c.amortized = costing.amortized_picos
    c.myopic = costing.turn.total_picos


def _cost_explicit(
    c: Candidate, request: RouteInput, now_ms: int, horizon: int, layout: PromptLayout, unreadable: bool
) -> None:
    """Explicit caching, per breakpoint (spec 7.2.1): read at a held point near a breakpoint, write the rest."""
    econ, entry = c.index.economics, c.entry
    found = []
    if entry is not None and not unreadable:
        found = layout.held(entry.points, entry.digests)
        c.matched_tokens = max((p.tokens for p in found), default=0)
        c.expired = not entry.live(now_ms)
        if c.expired:
            found = []
    breakpoints = [b.breakpoint for b in layout.breakpoints]
    cached = cost.cacheable_tokens(econ, explicit_cache.read_tokens(held_points(found), breakpoints))
    c.held_after, c.held_after_tokens = points_after_turn(found, layout.breakpoints, cached, econ.min_cacheable_tokens)
    c.costing = costing = cost.amortized_cost(
        econ,
        prompt_tokens=c.prompt_tokens,
        cached_tokens=cached,
        new_tokens=request.new_tokens,
        output_tokens=c.output_tokens,
        horizon_turns=horizon,
        breakpoints=breakpoints,
    )
    c.amortized = costing.amortized_picos
    c.myopic = costing.turn.total_picos


class _Layout:
    """The prompt's layout, built at the first endpoint with explicit caching and shared by the rest."""

    __slots__ = ("_layout",)

    def __init__(self) -> None:
        self._layout: PromptLayout | None = None

    def get(self, request: RouteInput) -> PromptLayout:
        if self._layout is None:
            self._layout = PromptLayout(request)
        return self._layout


def _role_filters(c: Candidate, request: RouteInput) -> None:
    if request.pinned and c.endpoint_id != request.pinned:
        c.exclude(X.EXCLUSION_CODE_NOT_PINNED, f"the hints pin '{request.pinned}'")
    if c.tier is None:
        c.exclude(X.EXCLUSION_CODE_NOT_IN_ROLE, f"not on the ladder of role '{request.role.role.name}'")
    if c.endpoint_id in request.avoided:
        c.exclude(X.EXCLUSION_CODE_AVOIDED, "the hints avoid it")


def _capability_filters(c: Candidate, request: RouteInput) -> None:
    e = c.index.endpoint
    missing = request.capabilities - c.index.capabilities
    if missing:
        names = sorted(_CAPABILITY_NAMES[cap] for cap in missing)
        c.exclude(X.EXCLUSION_CODE_CAPABILITY_MISSING, f"lacks {', '.join(names)}")
    unsupported = request.modalities - c.index.modalities
    if unsupported:
        names = sorted(_MODALITY_NAMES[m] for m in unsupported)
        c.exclude(X.EXCLUSION_CODE_MODALITY_UNSUPPORTED, f"does not accept {', '.join(names)} input")
    not_hosted = request.hosted_tools - c.index.hosted_tools if request.hosted_tools else None
    if not_hosted:
        c.exclude(X.EXCLUSION_CODE_TOOL_UNSUPPORTED, f"does not run the hosted tool {', '.join(sorted(not_hosted))}")
    if request.custom_tools and wire_dialect(e) != common_pb2.API_DIALECT_OPENAI_RESPONSES:
        custom = ", ".join(sorted(request.custom_tools))
        c.exclude(
            X.EXCLUSION_CODE_TOOL_UNSUPPORTED, f"speaks no Responses API, the only one with the custom tool {custom}"
        )
    window = c.index.context_window_tokens
    needed = c.prompt_tokens + c.output_tokens
    if window and needed > window:
        c.exclude(
            X.EXCLUSION_CODE_CONTEXT_WINDOW_EXCEEDED,
            f"needs {needed} tokens ({c.prompt_tokens} prompt + {c.output_tokens} output), window is {window}"
            + (
                ", even compacted"
                if c.compaction is None and request.role.role.handoff.compaction in COMPACTING
                else ""
            ),
        )
    elif window and request.min_context_window > window:
        c.exclude(
            X.EXCLUSION_CODE_CONTEXT_WINDOW_EXCEEDED,
            f"the hints ask for a {request.min_context_window}-token window, this one has {window}",
        )
    if request.locality and request.locality != e.locality:
        c.exclude(
            X.EXCLUSION_CODE_LOCALITY_MISMATCH,
            f"is {_LOCALITY_NAMES[e.locality]}, the hints ask for {_LOCALITY_NAMES[request.locality]}",
        )
    declared = c.index.client_credential_headers
    if request.executes and declared:
        absent = [name for name in declared if name not in request.credential_names]
        if absent:
            c.exclude(
                X.EXCLUSION_CODE_CLIENT_CREDENTIAL_MISSING,
                f"is called with the client's own credential, and the call carries no {', '.join(absent)}",
            )


def _operational_filters(
    c: Candidate, rules: list[catalog_pb2.DenyRule], snapshot: RouteSnapshot, now_ms: int, failed: frozenset[str]
) -> None:
    denied = _denied_by(rules, c.index.endpoint) if rules else None
    if denied:
        c.exclude(X.EXCLUSION_CODE_POLICY_DENIED, denied)
    health = snapshot.health.get(c.endpoint_id)
    if health is not None and health.cooldown_until_ms > now_ms:
        c.exclude(
            X.EXCLUSION_CODE_UNHEALTHY,
            f"cooling down for {(health.cooldown_until_ms - now_ms) / 1000:.1f}s "
            f"after {health.consecutive_failures} consecutive failures",
        )
    if c.endpoint_id in failed:
        c.exclude(X.EXCLUSION_CODE_FAILED_THIS_TURN, "already failed on this turn")


def _configuration_filter(c: Candidate, request: RouteInput) -> None:
    if c.endpoint_id in request.unconfigured:
        variable = c.index.endpoint.connection.api_key_env
        c.exclude(
            X.EXCLUSION_CODE_NOT_CONFIGURED,
            f"not configured: the environment variable {variable} that holds its API key is not set",
        )


def _quota_and_budget(
    c: Candidate,
    index: CatalogIndex,
    snapshot: RouteSnapshot,
    windows: dict[str, Window],
    budget: int,
    now_ms: int,
) -> None:
    degraded, usage = snapshot.degraded, snapshot.usage
    if c.index.quota_ids:
        if degraded:
            c.exclude(X.EXCLUSION_CODE_STATE_UNAVAILABLE, "its quota counters are in the shared state, now unavailable")
        need = Need(1, c.prompt_tokens + c.output_tokens, c.myopic)
        for quota_id in c.index.quota_ids:
            quota = index.quotas[quota_id]
            if usage_windows.is_reported(quota):
                pace = usage_windows.window_pace(index, quota_id, usage, now_ms, None)
                if pace.hard_stop:
                    c.exclude(X.EXCLUSION_CODE_QUOTA_EXHAUSTED, usage_windows.describe_hard_stop(quota, pace))
                continue
            if not admits(quota, windows[quota_id], need):
                c.exclude(X.EXCLUSION_CODE_QUOTA_EXHAUSTED, describe_exhaustion(quota, windows[quota_id]))
    if budget and c.myopic > budget:
        c.exclude(
            X.EXCLUSION_CODE_BUDGET_EXCEEDED,
            f"costs {format_picos(c.myopic, index.currency)} this turn, "
            f"the budget is {format_picos(budget, index.currency)}",
        )


def failed_this_turn(request: RouteInput, snapshot: RouteSnapshot) -> frozenset[str]:
    failed = set(snapshot.conversation.failed_by_turn.get(request.turn_index, frozenset()))
    previous = snapshot.previous_decision
    if request.previous_failed and previous is not None and previous.conversation_id == request.conversation_id:
        failed.add(previous.chosen_endpoint_id)
    return frozenset(failed)


def quota_windows(index: CatalogIndex, snapshot: RouteSnapshot, now_ms: int) -> dict[str, Window]:
    """Every quota's current window; a quota the store has never seen is empty."""
    windows = dict(snapshot.quota_windows)
    for quota_id, quota in index.quotas.items():
        if quota_id not in windows:
            windows[quota_id] = empty_window(quota, now_ms)
    return windows


def reachable(index: CatalogIndex, request: RouteInput, snapshot: RouteSnapshot) -> tuple[str, ...]:
    """The endpoints a compact decision lists (spec 6.1, RM-ROUTE-012), in catalog order.

    Only these can be chosen or fall back: the role's ladder, the pin, and the conversation's
    current endpoint (which a tool loop may keep although it is off the ladder). Every other
    endpoint is excluded as not in the role, whatever else applies to it.
    """
    keep = {request.pinned, snapshot.conversation.current_endpoint_id} - {""}
    listed = request.role.endpoint_order
    if not keep - set(listed):
        return listed
    tier_of = request.role.tier_of
    return tuple(e for e in index.endpoint_order if e in tier_of or e in keep)


def evaluate(
    index: CatalogIndex,
    request: RouteInput,
    snapshot: RouteSnapshot,
    now_ms: int,
    windows: dict[str, Window],
    endpoint_ids: tuple[str, ...] | None = None,
) -> list[Candidate]:
    """The catalog's endpoints (or ``endpoint_ids``), costed and filtered, in catalog order."""
    if not index.tracks_cache:
        # Without cache accounting nothing is known to be cached anywhere: every estimate is cold.
        snapshot = replace(snapshot, conversation=replace(snapshot.conversation, cache={}), occupancy={})
    budget = turn_budget(index, request)
    failed = failed_this_turn(request, snapshot)
    rules = matching_deny_rules(index, request)
    horizon = 1 if request.isolated else (request.horizon_turns or request.role.affinity.horizon_turns)
    tier_of = request.role.tier_of
    layout = _Layout()
    candidates = []
    for endpoint_id in index.endpoint_order if endpoint_ids is None else endpoint_ids:
        c = Candidate(endpoint_id, index.endpoints[endpoint_id], tier_of.get(endpoint_id))
        _cost(c, request, snapshot, now_ms, horizon, layout)
        _role_filters(c, request)
        _capability_filters(c, request)
        _operational_filters(c, rules, snapshot, now_ms, failed)
        _configuration_filter(c, request)
        _quota_and_budget(c, index, snapshot, windows, budget, now_ms)
        candidates.append(c)
    return candidates
