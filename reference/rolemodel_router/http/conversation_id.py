"""The conversation a front-door request belongs to, and its turn, when the client cannot say (spec 14.4).

Cache accounting, affinity and escalation are all keyed by conversation, and unmodified clients
send no conversation id. They do re-send the whole conversation on every turn, so its opening
identifies it: the *opening* is every message before the first assistant message (all of them
before the first answer). The opening stays the same on every later turn, and it holds the
user's first request, which sets one conversation apart from another with the same system
prompt and the same environment preamble (coding agents send both on every session).

The derived id is ``derived:`` and the first 32 hex digits of the chained digest (spec 4.2) of
the opening. Two conversations that open with exactly the same messages share an id; that is
the only case where the derivation conflates, and then their prompts share a cached prefix too.
A client that trims or rewrites its oldest messages starts a new derived conversation, which is
also what the provider's cache sees.

A client that names its conversation otherwise is believed: the ``x-rolemodel-conversation``
header first, then a Responses request's ``prompt_cache_key``, which Codex sets to its thread id.

The turn index is the number of assistant messages in the prompt: each turn appends one answer,
and a retry re-sends the same prompt, so it keeps the index (spec 4.5).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from rolemodel.digest import digest_chain
from rolemodel.v1 import conversation_pb2
from rolemodel_router.engine.route_input import CONVERSATION_ID

HEADER = "x-rolemodel-conversation"
DERIVED_PREFIX = "derived:"
DERIVED_HEX_DIGITS = 32


def opening(messages: Sequence[conversation_pb2.Message]) -> Sequence[conversation_pb2.Message]:
    """The messages before the first assistant message; at least the first message when there is one."""
    for position, message in enumerate(messages):
        if message.role == conversation_pb2.MESSAGE_ROLE_ASSISTANT:
            return messages[: max(position, 1)]
    return messages


def derive_conversation_id(messages: Sequence[conversation_pb2.Message]) -> str:
    """``derived:<32 hex digits>`` from the digest of the opening; empty for an empty conversation."""
    first = opening(messages)
    if not first:
        return ""
    return DERIVED_PREFIX + digest_chain(first)[-1].hex()[:DERIVED_HEX_DIGITS]


def turn_index(messages: Sequence[conversation_pb2.Message]) -> int:
    return sum(1 for m in messages if m.role == conversation_pb2.MESSAGE_ROLE_ASSISTANT)


def conversation_id(
    headers: Mapping[str, str], messages: Sequence[conversation_pb2.Message], prompt_cache_key: str = ""
) -> str:
    """The client's id from the header when it sends one (validated later, like any id), else its prompt cache key
    when that is a valid conversation id (Codex sends its thread id there), else the derived one."""
    given = headers.get(HEADER)
    if given is not None:
        return given.strip()
    if CONVERSATION_ID.fullmatch(prompt_cache_key):
        return prompt_cache_key
    return derive_conversation_id(messages)
