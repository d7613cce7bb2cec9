"""Compaction of a conversation larger than the target's window (spec 8.6).

The tail window keeps the leading system messages and the newest turns that fit, starting at a
user message, so that no tool result is separated from its call and the pending tool exchange at
the end is always kept. The summary strategy keeps the same tail and replaces what it drops by a
summary made through the ``summarize`` role, for which it leaves room.

Both need the messages' roles, so they apply only to requests that carry every message's content;
a request of counts and digests keeps the plain rule: the endpoint is excluded.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from rolemodel.v1 import catalog_pb2, conversation_pb2

if TYPE_CHECKING:
    from rolemodel_router.engine.route_input import RouteInput

C = conversation_pb2
#: Room left for the summary under COMPACTION_STRATEGY_SUMMARY, in tokens.
SUMMARY_ALLOWANCE_TOKENS = 1024
COMPACTING = frozenset({catalog_pb2.COMPACTION_STRATEGY_TAIL_WINDOW, catalog_pb2.COMPACTION_STRATEGY_SUMMARY})


@dataclass(frozen=True, slots=True)
class Compaction:
    """What a compacted prompt keeps: request indexes, in order, and its size."""

    kept: tuple[int, ...]
    dropped: tuple[int, ...]
    prompt_tokens: int  # the kept messages and the tool definitions (and the summary's allowance)
    shared_prefix_messages: int  # the leading messages the compacted prompt shares with the full one
    summarized: bool


def message_tokens(cumulative_tokens: Sequence[int], tools_tokens: int) -> list[int]:
    """Each message's tokens from the running totals (which start after the tool definitions)."""
    out = []
    previous = tools_tokens
    for running in cumulative_tokens:
        out.append(running - previous)
        previous = running
    return out


def compact(
    messages: Sequence[C.Message],
    cumulative_tokens: Sequence[int],
    tools_tokens: int,
    budget_tokens: int,
    strategy: catalog_pb2.CompactionStrategy.ValueType,
) -> Compaction | None:
    """The compaction that fits ``budget_tokens`` of prompt, or None when even the minimum does not fit.

    The minimum is the system messages plus everything from the last user message on.
    """
    if strategy not in COMPACTING or not messages:
        return None
    sizes = message_tokens(cumulative_tokens, tools_tokens)
    system_end = 0
    while system_end < len(messages) and messages[system_end].role == C.MESSAGE_ROLE_SYSTEM:
        system_end += 1
    summarized = strategy == catalog_pb2.COMPACTION_STRATEGY_SUMMARY
    fixed = tools_tokens + sum(sizes[:system_end]) + (SUMMARY_ALLOWANCE_TOKENS if summarized else 0)
    tail = 0
    best: int | None = None
    for start in range(len(messages) - 1, system_end, -1):
        tail += sizes[start]
        if fixed + tail > budget_tokens:
            break
        if messages[start].role == C.MESSAGE_ROLE_USER:
            best = start
    if best is None:
        return None
    kept = (*range(system_end), *range(best, len(messages)))
    return Compaction(
        kept=kept,
        dropped=tuple(range(system_end, best)),
        prompt_tokens=fixed + sum(sizes[best:]),
        shared_prefix_messages=system_end,
        summarized=summarized,
    )


def compaction_for(endpoint: catalog_pb2.Endpoint, request: RouteInput, output_tokens: int) -> Compaction | None:
    """The compaction ``endpoint`` needs for ``request``, or None when the prompt fits or cannot be compacted."""
    window = endpoint.context_window_tokens
    if not window or not request.messages or request.prompt_tokens + output_tokens <= window:
        return None
    return compact(
        request.messages,
        request.cumulative_tokens,
        request.tools_tokens,
        window - output_tokens,
        request.role.role.handoff.compaction,
    )
