"""Builders for protocol requests used across the test suite.

Conversations here are synthetic: each message is a text message whose
content is derived from a seed, so that digests are real and deterministic,
while token counts are given explicitly to match the scenario's arithmetic.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

from rolemodel.digest import digest_chain
from rolemodel.v1 import common_pb2, conversation_pb2, hints_pb2, outcome_pb2, router_service_pb2


def new_id(prefix: str = "t") -> str:
    return f"{prefix}-{uuid.uuid4().hex[:16]}"


def synthetic_messages(seed: str, count: int) -> list[conversation_pb2.Message]:
    roles = [conversation_pb2.MESSAGE_ROLE_USER, conversation_pb2.MESSAGE_ROLE_ASSISTANT]
    messages = [
        conversation_pb2.Message(
            role=conversation_pb2.MESSAGE_ROLE_SYSTEM,
            parts=[conversation_pb2.ContentPart(text=conversation_pb2.TextPart(text=f"system prompt of {seed}"))],
        )
    ]
    messages += [
        conversation_pb2.Message(
            role=roles[(i - 1) % 2],
            parts=[conversation_pb2.ContentPart(text=conversation_pb2.TextPart(text=f"{seed} message {i}"))],
        )
        for i in range(1, count)
    ]
    return messages[:count]


def conversation(
    conversation_id: str, token_counts: Sequence[int], *, turn_index: int = 0, seed: str | None = None
) -> conversation_pb2.ConversationRef:
    """A reference by digest and count only: what a client that calls models itself sends."""
    messages = synthetic_messages(seed or conversation_id, len(token_counts))
    digests = digest_chain(messages)
    return conversation_pb2.ConversationRef(
        conversation_id=conversation_id,
        turn_index=turn_index,
        messages=[
            conversation_pb2.MessageRef(token_count=n, digest=d) for n, d in zip(token_counts, digests, strict=True)
        ],
    )


def route(
    role: str,
    conv: conversation_pb2.ConversationRef,
    *,
    difficulty: float | None = None,
    strategy: common_pb2.Strategy.ValueType = common_pb2.STRATEGY_UNSPECIFIED,
    expected_output: int | None = None,
    dry_run: bool = False,
    **hint_fields: Any,
) -> router_service_pb2.RouteRequest:
    hints = hints_pb2.RoutingHints(role=role, strategy=strategy, **hint_fields)
    if difficulty is not None:
        hints.difficulty = difficulty
    if expected_output is not None:
        hints.expected_output_tokens = expected_output
    return router_service_pb2.RouteRequest(conversation=conv, hints=hints, dry_run=dry_run)


def usage(
    input_tokens: int = 0, cache_read: int = 0, cache_write: int = 0, output_tokens: int = 0
) -> outcome_pb2.Usage:
    return outcome_pb2.Usage(
        input_tokens=input_tokens,
        cache_read_tokens=cache_read,
        cache_write_tokens=cache_write,
        output_tokens=output_tokens,
    )


def outcome(
    decision_id: str,
    served: str,
    outcome_class: common_pb2.OutcomeClass.ValueType = common_pb2.OUTCOME_CLASS_SUCCESS,
    *,
    used: outcome_pb2.Usage | None = None,
    key: str | None = None,
    ttft_ms: int = 0,
) -> outcome_pb2.Outcome:
    return outcome_pb2.Outcome(
        decision_id=decision_id,
        served_endpoint_id=served,
        outcome_class=outcome_class,
        usage=used or outcome_pb2.Usage(),
        ttft_ms=ttft_ms,
        idempotency_key=new_id("k") if key is None else key,
    )
