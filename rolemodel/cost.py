"""The normative cost model (spec chapter 7).

Every turn re-sends the whole conversation, and each endpoint may still hold
part of it in its prompt cache. This module prices one turn on one endpoint
given what that endpoint holds, in exact integer picounits, and the amortised
cost over a horizon of turns. Routers use it to decide, for example, whether
the full context on a cold cheap model costs less than the new turn on a warm
expensive model.

Notation (per endpoint e):
    P  prompt tokens            C  cached prefix tokens     U = P - C
    W  tokens written to cache  O  output tokens            H  horizon in turns

    C = 0                                  if no entry, expired, or matched < min_cacheable
      = floor(matched / g) * g             otherwise (g = granularity)
    W = 0   for automatic caching
      = the tokens from C to the last breakpoint that reaches min_cacheable,
            for explicit caching (``rolemodel.explicit_cache``; with no breakpoints
            given, one on the prompt's last block: W = U when P >= min_cacheable)
    cost = C*read + (U - W)*input + W*write + O*output   (write by breakpoint TTL)
    steady = the same formula for the next warm turn: prompt P + O + N,
             cached prefix P (+ O when the cache includes the reply), or for
             explicit caching the longest prefix this turn leaves cached
    amortised = cost + (H - 1) * steady
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import NamedTuple

from rolemodel import explicit_cache
from rolemodel.explicit_cache import Breakpoint
from rolemodel.money import price_to_picos_per_token
from rolemodel.v1 import catalog_pb2, decision_pb2, outcome_pb2

#: Output tokens assumed when the client gives no expectation.
DEFAULT_EXPECTED_OUTPUT_TOKENS = 1024
#: A TTL above this uses the 1-hour cache-write price.
FIVE_MINUTES = 300


@dataclass(frozen=True)
class EndpointEconomics:
    """An endpoint's prices (picounits per token) and caching rules."""

    currency: str
    input: int
    output: int
    cache_read: int
    cache_write: int
    mode: int  # catalog_pb2.CacheMode
    min_cacheable_tokens: int
    granularity_tokens: int
    ttl_seconds: int
    refresh_on_hit: bool
    includes_output: bool
    max_output_tokens: int
    # The write prices of breakpoints with a TTL of at most five minutes and above; None: ``cache_write``.
    cache_write_short: int | None = None
    cache_write_long: int | None = None
    generation_prompt_tokens: int = 0

    @property
    def caches(self) -> bool:
        return self.mode in (catalog_pb2.CACHE_MODE_AUTOMATIC, catalog_pb2.CACHE_MODE_EXPLICIT)

    @property
    def explicit(self) -> bool:
        return self.mode == catalog_pb2.CACHE_MODE_EXPLICIT

    def write_price(self, *, long_ttl: bool) -> int:
        """The write price of a breakpoint above five minutes (``long_ttl``) or not."""
        chosen = self.cache_write_long if long_ttl else self.cache_write_short
        return self.cache_write if chosen is None else chosen


def economics_from_endpoint(endpoint: catalog_pb2.Endpoint) -> EndpointEconomics:
    """Read prices and caching rules from a catalog endpoint.

    An absent cache-read price means reads cost the input price (no
    discount); an absent cache-write price means writes cost the input price.
    The write price follows the TTL: above five minutes the 1-hour price.
    Raises ValueError for a malformed price string.
    """
    pricing = endpoint.pricing
    input_price = price_to_picos_per_token(pricing.input_per_mtok)

    def optional(text: str) -> int:
        return price_to_picos_per_token(text) if text else input_price

    caching = endpoint.caching
    mode = caching.mode or catalog_pb2.CACHE_MODE_NONE
    write_text = (
        pricing.cache_write_1h_per_mtok if caching.ttl_seconds > FIVE_MINUTES else pricing.cache_write_5m_per_mtok
    )
    return EndpointEconomics(
        currency=pricing.currency,
        input=input_price,
        output=price_to_picos_per_token(pricing.output_per_mtok),
        cache_read=optional(pricing.cache_read_per_mtok),
        cache_write=optional(write_text),
        mode=mode,
        min_cacheable_tokens=caching.min_cacheable_tokens,
        granularity_tokens=max(1, caching.granularity_tokens),
        ttl_seconds=caching.ttl_seconds,
        refresh_on_hit=caching.refresh_on_hit,
        includes_output=caching.includes_output,
        max_output_tokens=endpoint.max_output_tokens,
        cache_write_short=optional(pricing.cache_write_5m_per_mtok),
        cache_write_long=optional(pricing.cache_write_1h_per_mtok),
        generation_prompt_tokens=caching.generation_prompt_tokens,
    )


def expected_output_tokens(economics: EndpointEconomics, hinted: int | None) -> int:
    """O: the client's expectation, else min(1024, the endpoint's max output)."""
    if hinted is not None:
        return hinted
    if economics.max_output_tokens:
        return min(DEFAULT_EXPECTED_OUTPUT_TOKENS, economics.max_output_tokens)
    return DEFAULT_EXPECTED_OUTPUT_TOKENS


def matched_prefix_messages(prompt_digests: Sequence[bytes], held_digests: Sequence[bytes]) -> int:
    """How many leading messages of the prompt the held prefix covers.

    Digests are chained, so equality at index j implies equality before it
    and inequality at j implies inequality after it: the answer is found by
    binary search.
    """
    low, high = 0, min(len(prompt_digests), len(held_digests))
    while low < high:
        mid = (low + high + 1) // 2
        if prompt_digests[mid - 1] == held_digests[mid - 1]:
            low = mid
        else:
            high = mid - 1
    return low


def matched_prefix_tokens(
    cumulative_tokens: Sequence[int],
    *,
    matched_messages: int,
    held_messages: int,
    reply_tokens: int,
    includes_output: bool,
    generation_prompt_tokens: int = 0,
) -> int:
    """Tokens of the matched prefix, counted with this prompt's token counts.

    ``cumulative_tokens[i]`` is the prompt's tokens through message i (tool
    definitions included). When the prompt matches the whole held prefix, the
    next message is the reply the endpoint generated: the server holds the
    generation prompt that opened it (``generation_prompt_tokens``) and, when
    its cache includes the reply, the reply's tokens, up to that message's size.
    """
    if matched_messages == 0:
        return 0
    matched = cumulative_tokens[matched_messages - 1]
    if matched_messages == held_messages and matched_messages < len(cumulative_tokens):
        next_message = cumulative_tokens[matched_messages] - matched
        held_after = generation_prompt_tokens + (reply_tokens if includes_output else 0)
        matched += min(next_message, held_after)
    return matched


def cacheable_tokens(economics: EndpointEconomics, matched_tokens: int) -> int:
    """C for a live entry: zero below the minimum, else rounded down to the granularity."""
    if not economics.caches or matched_tokens < economics.min_cacheable_tokens:
        return 0
    g = economics.granularity_tokens
    return (matched_tokens // g) * g


class TurnCost(NamedTuple):
    """One turn on one endpoint, in tokens and picounits.

    A named tuple rather than a dataclass: routers build several per
    candidate on every decision, and tuples are the cheapest immutable
    record Python has.
    """

    prompt_tokens: int
    cached_tokens: int
    cache_write_tokens: int
    output_tokens: int
    cache_read_picos: int
    uncached_input_picos: int
    cache_write_picos: int
    output_picos: int
    total_picos: int  # the sum of the four parts

    @property
    def uncached_tokens(self) -> int:
        return self.prompt_tokens - self.cached_tokens


def _turn(
    prompt_tokens: int,
    cached_tokens: int,
    cache_write_tokens: int,
    output_tokens: int,
    read: int,
    uncached: int,
    write: int,
    output: int,
) -> TurnCost:
    return TurnCost(
        prompt_tokens, cached_tokens, cache_write_tokens, output_tokens, read, uncached, write, output,
        read + uncached + write + output,
    )  # fmt: skip


def turn_cost(
    economics: EndpointEconomics,
    prompt_tokens: int,
    cached_tokens: int,
    output_tokens: int,
    breakpoints: Sequence[Breakpoint] | None = None,
) -> TurnCost:
    """Price a turn whose cached prefix C is already known.

    ``breakpoints`` are the prompt's cache breakpoints, for explicit caching; None means one on the
    prompt's last block. Raises ValueError when C exceeds P or a count is negative.
    """
    if prompt_tokens < 0 or output_tokens < 0 or cached_tokens < 0:
        raise ValueError("token counts are never negative")
    if cached_tokens > prompt_tokens:
        raise ValueError(f"cached tokens {cached_tokens} exceed prompt tokens {prompt_tokens}")
    uncached = prompt_tokens - cached_tokens
    long_ttl = short_ttl = 0
    if economics.explicit:
        layout = explicit_cache.at_prompt_end(prompt_tokens) if breakpoints is None else breakpoints
        written = explicit_cache.writes(
            cached_tokens, layout, min_cacheable=economics.min_cacheable_tokens, default_ttl=economics.ttl_seconds
        )
        long_ttl, short_ttl = written.long_ttl, written.short_ttl
    return _turn(
        prompt_tokens,
        cached_tokens,
        long_ttl + short_ttl,
        output_tokens,
        cached_tokens * economics.cache_read,
        (uncached - long_ttl - short_ttl) * economics.input,
        long_ttl * economics.write_price(long_ttl=True) + short_ttl * economics.write_price(long_ttl=False),
        output_tokens * economics.output,
    )


def steady_turn_cost(
    economics: EndpointEconomics,
    prompt_tokens: int,
    new_tokens: int,
    output_tokens: int,
    breakpoints: Sequence[Breakpoint] | None = None,
    cached_tokens: int = 0,
) -> TurnCost:
    """The next turn on the same endpoint once it is warm.

    Its prompt is this prompt plus the reply (O) plus a new message as large
    as this turn's newest one (N); its cached prefix is this prompt, plus the
    generation prompt that opened the reply, plus the reply when the cache
    includes it. With explicit caching it is the longest prefix this turn
    leaves cached (this turn read ``cached_tokens``), and the next prompt keeps
    this one's breakpoints, a breakpoint on the last block moving to the new
    last block.
    """
    next_prompt = prompt_tokens + output_tokens + new_tokens
    if economics.explicit:
        layout = explicit_cache.at_prompt_end(prompt_tokens) if breakpoints is None else breakpoints
        held = explicit_cache.deepest_held(cached_tokens, layout, economics.min_cacheable_tokens)
        following = explicit_cache.next_turn_breakpoints(layout, prompt_tokens, next_prompt)
        return turn_cost(economics, next_prompt, cacheable_tokens(economics, held), output_tokens, following)
    reply = economics.generation_prompt_tokens + (output_tokens if economics.includes_output else 0)
    held = prompt_tokens + min(reply, output_tokens + new_tokens)
    return turn_cost(economics, next_prompt, cacheable_tokens(economics, held), output_tokens)


class AmortizedCost(NamedTuple):
    turn: TurnCost
    steady: TurnCost
    horizon_turns: int
    amortized_picos: int  # turn + (horizon - 1) * steady


def amortized_cost(
    economics: EndpointEconomics,
    *,
    prompt_tokens: int,
    cached_tokens: int,
    new_tokens: int,
    output_tokens: int,
    horizon_turns: int,
    breakpoints: Sequence[Breakpoint] | None = None,
) -> AmortizedCost:
    """This turn plus (H - 1) steady turns; H below 1 counts as 1. ``breakpoints`` as for :func:`turn_cost`."""
    horizon = max(1, horizon_turns)
    turn = turn_cost(economics, prompt_tokens, cached_tokens, output_tokens, breakpoints)
    steady = steady_turn_cost(economics, prompt_tokens, new_tokens, output_tokens, breakpoints, cached_tokens)
    return AmortizedCost(turn, steady, horizon, turn.total_picos + (horizon - 1) * steady.total_picos)


def expiry_after_turn(
    economics: EndpointEconomics,
    *,
    now_ms: int,
    previous_expires_ms: int,
    stored_prefix: bool,
    cache_hit: bool,
) -> int:
    """When the entry expires after a turn, in Unix milliseconds (0: no entry).

    A turn that stores a prefix starts a new TTL. A turn that only reads
    (a side request) restarts it when the endpoint refreshes on hit, and
    otherwise leaves it alone. An entry is expired when now >= expires_at.
    """
    if not economics.caches:
        return 0
    ttl_ms = economics.ttl_seconds * 1000
    if stored_prefix or (cache_hit and economics.refresh_on_hit):
        return now_ms + ttl_ms
    return previous_expires_ms


def cost_of_usage(economics: EndpointEconomics, usage: outcome_pb2.Usage) -> TurnCost:
    """The cost of a served call from the provider's reported usage.

    ``input_tokens`` counts every prompt token; reads and writes are part of
    it. Writes the provider reports with a long TTL (``cache_write_long_ttl_tokens``)
    cost the 1-hour price and the others the 5-minute one; without that split every
    write costs the endpoint's TTL price. Raises ValueError when reads plus writes
    exceed the input, or long-TTL writes exceed the writes.
    """
    if usage.cache_read_tokens + usage.cache_write_tokens > usage.input_tokens:
        raise ValueError("cache read plus write tokens exceed input tokens")
    if usage.cache_write_long_ttl_tokens > usage.cache_write_tokens:
        raise ValueError("long-TTL cache write tokens exceed cache write tokens")
    uncached_plain = usage.input_tokens - usage.cache_read_tokens - usage.cache_write_tokens
    long_ttl = usage.cache_write_long_ttl_tokens
    if long_ttl:
        short_ttl = usage.cache_write_tokens - long_ttl
        write = long_ttl * economics.write_price(long_ttl=True) + short_ttl * economics.write_price(long_ttl=False)
    else:
        write = usage.cache_write_tokens * economics.cache_write
    return _turn(
        usage.input_tokens,
        usage.cache_read_tokens,
        usage.cache_write_tokens,
        usage.output_tokens,
        usage.cache_read_tokens * economics.cache_read,
        uncached_plain * economics.input,
        write,
        usage.output_tokens * economics.output,
    )


def cost_estimate_fields(cost: TurnCost, currency: str, amortized: AmortizedCost | None = None) -> dict[str, int | str]:
    """The fields of the wire form, for building a CostEstimate in place inside a larger message."""
    return {
        "currency": currency,
        "prompt_tokens": cost.prompt_tokens,
        "cached_tokens": cost.cached_tokens,
        "uncached_tokens": cost.prompt_tokens - cost.cached_tokens,
        "cache_write_tokens": cost.cache_write_tokens,
        "output_tokens": cost.output_tokens,
        "cache_read_picos": cost.cache_read_picos,
        "uncached_input_picos": cost.uncached_input_picos,
        "cache_write_picos": cost.cache_write_picos,
        "output_picos": cost.output_picos,
        "total_picos": cost.total_picos,
        "horizon_turns": amortized.horizon_turns if amortized is not None else 1,
        "steady_turn_picos": amortized.steady.total_picos if amortized is not None else 0,
        "amortized_picos": amortized.amortized_picos if amortized is not None else cost.total_picos,
    }


def to_proto(cost: TurnCost, currency: str, amortized: AmortizedCost | None = None) -> decision_pb2.CostEstimate:
    """The wire form of a turn cost, with the amortisation when given."""
    return decision_pb2.CostEstimate(**cost_estimate_fields(cost, currency, amortized))  # type: ignore[arg-type]
