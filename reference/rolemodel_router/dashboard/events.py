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


def _names(enum: Any, prefix: str) -> dict[int, str]:
    """An enum's value names without their prefix, looked up once instead of on every event."""
    return {value.number: value.name.removeprefix(prefix) for value in enum.DESCRIPTOR.values}


WINDOW_KINDS = _names(catalog_pb2.QuotaWindowKind, "QUOTA_WINDOW_KIND_")
VALUE_SOURCES = _names(common_pb2.ValueSource, "VALUE_SOURCE_")
OUTCOME_CLASSES = _names(common_pb2.OutcomeClass, "OUTCOME_CLASS_")
HANDOFF_ACTIONS = _names(D.HandoffAction, "HANDOFF_ACTION_")
REASON_CODES = _names(D.ReasonCode, "REASON_CODE_")


def _ms(timestamp: Any) -> int:
    return int(timestamp.seconds * 1000 + timestamp.nanos // 1_000_000)


def _usage(u: D.QuotaUsage) -> Event:
    return {"requests": u.requests, "tokens": u.tokens, "cost_picos": u.cost_picos}


def quota_state(quota: D.QuotaState) -> Event:
    return {
        "quota_id": quota.quota_id,
        "endpoint": quota.endpoint_id,
        "window_kind": WINDOW_KINDS.get(quota.window_kind, str(quota.window_kind)),
        "window_seconds": quota.window_seconds,
        "limit": _usage(quota.limit),
        "used": _usage(quota.used),
        "remaining": _usage(quota.remaining),
        "reserved": _usage(quota.reserved),
        "resets_at_ms": _ms(quota.resets_at),
        "exhausted": quota.exhausted,
    }


def decision_event(index: CatalogIndex, decision: D.Decision) -> Event:
    """What the dashboard keeps of a decision, read in one pass over its candidates.

    The baselines' endpoints come from the decision's own candidates, so a baseline never names an
    endpoint the turn could not have used (a text-only model for an image, a window too small):
    the premium one is the top tier of the role's ladder (the dearest input price among ties), the
    cheapest capable one has the lowest estimate among those not excluded for what they cannot do.
    """
    chosen_id = decision.chosen_endpoint_id
    chosen = None
    premium: tuple[int, int] = (-1, -1)
    premium_id = cheapest_id = chosen_id
    cheapest_picos = -1
    caches = {}
    endpoints = index.endpoints
    for c in decision.candidates:
        endpoint_id = c.endpoint_id
        cost = c.cost
        if endpoint_id == chosen_id:
            chosen = cost
        cache = c.cache
        if cache.held_tokens and not cache.expired:
            caches[endpoint_id] = {"held": cache.held_tokens, "expires_at_ms": _ms(cache.expires_at)}
        exclusions = c.exclusions
        if not c.HasField("tier") or (exclusions and any(x.code in INCAPABLE for x in exclusions)):
            continue
        known = endpoints.get(endpoint_id)
        rank = (c.tier, known.economics.input if known is not None else 0)
        if rank > premium:
            premium, premium_id = rank, endpoint_id
        if cheapest_picos < 0 or cost.total_picos < cheapest_picos:
            cheapest_picos, cheapest_id = cost.total_picos, endpoint_id
    share = decision.policy.share_controller
    return {
        "kind": "decision",
        "id": decision.decision_id,
        "at_ms": _ms(decision.created_at),
        "conversation": decision.conversation_id,
        "turn": decision.turn_index,
        "role": decision.role,
        "endpoint": chosen_id,
        "fallbacks": list(decision.fallback_endpoint_ids),
        "difficulty": round(decision.difficulty.value, 4),
        "difficulty_source": VALUE_SOURCES.get(decision.difficulty.source, ""),
        "prompt_tokens": decision.prompt_tokens,
        "cached_predicted": chosen.cached_tokens if chosen else 0,
        "output_estimate": chosen.output_tokens if chosen else 0,
        "estimated_picos": chosen.total_picos if chosen else 0,
        "side_request": decision.side_request,
        "escalation_level": decision.policy.escalation_level,
        "handoff": HANDOFF_ACTIONS.get(decision.handoff.action, ""),
        "reasons": [{"code": REASON_CODES.get(r.code, str(r.code)), "detail": r.detail} for r in decision.reasons],
        "premium_endpoint": premium_id,
        "cheapest_endpoint": cheapest_id,
        "share": {"target": share.target_share, "realized": share.realized_share} if share.window_size else None,
        "caches": caches,
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
        "class": OUTCOME_CLASSES.get(outcome.outcome_class, str(outcome.outcome_class)),
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
    }


def quotas_event(states: list[D.QuotaState], at_ms: int) -> Event:
    """The latest state of each quota a batch of decisions and outcomes touched.

    Quota states ride on every decision and outcome; only the newest of each matters to the
    dashboard, so the feed keeps the newest per quota and converts those once per batch.
    """
    return {"kind": "quotas", "at_ms": at_ms, "quotas": [quota_state(q) for q in states]}
