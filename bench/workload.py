"""Requests the benchmarks send: conversations by digest and token count, as real clients send them."""

from __future__ import annotations

import hashlib

from rolemodel.v1 import conversation_pb2, hints_pb2, router_service_pb2


def conversation_request(
    conversation_id: str, *, messages: int, turn: int, role: str, tokens_per_message: int = 600
) -> router_service_pb2.RouteRequest:
    """A Route request for a conversation of ``messages`` messages, identified by chained digests."""
    refs = []
    previous = bytes(32)
    for i in range(messages):
        previous = hashlib.sha256(previous + hashlib.sha256(f"{conversation_id}/{i}".encode()).digest()).digest()
        refs.append(conversation_pb2.MessageRef(token_count=tokens_per_message + (i % 7) * 40, digest=previous))
    return router_service_pb2.RouteRequest(
        conversation=conversation_pb2.ConversationRef(conversation_id=conversation_id, turn_index=turn, messages=refs),
        hints=hints_pb2.RoutingHints(role=role, difficulty=0.3 + (turn % 5) / 10, expected_output_tokens=400),
    )
