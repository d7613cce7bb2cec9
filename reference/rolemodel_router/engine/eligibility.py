"""Eligibility filters and costing, per endpoint (spec 6.3 and 6.4).

Every endpoint is checked against every filter, so that a decision explains
each exclusion, not only the first. Costing happens here too, because two
filters (quota and budget) need the cost.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from rolemodel import cost
from rolemodel.money import format_picos
from rolemodel.v1 import common_pb2, decision_pb2
from rolemodel_router.engine.catalog_index import CatalogIndex, EndpointIndex
from rolemodel_router.engine.plans import RouteSnapshot
from rolemodel_router.engine.quota import Need, admits, describe_exhaustion, window_usage
from rolemodel_router.engine.route_input import RouteInput
from rolemodel_router.state.model import CacheEntry

X = decision_pb2
_CAPABILITY_NAMES = {v: k.removeprefix("CAPABILITY_").lower() for k, v in common_pb2.Capability.items()}
_MODALITY_NAMES = {v: k.removeprefix("MODALITY_").lower() for k, v in common_pb2.Modality.items()}
_LOCALITY_NAMES = {v: k.removeprefix("LOCALITY_").lower() for k, v in common_pb2.Locality.items()}
#: Exclusions that a pin or a tool-loop pin may override.
SOFT_EXCLUSIONS = frozenset({X.EXCLUSION_CODE_NOT_IN_ROLE, X.EXCLUSION_CODE_BELOW_REQUIRED_TIER})


@dataclass
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
    components: list[decision_pb2.ScoreComponent] = field(default_factory=list)
    quality: float | None = None
    rank: int = 0

    def exclude(self, code: decision_pb2.ExclusionCode.ValueType, detail: str) -> None:
        self.exclusions.append((code, detail))

    @property
    def hard_eligible(self) -> bool:
        """Passes every filter a pin cannot override."""
        return all(code in SOFT_EXCLUSIONS for code, _ in self.exclusions)

    @property
    def eligible(self) -> bool:
        return not self.exclusions

    @property
    def amortized(self) -> int:
        """The amortised cost; every candidate is costed before it is compared."""
        return self.costing.amortized_picos if self.costing is not None else 0

    @property
    def myopic(self) -> int:
        return self.costing.turn.total_picos if self.costing is not None else 0


def turn_budget(index: CatalogIndex, request: RouteInput) -> int:
    """The smallest of the hint's, the role's and the catalog's budgets that are set (0: none)."""
    budgets = [b for b in (request.max_cost_picos, request.role.turn_budget_picos) if b > 0]
    return min(budgets) if budgets else 0


def _deny_matches(index: CatalogIndex, request: RouteInput, endpoint: EndpointIndex) -> str | None:
    labels = request.hints.labels
    for rule in index.deny_rules:
        if rule.roles and request.role.role.name not in rule.roles:
            continue
        if any(labels.get(k) != v for k, v in rule.labels.items()):
            continue
        e = endpoint.endpoint
        if e.id in rule.endpoint_ids or (rule.locality and rule.locality == e.locality):
            return f"deny rule '{rule.id}'" + (f": {rule.description}" if rule.description else "")
    return None


def _cost(candidate: Candidate, request: RouteInput, snapshot: RouteSnapshot, now_ms: int) -> None:
    econ = candidate.index.economics
    entry = snapshot.conversation.cache.get(candidate.endpoint_id)
    candidate.entry = entry
    cached = 0
    if entry is not None:
        matched_messages = cost.matched_prefix_messages(request.digests, entry.digests)
        candidate.matched_tokens = cost.matched_prefix_tokens(
            request.cumulative_tokens,
            matched_messages=matched_messages,
            held_messages=len(entry.digests),
            reply_tokens=entry.reply_tokens,
            includes_output=econ.includes_output,
        )
        candidate.expired = not entry.live(now_ms)
        if not candidate.expired:
            cached = cost.cacheable_tokens(econ, candidate.matched_tokens)
    candidate.output_tokens = cost.expected_output_tokens(econ, request.expected_output_tokens)
    horizon = 1 if request.isolated else (request.horizon_turns or request.role.affinity.horizon_turns)
    candidate.costing = cost.amortized_cost(
        econ,
        prompt_tokens=request.prompt_tokens,
        cached_tokens=cached,
        new_tokens=request.new_tokens,
        output_tokens=candidate.output_tokens,
        horizon_turns=horizon,
    )


def _role_filters(c: Candidate, request: RouteInput) -> None:
    if request.pinned and c.endpoint_id != request.pinned:
        c.exclude(X.EXCLUSION_CODE_NOT_PINNED, f"the hints pin '{request.pinned}'")
    if c.tier is None:
        c.exclude(X.EXCLUSION_CODE_NOT_IN_ROLE, f"not on the ladder of role '{request.role.role.name}'")
    if c.endpoint_id in request.avoided:
        c.exclude(X.EXCLUSION_CODE_AVOIDED, "the hints avoid it")


def _capability_filters(c: Candidate, request: RouteInput) -> None:
    e = c.index.endpoint
    missing = sorted(_CAPABILITY_NAMES[cap] for cap in request.capabilities - c.index.capabilities)
    if missing:
        c.exclude(X.EXCLUSION_CODE_CAPABILITY_MISSING, f"lacks {', '.join(missing)}")
    unsupported = sorted(_MODALITY_NAMES[m] for m in request.modalities - c.index.modalities)
    if unsupported:
        c.exclude(X.EXCLUSION_CODE_MODALITY_UNSUPPORTED, f"does not accept {', '.join(unsupported)} input")
    window = e.context_window_tokens
    needed = request.prompt_tokens + c.output_tokens
    if window and needed > window:
        c.exclude(
            X.EXCLUSION_CODE_CONTEXT_WINDOW_EXCEEDED,
            f"needs {needed} tokens ({request.prompt_tokens} prompt + {c.output_tokens} output), window is {window}",
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


def _operational_filters(
    c: Candidate, index: CatalogIndex, request: RouteInput, snapshot: RouteSnapshot, now_ms: int, failed: frozenset[str]
) -> None:
    denied = _deny_matches(index, request, c.index)
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
        c.exclude(X.EXCLUSION_CODE_FAILED_THIS_TURN, f"already failed on turn {request.turn_index}")


def _dynamic_filters(
    c: Candidate, index: CatalogIndex, request: RouteInput, snapshot: RouteSnapshot, now_ms: int, budget: int
) -> None:
    if c.index.quota_ids and snapshot.degraded:
        c.exclude(
            X.EXCLUSION_CODE_STATE_UNAVAILABLE, "its quota counters live in the shared state, which is unavailable"
        )
    need = Need(1, request.prompt_tokens + c.output_tokens, c.myopic)
    for quota_id in c.index.quota_ids:
        quota = index.quotas[quota_id]
        window = window_usage(quota, snapshot.quota_events.get(quota_id, ()), now_ms)
        if not admits(quota, window, need):
            c.exclude(X.EXCLUSION_CODE_QUOTA_EXHAUSTED, describe_exhaustion(quota, window))
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


def evaluate(index: CatalogIndex, request: RouteInput, snapshot: RouteSnapshot, now_ms: int) -> list[Candidate]:
    """Every catalog endpoint, costed and filtered, in catalog order."""
    budget = turn_budget(index, request)
    failed = failed_this_turn(request, snapshot)
    candidates = []
    for endpoint_id in index.endpoint_order:
        c = Candidate(endpoint_id, index.endpoints[endpoint_id], request.role.tier_of.get(endpoint_id))
        _cost(c, request, snapshot, now_ms)
        _role_filters(c, request)
        _capability_filters(c, request)
        _operational_filters(c, index, request, snapshot, now_ms, failed)
        _dynamic_filters(c, index, request, snapshot, now_ms, budget)
        candidates.append(c)
    return candidates
