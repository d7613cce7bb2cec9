"""A conversation turn by turn: who served, each endpoint's cache, and the running cost against baselines.

A cache is *warm* while more than a fifth of the endpoint's TTL is left at the turn, *expiring*
below that, and *cold* when the endpoint held nothing live for the conversation. The running
totals start at the oldest turn still held, with the conversation's totals beside them, so that a
long conversation whose first turns left the view still shows what it cost in all.
"""

from __future__ import annotations

from rolemodel_router.dashboard.events import Event
from rolemodel_router.dashboard.view import ActivityView, ConversationSummary

EXPIRING_FRACTION = 0.2


def cache_states(view: ActivityView, record: Event, endpoint_ids: list[str]) -> dict[str, str]:
    states = {}
    for endpoint_id in endpoint_ids:
        entry = record["caches"].get(endpoint_id)
        endpoint = view.index.endpoints.get(endpoint_id)
        if entry is None or endpoint is None:
            states[endpoint_id] = "cold"
            continue
        left_ms = entry["expires_at_ms"] - record["at_ms"]
        ttl_ms = endpoint.economics.ttl_seconds * 1000
        states[endpoint_id] = "expiring" if left_ms < EXPIRING_FRACTION * ttl_ms else "warm"
    return states


def timeline(view: ActivityView, summary: ConversationSummary) -> Event:
    turns = list(summary.turns)
    endpoint_ids = [e for e in view.index.endpoint_order if any(e == t["endpoint"] or e in t["caches"] for t in turns)]
    running = {"cost_picos": 0, "premium_picos": 0, "cheapest_picos": 0}
    rows = []
    for record in turns:
        for key in running:
            running[key] += record[key]
        rows.append(
            {
                **record,
                "cache_states": cache_states(view, record, endpoint_ids),
                "escalated": any(r["code"] in ("ESCALATED", "ESCALATION_FORCED") for r in record["reasons"]),
                "cumulative_cost_picos": running["cost_picos"],
                "cumulative_premium_picos": running["premium_picos"],
                "cumulative_cheapest_picos": running["cheapest_picos"],
            }
        )
    return {
        "conversation": summary.conversation_id,
        "endpoints": endpoint_ids,
        "totals": view.sums_json(summary.sums),
        "turns": rows,
    }
