"""Where a prompt could be cached: its prefixes, their identities and their token counts.

A provider caches token prefixes. The simulation works on the same units the router reasons
about: the normative token estimate (``rolemodel.tokens``) and the chained digests
(``rolemodel.digest``). A prefix is identified by the tool definitions (which come before the
first message and are cached with it) and the digest of the messages up to that point; a prefix
that ends inside a message (an Anthropic breakpoint on one of its blocks) uses the digest of that
message cut after the block.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass

from rolemodel.digest import ZERO_DIGEST, chain
from rolemodel.tokens import MESSAGE_OVERHEAD_TOKENS, estimate_part_tokens, estimate_tools_tokens
from rolemodel.v1 import conversation_pb2


@dataclass(frozen=True)
class PrefixPoint:
    """The end of one cacheable prefix.

    ``breakpoint_ttl`` is ``None`` when no cache breakpoint ends here, else the breakpoint's TTL in
    seconds (0 for the model's default).
    """

    key: bytes
    tokens: int
    breakpoint_ttl: int | None = None


@dataclass(frozen=True)
class PromptLayout:
    """A prompt's token count and its prefixes at message ends and at every content part."""

    prompt_tokens: int
    message_points: list[PrefixPoint]
    part_points: list[PrefixPoint]
    last_digest: bytes
    tools_fingerprint: bytes

    def key_after(self, message: conversation_pb2.Message) -> bytes:
        """The key of this prompt followed by ``message`` (an answer, for caches that include output)."""
        return _key(self.tools_fingerprint, chain(self.last_digest, message))


def _key(tools_fingerprint: bytes, digest: bytes) -> bytes:
    return hashlib.sha256(tools_fingerprint + digest).digest()


def tools_fingerprint(tools: Sequence[conversation_pb2.ToolDefinition]) -> bytes:
    document = [[t.name, t.description, t.parameters_json_schema] for t in tools]
    return hashlib.sha256(json.dumps(document, ensure_ascii=False).encode()).digest()


def layout_prompt(
    messages: Sequence[conversation_pb2.Message],
    tools: Sequence[conversation_pb2.ToolDefinition],
    *,
    with_parts: bool = False,
) -> PromptLayout:
    """The layout of a prompt; ``with_parts`` adds a point after every content part (explicit caching).

    Raises ValueError for a message without a role, which has no digest.
    """
    fingerprint = tools_fingerprint(tools)
    tokens = estimate_tools_tokens(tools)
    digest = ZERO_DIGEST
    message_points: list[PrefixPoint] = []
    part_points: list[PrefixPoint] = []
    for message in messages:
        if with_parts:
            part_points.extend(_part_points(fingerprint, digest, tokens, message))
        tokens += MESSAGE_OVERHEAD_TOKENS + sum(estimate_part_tokens(p) for p in message.parts)
        digest = chain(digest, message)
        message_points.append(PrefixPoint(_key(fingerprint, digest), tokens))
    return PromptLayout(tokens, message_points, part_points, digest, fingerprint)


def _part_points(
    fingerprint: bytes, previous: bytes, tokens: int, message: conversation_pb2.Message
) -> list[PrefixPoint]:
    points = []
    tokens += MESSAGE_OVERHEAD_TOKENS
    partial = conversation_pb2.Message(role=message.role)
    for part in message.parts:
        partial.parts.append(part)
        tokens += estimate_part_tokens(part)
        ttl = part.cache_breakpoint.ttl_seconds if part.HasField("cache_breakpoint") else None
        points.append(PrefixPoint(_key(fingerprint, chain(previous, partial)), tokens, ttl))
    return points
