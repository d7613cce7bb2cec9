"""What a front-door response says about its decision: headers, and the ``rolemodel`` body member (spec 14.5).

What is known when differs by response kind, and the headers say only what is true when they are
sent:

- decided, before the first token: the decision id, conversation id, role and its source, the
  endpoint of the latest attempt (the one that serves, or the last one that failed; none when
  nothing was attempted), its estimated cost for this turn and the prompt tokens it is expected
  to hold in its cache (``x-rolemodel-estimated-*``);
- after the last token: the reported cost and the cached and cache-written tokens the provider
  reported. A non-streaming response carries them as headers too; a stream has sent its headers
  long before, so they come in the ``rolemodel`` member of its final event.

Amounts are exact decimal strings of currency units (``0.000412``), never floats, with the
currency in ``x-rolemodel-currency``.
"""

from __future__ import annotations

from google.protobuf import json_format
from google.protobuf.message import Message

from rolemodel.dialects.json_fields import JSONObject
from rolemodel.money import PICOS_PER_UNIT
from rolemodel.v1 import decision_pb2, router_service_pb2
from rolemodel_router.http.model_names import RoleSource

DECISION_ID = "x-rolemodel-decision-id"
CONVERSATION_ID = "x-rolemodel-conversation-id"
ROLE = "x-rolemodel-role"
ROLE_SOURCE = "x-rolemodel-role-source"
ENDPOINT = "x-rolemodel-endpoint"
CURRENCY = "x-rolemodel-currency"
ESTIMATED_COST = "x-rolemodel-estimated-cost"
ESTIMATED_CACHED_TOKENS = "x-rolemodel-estimated-cached-tokens"
REPORTED_COST = "x-rolemodel-reported-cost"
CACHED_TOKENS = "x-rolemodel-cached-tokens"
CACHE_WRITE_TOKENS = "x-rolemodel-cache-write-tokens"
#: Every header a response may carry, for CORS ``expose-headers`` and for documentation.
ALL = (
    DECISION_ID,
    CONVERSATION_ID,
    ROLE,
    ROLE_SOURCE,
    ENDPOINT,
    CURRENCY,
    ESTIMATED_COST,
    ESTIMATED_CACHED_TOKENS,
    REPORTED_COST,
    CACHED_TOKENS,
    CACHE_WRITE_TOKENS,
)
DECIMALS = 12


def amount(picos: int) -> str:
    """Picounits as an exact decimal of currency units, trailing zeros dropped: 412_000_000 -> "0.000412"."""
    sign = "-" if picos < 0 else ""
    whole, fraction = divmod(abs(picos), PICOS_PER_UNIT)
    digits = f"{fraction:0{DECIMALS}d}".rstrip("0")
    return f"{sign}{whole}.{digits}" if digits else f"{sign}{whole}"


def candidate(decision: decision_pb2.Decision, endpoint_id: str) -> decision_pb2.Candidate | None:
    for c in decision.candidates:
        if c.endpoint_id == endpoint_id:
            return c
    return None


def decision_headers(
    decision: decision_pb2.Decision, endpoint_id: str | None, role_source: RoleSource | None
) -> dict[str, str]:
    """The headers known once the router has decided and has attempted ``endpoint_id``.

    ``endpoint_id`` is the endpoint of the latest attempt, as Execute's ``attempt_started`` events
    name it, or None when no endpoint was attempted: then no header names an endpoint or its
    estimate, and only the currency, which every candidate shares, is said.
    """
    headers = {
        DECISION_ID: decision.decision_id,
        CONVERSATION_ID: decision.conversation_id,
        ROLE: decision.role,
    }
    if role_source is not None:
        headers[ROLE_SOURCE] = role_source.value
    served = candidate(decision, endpoint_id) if endpoint_id else None
    if endpoint_id:
        headers[ENDPOINT] = endpoint_id
    if served is not None and served.HasField("cost"):
        headers[ESTIMATED_COST] = amount(served.cost.total_picos)
        headers[ESTIMATED_CACHED_TOKENS] = str(served.cost.cached_tokens)
    costed = [c for c in (served, *decision.candidates) if c is not None and c.HasField("cost")]
    if costed:
        headers[CURRENCY] = costed[0].cost.currency
    return headers


def completion_headers(completed: router_service_pb2.ExecuteCompleted) -> dict[str, str]:
    """The headers only a finished answer can give: what the provider reported and what it cost."""
    return {
        ENDPOINT: completed.served_endpoint_id,
        CURRENCY: completed.reported_cost.currency,
        REPORTED_COST: amount(completed.reported_cost.total_picos),
        CACHED_TOKENS: str(completed.usage.cache_read_tokens),
        CACHE_WRITE_TOKENS: str(completed.usage.cache_write_tokens),
    }


def completion_summary(completed: router_service_pb2.ExecuteCompleted) -> JSONObject:
    """The ``rolemodel`` member of a final event or body: the completion headers, as JSON."""
    return {
        "decision_id": completed.decision_id,
        "served_endpoint_id": completed.served_endpoint_id,
        "currency": completed.reported_cost.currency,
        "reported_cost": amount(completed.reported_cost.total_picos),
        "cached_tokens": completed.usage.cache_read_tokens,
        "cache_write_tokens": completed.usage.cache_write_tokens,
    }


def proto_json(message: Message) -> JSONObject:
    """A message in the proto3 JSON mapping with proto field names: the explained decision, the card."""
    mapped: JSONObject = json_format.MessageToDict(message, preserving_proto_field_name=True)
    return mapped
