"""Reasoning blocks across providers (RM-HANDOFF-002, RM-HANDOFF-003).

A signature proves to its own provider that the reasoning is genuine; any other provider rejects
the request or, worse, silently misreads it. So a block stays as it is only within its family.
Elsewhere the role's policy either drops it or keeps its words as plain text, never the signature.
"""

from __future__ import annotations

from rolemodel.v1 import catalog_pb2, conversation_pb2, decision_pb2
from rolemodel_router.handoff.transforms import TransformLog

C = conversation_pb2


#: Families that accept a reasoning block only with a signature of their own.
SIGNATURE_ONLY_FAMILIES = frozenset({"anthropic"})


def is_foreign(reasoning: C.ReasoningPart, family: str) -> bool:
    """Whether the block must not reach ``family`` as it is.

    An unlabelled block (empty ``provider``) without a signature carries nothing provider-specific,
    so a family that takes plain reasoning text may read it; a family that takes only its own
    signed blocks (Anthropic) cannot. An unlabelled signed block is foreign everywhere, because
    nobody can tell which provider would accept the signature.
    """
    if reasoning.provider:
        return reasoning.provider != family
    return bool(reasoning.signature) or family in SIGNATURE_ONLY_FAMILIES


def transform_reasoning(
    message: C.Message, index: int, family: str, policy: catalog_pb2.ReasoningHandoff.ValueType, log: TransformLog
) -> C.Message:
    """``message`` with its foreign reasoning dropped or turned into text; the same object if none is foreign."""
    if not any(part.HasField("reasoning") and is_foreign(part.reasoning, family) for part in message.parts):
        return message
    to_text = policy == catalog_pb2.REASONING_HANDOFF_TO_TEXT
    changed = C.Message(
        role=message.role,
        origin_endpoint_id=message.origin_endpoint_id,
        provider_response_id=message.provider_response_id,
    )
    for part in message.parts:
        reasoning = part.reasoning if part.HasField("reasoning") else None
        if reasoning is None or not is_foreign(reasoning, family):
            changed.parts.append(part)
            continue
        source = reasoning.provider or "an unknown provider"
        if to_text and reasoning.text and not reasoning.redacted:
            converted = changed.parts.add(text=C.TextPart(text=reasoning.text))
            if part.HasField("cache_breakpoint"):
                converted.cache_breakpoint.CopyFrom(part.cache_breakpoint)
            log.add(
                decision_pb2.HANDOFF_TRANSFORM_KIND_REASONING_TO_TEXT,
                index,
                f"reasoning from {source} kept as text without its signature for {family}",
            )
        else:
            why = "redacted reasoning has no text to keep" if to_text else "the role drops foreign reasoning"
            log.add(
                decision_pb2.HANDOFF_TRANSFORM_KIND_REASONING_DROPPED,
                index,
                f"reasoning from {source} dropped for {family}: {why}",
            )
    return changed
