"""A decoded front-door request as the ``ExecuteRequest`` the router serves (spec 14.1).

The front door adds nothing of its own to a request: the canonical messages, tools and
generation parameters that a dialect codec decoded, the hints from headers and the model name,
and the conversation id and turn from :mod:`.conversation_id`. Messages travel with their
content and without digests or token counts, so the router computes both exactly as it does for
any gRPC client that sends content (RM-CONV-003, RM-CONV-011).
"""

from __future__ import annotations

from collections.abc import Mapping

from rolemodel.dialects.canonical import CanonicalRequest
from rolemodel.v1 import conversation_pb2, hints_pb2, router_service_pb2
from rolemodel_router.http.conversation_id import conversation_id, turn_index


def build_execute_request(
    canonical: CanonicalRequest, hints: hints_pb2.RoutingHints, headers: Mapping[str, str]
) -> router_service_pb2.ExecuteRequest:
    conversation = conversation_pb2.ConversationRef(
        conversation_id=conversation_id(headers, canonical.messages, canonical.params.prompt_cache_key),
        turn_index=turn_index(canonical.messages),
        messages=[conversation_pb2.MessageRef(message=m) for m in canonical.messages],
        tools=canonical.tools,
    )
    return router_service_pb2.ExecuteRequest(conversation=conversation, hints=hints, params=canonical.params)
