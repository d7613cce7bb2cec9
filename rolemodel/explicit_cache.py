"""Explicit prompt caching priced per breakpoint, as Anthropic bills it (spec 7.2.1).

An explicit cache stores a prefix only where the caller put a breakpoint (``cache_control``), and
only when that prefix reaches the model's minimum cacheable length. A request reads the longest
prefix the cache holds that ends at a content block at most :data:`LOOKBACK_BLOCKS` blocks before
one of the request's breakpoints, and writes every breakpoint beyond what it read. The write is
billed per TTL: the tokens up to the last one-hour breakpoint at the one-hour price, the rest up
to the last breakpoint at the five-minute price. Tokens after the last breakpoint are plain input.

So a client that marks only its system prompt pays to cache the system prompt, and the next turn
reads only the system prompt back: crediting the whole prompt would over-predict the read. The
functions here are pure arithmetic on token counts and block positions; the router finds the
breakpoints and the held prefixes in the messages.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

#: How many content blocks before a breakpoint an explicit cache looks back for a prefix it holds.
LOOKBACK_BLOCKS = 20
#: A breakpoint TTL above this is written at the one-hour price.
FIVE_MINUTES = 300


class Breakpoint(NamedTuple):
    """A cache breakpoint of a prompt.

    ``tokens``: the prompt's tokens up to and including the marked block. ``block``: the marked
    block's position among the prompt's content blocks, from 0. ``ttl_seconds``: 0 for the
    endpoint's own TTL.
    """

    tokens: int
    block: int
    ttl_seconds: int = 0


class HeldPoint(NamedTuple):
    """A prefix the endpoint holds that this prompt repeats: its tokens and the block it ends at, in this prompt."""

    tokens: int
    block: int


class Writes(NamedTuple):
    """Tokens a turn writes to the cache, by the price they are billed at."""

    long_ttl: int  # up to the last breakpoint with a TTL above five minutes
    short_ttl: int  # from there to the last breakpoint

    @property
    def total(self) -> int:
        return self.long_ttl + self.short_ttl


def read_tokens(held: Sequence[HeldPoint], breakpoints: Sequence[Breakpoint]) -> int:
    """The longest held prefix that ends at most LOOKBACK_BLOCKS blocks before a breakpoint; 0 when none does."""
    found = [h.tokens for h in held if any(0 <= b.block - h.block <= LOOKBACK_BLOCKS for b in breakpoints)]
    return max(found, default=0)


def written_breakpoints(read: int, breakpoints: Sequence[Breakpoint], min_cacheable: int) -> list[Breakpoint]:
    """The breakpoints a turn writes: those beyond the read prefix that reach the minimum cacheable length."""
    return [b for b in breakpoints if b.tokens > read and b.tokens >= min_cacheable]


def writes(read: int, breakpoints: Sequence[Breakpoint], *, min_cacheable: int, default_ttl: int) -> Writes:
    """What a turn that read ``read`` tokens writes, split by TTL price as the provider bills it.

    With A the read prefix, B the last written one-hour breakpoint (A when there is none) and C the
    last written breakpoint (A when there is none): B - A tokens at the one-hour price and C - B at
    the five-minute price.
    """
    written = written_breakpoints(read, breakpoints, min_cacheable)
    end = max((b.tokens for b in written), default=read)
    long_end = max((b.tokens for b in written if (b.ttl_seconds or default_ttl) > FIVE_MINUTES), default=read)
    long_end = max(long_end, read)
    return Writes(long_ttl=long_end - read, short_ttl=max(end - long_end, 0))


def deepest_held(read: int, breakpoints: Sequence[Breakpoint], min_cacheable: int) -> int:
    """The longest prefix the endpoint holds after the turn: the last written breakpoint, else what it read."""
    return max((b.tokens for b in written_breakpoints(read, breakpoints, min_cacheable)), default=read)


def at_prompt_end(prompt_tokens: int, blocks: int = 1) -> tuple[Breakpoint, ...]:
    """One breakpoint on the prompt's last block: the layout assumed when the router sees no messages."""
    return (Breakpoint(prompt_tokens, max(blocks - 1, 0)),)


def next_turn_breakpoints(breakpoints: Sequence[Breakpoint], prompt_tokens: int, next_tokens: int) -> list[Breakpoint]:
    """The layout of the next turn, for the steady-turn cost (7.5): the same breakpoints, except that one on
    the prompt's last block moves to the next prompt's last block, two blocks on (the reply and a new message),
    as clients that mark the newest message do."""
    return [b._replace(tokens=next_tokens, block=b.block + 2) if b.tokens == prompt_tokens else b for b in breakpoints]
