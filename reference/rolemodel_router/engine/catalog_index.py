"""The catalog, indexed once at start-up so that a decision does no parsing.

Prices become picounits per token, decimal amounts become picounits, ladders
become endpoint-to-tier maps, and each role's effective policies (its own or
the catalog's defaults) are resolved here, not on every request.
"""

from __future__ import annotations

from dataclasses import dataclass

from rolemodel.cache_capacity import Capacity, capacity_of
from rolemodel.cost import EndpointEconomics, economics_from_endpoint
from rolemodel.money import amount_to_picos
from rolemodel.v1 import catalog_pb2, common_pb2
from rolemodel_router.config.catalog_loader import LoadedCatalog


@dataclass(frozen=True)
class Affinity:
    min_saving_picos: int
    min_saving_ratio: float
    min_quality_gain: float
    pin_tool_loops: bool
    horizon_turns: int
    source: catalog_pb2.AffinityPolicy


@dataclass(frozen=True)
class ShareTarget:
    target_share: float
    window_requests: int
    pace_quota_id: str


@dataclass(frozen=True)
class RoleIndex:
    role: catalog_pb2.Role
    tier_of: dict[str, int]  # endpoint id -> tier
    tiers: tuple[tuple[str, ...], ...]
    tier_min_difficulty: tuple[float | None, ...]
    required_capabilities: frozenset[common_pb2.Capability.ValueType]
    affinity: Affinity
    turn_budget_picos: int  # 0: none
    share_target: ShareTarget | None
    escalate_on: frozenset[common_pb2.OutcomeClass.ValueType]
    #: The ladder's endpoints in catalog order, computed once: what a compact decision lists.
    endpoint_order: tuple[str, ...] = ()

    @property
    def top_tier(self) -> int:
        return len(self.tiers) - 1


@dataclass(frozen=True)
class EndpointIndex:
    endpoint: catalog_pb2.Endpoint
    economics: EndpointEconomics
    capabilities: frozenset[common_pb2.Capability.ValueType]
    modalities: frozenset[common_pb2.Modality.ValueType]  # text is always accepted
    quota_ids: tuple[str, ...]
    capacity: Capacity  # of the prompt cache, shared by every conversation (spec 7.7)
    #: Read by every decision's filters; kept here as plain values, not looked up in the proto each time.
    hosted_tools: frozenset[str] = frozenset()
    context_window_tokens: int = 0
    client_credential_headers: tuple[str, ...] = ()


@dataclass(frozen=True)
class QuotaIndex:
    quota: catalog_pb2.Quota
    max_cost_picos: int


class CatalogIndex:
    """Everything a decision reads from the catalog, precomputed."""

    def __init__(self, loaded: LoadedCatalog) -> None:
        catalog = loaded.catalog
        self.loaded = loaded
        self.catalog = catalog
        self.digest = loaded.digest
        #: Rules of optional capabilities a router may be told not to apply (``withheld.py``): affinity and
        #: tool-loop pinning, escalation by outcomes, and per-endpoint cache state in the estimates.
        self.applies_affinity = True
        self.applies_escalation = True
        self.tracks_cache = True
        self.currency = catalog.endpoints[0].pricing.currency if catalog.endpoints else "USD"
        self.quotas = {
            q.id: QuotaIndex(q, amount_to_picos(q.max_cost) if q.max_cost else 0) for q in catalog.policies.quotas
        }
        self.endpoint_order = tuple(e.id for e in catalog.endpoints)
        self.endpoints = {
            e.id: EndpointIndex(
                endpoint=e,
                economics=economics_from_endpoint(e),
                capabilities=frozenset(e.capabilities),
                modalities=frozenset(e.input_modalities) | {common_pb2.MODALITY_TEXT},
                quota_ids=tuple(q.id for q in catalog.policies.quotas if q.endpoint_id == e.id),
                capacity=capacity_of(e.caching),
                hosted_tools=frozenset(e.hosted_tools),
                context_window_tokens=e.context_window_tokens,
                client_credential_headers=tuple(e.connection.client_credential_headers),
            )
            for e in catalog.endpoints
        }
        default_budget = _amount(catalog.policies.turn_budget.max_cost)
        targets = {t.role: t for t in catalog.policies.premium_share_targets}
        self.roles = {
            r.name: self._index_role(r, catalog.policies, default_budget, targets.get(r.name)) for r in catalog.roles
        }
        self.deny_rules = tuple(catalog.policies.deny_rules)

    def _index_role(
        self,
        role: catalog_pb2.Role,
        policies: catalog_pb2.Policies,
        default_budget: int,
        target: catalog_pb2.PremiumShareTarget | None,
    ) -> RoleIndex:
        affinity = role.affinity if role.HasField("affinity") else policies.default_affinity
        own_budget = _amount(role.turn_budget.max_cost)
        tier_of = {eid: t for t, tier in enumerate(role.ladder) for eid in tier.endpoint_ids}
        return RoleIndex(
            role=role,
            tier_of=tier_of,
            tiers=tuple(tuple(tier.endpoint_ids) for tier in role.ladder),
            tier_min_difficulty=tuple(
                (tier.min_difficulty if tier.HasField("min_difficulty") else None) for tier in role.ladder
            ),
            required_capabilities=frozenset(role.required_capabilities),
            affinity=Affinity(
                min_saving_picos=_amount(affinity.min_saving),
                min_saving_ratio=affinity.min_saving_ratio,
                min_quality_gain=affinity.min_quality_gain,
                pin_tool_loops=affinity.tool_loop != catalog_pb2.TOOL_LOOP_POLICY_FREE,
                horizon_turns=max(1, affinity.horizon_turns),
                source=affinity,
            ),
            turn_budget_picos=own_budget or default_budget,
            share_target=(
                ShareTarget(target.target_share, target.window_requests or 200, target.pace_quota_id)
                if target
                else None
            ),
            escalate_on=frozenset(role.escalation.escalate_on),
            endpoint_order=tuple(e for e in self.endpoint_order if e in tier_of),
        )

    def quality(self, endpoint_id: str, role: str) -> float | None:
        endpoint = self.endpoints[endpoint_id].endpoint
        if role in endpoint.role_quality:
            return endpoint.role_quality[role]
        if endpoint.HasField("default_quality"):
            return endpoint.default_quality
        return None


def _amount(text: str) -> int:
    return amount_to_picos(text) if text else 0
