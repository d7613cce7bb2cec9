"""Cache breakpoints for endpoints with explicit caching (spec 8.5).

An explicit cache stores only prefixes that end at a breakpoint. One at the end of the system
prompt keeps the longest-lived part cached even when the conversation changes; one at the end of
the prompt lets the next turn, which extends this prompt, read everything up to it. A client that
placed its own breakpoints knows its layout better, so the router then adds none.
"""

from __future__ import annotations

from collections.abc import Sequence

from rolemodel.v1 import catalog_pb2, conversation_pb2, decision_pb2
from rolemodel_router.handoff.transforms import TransformLog

C = conversation_pb2


def breakpoint_indexes(messages: Sequence[C.Message]) -> list[int]:
    """The messages that get a breakpoint on their last part: the last leading system message and the last message."""
    indexes = []
    system_end = 0
    while system_end < len(messages) and messages[system_end].role == C.MESSAGE_ROLE_SYSTEM:
        system_end += 1
    if 0 < system_end < len(messages) and messages[system_end - 1].parts:
        indexes.append(system_end - 1)
    if messages and messages[-1].parts:
        indexes.append(len(messages) - 1)
    return indexes


def place_breakpoints(
    messages: list[C.Message], origins: Sequence[int], caching: catalog_pb2.CachingBehavior, log: TransformLog
) -> None:
    """Adds the breakpoints in place; ``origins[i]`` is the request index of ``messages[i]``.

    The caller has checked that no message carries a breakpoint of the client's (RM-HANDOFF-041).
    """
    if caching.mode != catalog_pb2.CACHE_MODE_EXPLICIT:
        return
    for position in breakpoint_indexes(messages):
        marked = C.Message()
        marked.CopyFrom(messages[position])
        marked.parts[-1].cache_breakpoint.ttl_seconds = caching.ttl_seconds
        messages[position] = marked
        log.add(
            decision_pb2.HANDOFF_TRANSFORM_KIND_CACHE_BREAKPOINT_PLACED,
            origins[position],
            f"breakpoints with a {caching.ttl_seconds}s TTL at the end of the system prompt and of the prompt",
        )
