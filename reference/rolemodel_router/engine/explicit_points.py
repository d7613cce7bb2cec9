"""Where an explicit cache holds a conversation, and where this prompt can read and write it (spec 7.2.1).

An explicit cache keeps one prefix per breakpoint it wrote, and reads only at those prefixes. So a
cache entry of such an endpoint records its *points*: for each prefix it holds, how many whole
messages it covers and how many parts of the next one (a breakpoint may sit on any block), with the
digest that identifies that prefix. This module finds, for one prompt:

- its breakpoints: the client's own marks when any message carries one, else the two the router
  places (8.5, RM-HANDOFF-040), else (no message bodies) one on the last message;
- the held points it repeats, with their tokens and block positions in this prompt.

Token counts of a point inside a message use the normative part estimates (4.4), since a client
counts whole messages only. Without message bodies each message counts as one block.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from rolemodel.digest import ZERO_DIGEST, chain
from rolemodel.explicit_cache import Breakpoint, HeldPoint
from rolemodel.tokens import MESSAGE_OVERHEAD_TOKENS, estimate_part_tokens
from rolemodel.v1 import conversation_pb2
from rolemodel_router.engine.route_input import RouteInput
from rolemodel_router.handoff.breakpoints import breakpoint_indexes
from rolemodel_router.state.model import CachePoint

C = conversation_pb2


@dataclass(frozen=True)
class PromptPoint:
    """A breakpoint of this prompt: where it is, what it holds, and its TTL (0: the endpoint's)."""

    point: CachePoint
    tokens: int
    block: int
    ttl_seconds: int

    @property
    def breakpoint(self) -> Breakpoint:
        return Breakpoint(self.tokens, self.block, self.ttl_seconds)


class PromptLayout:
    """One prompt's block positions and breakpoints; built once per decision, shared by every endpoint."""

    def __init__(self, request: RouteInput) -> None:
        self._request = request
        self._messages = request.messages
        self._starts = request.block_starts  # read with the messages, once (RouteInput)
        self.breakpoints = tuple(self._find_breakpoints())

    def _before(self, index: int) -> tuple[bytes, int]:
        """The digest and cumulative tokens of the messages before ``index``."""
        if index == 0:
            return ZERO_DIGEST, self._request.tools_tokens
        return self._request.digests[index - 1], self._request.cumulative_tokens[index - 1]

    def _whole(self, index: int, ttl: int = 0) -> PromptPoint:
        """The point after message ``index``."""
        last_block = self._starts[index] + max(len(self._messages[index].parts), 1) - 1 if self._messages else index
        point = CachePoint(index + 1, 0, self._request.digests[index])
        return PromptPoint(point, self._request.cumulative_tokens[index], last_block, ttl)

    def _inside(self, index: int, parts: int, ttl: int = 0) -> PromptPoint:
        """The point after the first ``parts`` parts of message ``index`` (not all of them)."""
        message = self._messages[index]
        previous, tokens = self._before(index)
        partial = C.Message(role=message.role, parts=message.parts[:parts])
        tokens += MESSAGE_OVERHEAD_TOKENS + sum(estimate_part_tokens(p) for p in partial.parts)
        point = CachePoint(index, parts, chain(previous, partial))
        return PromptPoint(point, tokens, self._starts[index] + parts - 1, ttl)

    def _at(self, index: int, parts: int, ttl: int = 0) -> PromptPoint:
        if parts >= len(self._messages[index].parts):
            return self._whole(index, ttl)
        return self._inside(index, parts, ttl)

    def _find_breakpoints(self) -> list[PromptPoint]:
        count = len(self._request.digests)
        if not count:
            return []
        if not self._messages:
            return [self._whole(count - 1)]
        marked = [self._at(i, k + 1, ttl) for i, k, ttl in self._request.cache_marks]
        if marked:
            return marked
        return [self._whole(i) for i in breakpoint_indexes(self._messages)]

    def held(self, points: Sequence[CachePoint], held_digests: Sequence[bytes]) -> list[PromptPoint]:
        """The held points this prompt repeats, placed in this prompt (an entry without points holds its end)."""
        if not points and held_digests:
            points = (CachePoint(len(held_digests), 0, held_digests[-1]),)
        found = []
        for point in points:
            if point.parts == 0:
                index = point.messages - 1
                if 0 <= index < len(self._request.digests) and self._request.digests[index] == point.digest:
                    found.append(self._whole(index))
            elif point.messages < len(self._messages) and point.parts < len(self._messages[point.messages].parts):
                candidate = self._inside(point.messages, point.parts)
                if candidate.point.digest == point.digest:
                    found.append(candidate)
        return found


def held_points(found: Sequence[PromptPoint]) -> list[HeldPoint]:
    return [HeldPoint(p.tokens, p.block) for p in found]


def points_after_turn(
    found: Sequence[PromptPoint], breakpoints: Sequence[PromptPoint], read: int, min_cacheable: int
) -> tuple[tuple[CachePoint, ...], int]:
    """What the endpoint holds after serving, and the tokens of its longest prefix: the held points this
    prompt repeats and the breakpoints it writes."""
    kept = {p.point: p.tokens for p in found}
    for b in breakpoints:
        if b.tokens > read and b.tokens >= min_cacheable:
            kept[b.point] = b.tokens
    return tuple(kept), max(kept.values(), default=0)
