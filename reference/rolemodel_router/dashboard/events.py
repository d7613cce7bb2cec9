"""Decisions and outcomes as the dashboard's events: small JSON objects, never message content.

An event holds ids, counts, costs, reason codes with the router's own explanation, and quota
states, the same things the log lines and metrics carry (RM-SEC-011). The router writes these
details itself; nothing a client sent as text is copied, so the dashboard cannot show a prompt.

The functions are pure, so the feed can run them in batches off the hot path and tests can check
them against a decision built by hand.
"""

from __future__ import annotations

from typing import Any

from rolemodel.v1 import catalog_pb2, common_pb2, decision_pb2, outcome_pb2, router_service_pb2
from rolemodel_router.engine.catalog_index import CatalogIndex

D = decision_pb2
Event = dict[str, Any]

#: Exclusions that say an endpoint cannot serve the turn at all; other exclusions (quota, health,
#: policy, budget) are circumstances, so the endpoint still counts as capable for a baseline.
INCAPABLE = frozenset(
    {
        D.EXCLUSION_CODE_NOT_IN_ROLE,
        D.EXCLUSION_CODE_CAPABILITY_MISSING,
        D.EXCLUSION_CODE_MODALITY_UNSUPPORTED,
        D.EXCLUSION_CODE_CONTEXT_WINDOW_EXCEEDED,
        D.EXCLUSION_CODE_LOCALITY_MISMATCH,
    }
)


def _enum(enum: Any, value: int, prefix: str) -> str:
    name: str = enum.Name(value)
    return name.removeprefix(prefix)


def _ms(timestamp: Any) -> int:
    return int(timestamp.seconds * 1000 + timestamp.nanos // 1_000_000)


def quota_state(quota: D.QuotaState) -> Event:
    def usage(u: D.QuotaUsage) -> Event:
        return {"requests": u.requests, "tokens": u.tokens, "cost_picos": u.cost_picos}

    return {
        "quota_id": quota.quota_id,
        "endpoint": quota.endpoint_id,
        "window_kind": _enum(catalog_pb2.QuotaWindowKind, quota.window_kind, "QUOTA_WINDOW_KIND_"),
        "window_seconds": quota.window_seconds,
        "limit": usage(quota.limit),
        "used": usage(quota.used),
        "remaining": usage(quota.remaining),
        "reserved": usage(quota.reserved),
        "resets_at_ms": _ms(quota.resets_at),
        "exhausted": quota.exhausted,
    }


def _baseline_endpoints(index: CatalogIndex, decision: D.Decision) -> tuple[str, str]:
    """The role's premium endpoint (top tier, dearest input price) and the cheapest capable one.

    Both come from the decision's own candidates, so a baseline never names an endpoint the turn
    could not have used (a text-only model for an image, a window too small for the prompt).
    """
    premium: tuple[int, int, str] | None = None
    cheapest: tuple[int, str] | None = None
    for candidate in decision.candidates:
        if not candidate.HasField("tier") or any(x.code in INCAPABLE for x in candidate.exclusions):
            continue
        endpoint = index.endpoints.get(candidate.endpoint_id)
        price = endpoint.economics.input if endpoint is not None else 0
        key = (candidate.tier, price, candidate.endpoint_id)
        if premium is None or key[:2] > premium[:2]:
            premium = key
        if cheapest is None or candidate.cost.total_picos < cheapest[0]:
            cheapest = (candidate.cost.total_picos, candidate.endpoint_id)
    chosen = decision.chosen_endpoint_id
    return (premium[2] if premium else chosen), (cheapest[1] if cheapest else chosen)


def decision_event(index: CatalogIndex, decision: D.Decision) -> Event:
    """What the dashboard keeps of a decision."""
    chosen = next((c for c in decision.candidates if c.endpoint_id == decision.chosen_endpoint_id), None)
    premium, cheapest = _baseline_endpoints(index, decision)
    caches = {
        c.endpoint_id: {"held": c.cache.held_tokens, "expires_at_ms": _ms(c.cache.expires_at)}
        for c in decision.candidates
        if c.cache.held_tokens and not c.cache.expired
    }
    share = decision.policy.share_controller
    return {
        "kind": "decision",
        "id": decision.decision_id,
        "at_ms": _ms(decision.created_at),
        "conversation": decision.conversation_id,
        "turn": decision.turn_index,
        "role": decision.role,
        "endpoint": decision.chosen_endpoint_id,
        "fallbacks": list(decision.fallback_endpoint_ids),
        "difficulty": round(decision.difficulty.value, 4),
        "difficulty_source": _enum(common_pb2.ValueSource, decision.difficulty.source, "VALUE_SOURCE_"),
        "prompt_tokens": decision.prompt_tokens,
        "cached_predicted": chosen.cost.cached_tokens if chosen else 0,
        "output_estimate": chosen.cost.output_tokens if chosen else 0,
        "estimated_picos": chosen.cost.total_picos if chosen else 0,
        "side_request": decision.side_request,
        "escalation_level": decision.policy.escalation_level,
        "handoff": _enum(D.HandoffAction, decision.handoff.action, "HANDOFF_ACTION_"),
        "reasons": [
            {"code": _enum(D.ReasonCode, r.code, "REASON_CODE_"), "detail": r.detail} for r in decision.reasons
        ],
        "premium_endpoint": premium,
        "cheapest_endpoint": cheapest,
        "share": {"target": share.target_share, "realized": share.realized_share} if share.window_size else None,
        "caches": caches,
        "quotas": [quota_state(q) for q in decision.quota_states],
    }


def outcome_event(
    outcome: outcome_pb2.Outcome, response: router_service_pb2.ReportOutcomeResponse, at_ms: int
) -> Event:
    """What the dashboard keeps of an outcome: usage, reported cost, latency and its class."""
    effects = response.effects
    usage = outcome.usage
    return {
        "kind": "outcome",
        "decision": outcome.decision_id,
        "at_ms": at_ms,
        "served": outcome.served_endpoint_id,
        "class": _enum(common_pb2.OutcomeClass, outcome.outcome_class, "OUTCOME_CLASS_"),
        "usage": {
            "input_tokens": usage.input_tokens,
            "cache_read_tokens": usage.cache_read_tokens,
            "cache_write_tokens": usage.cache_write_tokens,
            "output_tokens": usage.output_tokens,
        },
        # An empty Usage is what a client sends when it knows nothing: treat it as no usage.
        "has_usage": any((usage.input_tokens, usage.cache_read_tokens, usage.cache_write_tokens, usage.output_tokens)),
        "reported_picos": effects.reported_cost.total_picos,
        "ttft_ms": outcome.ttft_ms,
        "escalation_level": effects.escalation_level,
        "quotas": [quota_state(q) for q in effects.quota_states],
    }
