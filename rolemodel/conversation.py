"""Build conversation references and canonical messages without boilerplate.

A client that calls models itself usually sends token counts and digests
only; ``conversation_ref`` computes the digests (and, when no counts are
given, leaves them out so the router applies the normative estimate).
"""

from __future__ import annotations

from collections.abc import Sequence

from rolemodel.digest import digest_chain
from rolemodel.v1 import conversation_pb2

_ROLES = {
    "system": conversation_pb2.MESSAGE_ROLE_SYSTEM,
    "user": conversation_pb2.MESSAGE_ROLE_USER,
    "assistant": conversation_pb2.MESSAGE_ROLE_ASSISTANT,
    "tool": conversation_pb2.MESSAGE_ROLE_TOOL,
}


def text_message(role: str, text: str) -> conversation_pb2.Message:
    """A message with one text part; ``role`` is system, user, assistant or tool."""
    try:
        proto_role = _ROLES[role]
    except KeyError:
        raise ValueError(f"unknown message role {role!r}; use one of {sorted(_ROLES)}") from None
    return conversation_pb2.Message(
        role=proto_role, parts=[conversation_pb2.ContentPart(text=conversation_pb2.TextPart(text=text))]
    )


def conversation_ref(
    conversation_id: str,
    messages: Sequence[conversation_pb2.Message],
    *,
    turn_index: int | None = None,
    token_counts: Sequence[int] | None = None,
    include_messages: bool = False,
    tool_call_pending: bool = False,
) -> conversation_pb2.ConversationRef:
    """A reference with chained digests for ``messages``.

    ``turn_index`` defaults to the number of assistant messages so far, which
    is the turn this prompt asks for. With ``include_messages`` the messages
    travel too (needed for handoff transforms and Execute).
    """
    if token_counts is not None and len(token_counts) != len(messages):
        raise ValueError("token_counts must have one entry per message")
    digests = digest_chain(messages)
    refs = []
    for i, (message, digest) in enumerate(zip(messages, digests, strict=True)):
        ref = conversation_pb2.MessageRef(digest=digest)
        if token_counts is not None:
            ref.token_count = token_counts[i]
        if include_messages:
            ref.message.CopyFrom(message)
        refs.append(ref)
    if turn_index is None:
        turn_index = sum(1 for m in messages if m.role == conversation_pb2.MESSAGE_ROLE_ASSISTANT)
    return conversation_pb2.ConversationRef(
        conversation_id=conversation_id,
        turn_index=turn_index,
        messages=refs,
        tool_call_pending=tool_call_pending,
    )
