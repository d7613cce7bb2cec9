"""Properties of the cost model that must hold for every endpoint and prompt."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from rolemodel import cost
from rolemodel.v1 import catalog_pb2, outcome_pb2

prices = st.integers(min_value=0, max_value=100_000_000)  # picounits per token, up to $100 per Mtok
modes = st.sampled_from(
    [catalog_pb2.CACHE_MODE_AUTOMATIC, catalog_pb2.CACHE_MODE_EXPLICIT, catalog_pb2.CACHE_MODE_NONE]
)
tokens = st.integers(min_value=0, max_value=2_000_000)


@st.composite
def economics(draw: st.DrawFn) -> cost.EndpointEconomics:
    """Endpoints as real providers price them: reads never cost more than input, writes never less."""
    input_price = draw(prices)
    read = draw(st.integers(min_value=0, max_value=input_price))
    write = draw(st.integers(min_value=input_price, max_value=max(input_price * 3, 1)))
    return cost.EndpointEconomics(
        currency="USD",
        input=input_price,
        output=draw(prices),
        cache_read=read,
        cache_write=write,
        mode=draw(modes),
        min_cacheable_tokens=draw(st.integers(min_value=0, max_value=5000)),
        granularity_tokens=draw(st.integers(min_value=1, max_value=512)),
        ttl_seconds=draw(st.integers(min_value=0, max_value=86400)),
        refresh_on_hit=draw(st.booleans()),
        includes_output=draw(st.booleans()),
        max_output_tokens=draw(st.integers(min_value=0, max_value=200_000)),
    )


@given(economics(), tokens, tokens, tokens, st.integers(min_value=0, max_value=1000))
def test_cost_is_monotone_in_prompt_and_output_tokens(
    econ: cost.EndpointEconomics, prompt: int, matched: int, output: int, extra: int
) -> None:
    cached = cost.cacheable_tokens(econ, min(matched, prompt))
    base = cost.turn_cost(econ, prompt, cached, output).total_picos
    assert cost.turn_cost(econ, prompt + extra, cached, output).total_picos >= base
    assert cost.turn_cost(econ, prompt, cached, output + extra).total_picos >= base


@given(economics(), tokens, tokens, tokens)
def test_a_warm_cache_never_costs_more_than_a_cold_one(
    econ: cost.EndpointEconomics, prompt: int, matched: int, output: int
) -> None:
    cached = cost.cacheable_tokens(econ, min(matched, prompt))
    warm = cost.turn_cost(econ, prompt, cached, output).total_picos
    cold = cost.turn_cost(econ, prompt, 0, output).total_picos
    assert warm <= cold


@given(economics(), tokens, tokens, tokens)
def test_more_cached_tokens_never_cost_more(econ: cost.EndpointEconomics, prompt: int, a: int, b: int) -> None:
    low, high = sorted((min(a, prompt), min(b, prompt)))
    c_low, c_high = cost.cacheable_tokens(econ, low), cost.cacheable_tokens(econ, high)
    assert c_low <= c_high
    assert cost.turn_cost(econ, prompt, c_high, 0).total_picos <= cost.turn_cost(econ, prompt, c_low, 0).total_picos


@given(economics(), tokens, tokens, tokens)
def test_total_is_the_sum_of_its_parts_and_tokens_add_up(
    econ: cost.EndpointEconomics, prompt: int, matched: int, output: int
) -> None:
    cached = cost.cacheable_tokens(econ, min(matched, prompt))
    turn = cost.turn_cost(econ, prompt, cached, output)
    assert (
        turn.total_picos
        == turn.cache_read_picos + turn.uncached_input_picos + turn.cache_write_picos + turn.output_picos
    )
    assert turn.cached_tokens + turn.uncached_tokens == prompt
    assert 0 <= turn.cache_write_tokens <= turn.uncached_tokens


@given(economics(), tokens)
def test_cached_tokens_respect_minimum_and_granularity(econ: cost.EndpointEconomics, matched: int) -> None:
    cached = cost.cacheable_tokens(econ, matched)
    assert cached <= matched
    assert cached % econ.granularity_tokens == 0
    if cached:
        assert matched >= econ.min_cacheable_tokens and econ.caches


@given(economics(), tokens, tokens, tokens, st.integers(min_value=1, max_value=50))
def test_amortised_cost_grows_with_the_horizon(
    econ: cost.EndpointEconomics, prompt: int, new: int, output: int, horizon: int
) -> None:
    short = cost.amortized_cost(
        econ, prompt_tokens=prompt, cached_tokens=0, new_tokens=new, output_tokens=output, horizon_turns=horizon
    )
    long = cost.amortized_cost(
        econ, prompt_tokens=prompt, cached_tokens=0, new_tokens=new, output_tokens=output, horizon_turns=horizon + 1
    )
    assert long.amortized_picos >= short.amortized_picos >= short.turn.total_picos


@given(
    st.lists(st.binary(min_size=32, max_size=32), max_size=40),
    st.integers(min_value=0, max_value=40),
    st.binary(min_size=32, max_size=32),
)
def test_binary_search_prefix_match_equals_a_linear_scan(digests: list[bytes], cut: int, other: bytes) -> None:
    held = digests[: min(cut, len(digests))]
    prompt = list(digests)
    if cut < len(prompt):
        prompt[cut] = other  # diverge after the held prefix, as a chain would
    linear = 0
    for a, b in zip(prompt, held, strict=False):
        if a != b:
            break
        linear += 1
    assert cost.matched_prefix_messages(prompt, held) == linear


@given(
    economics(),
    st.integers(min_value=0, max_value=10**9),
    st.integers(min_value=0, max_value=10**9),
    st.booleans(),
    st.booleans(),
)
def test_expiry_never_moves_backwards_for_a_stored_prefix(
    econ: cost.EndpointEconomics, now: int, previous: int, stored: bool, hit: bool
) -> None:
    expires = cost.expiry_after_turn(
        econ, now_ms=now, previous_expires_ms=previous, stored_prefix=stored, cache_hit=hit
    )
    if not econ.caches:
        assert expires == 0
    elif stored or (hit and econ.refresh_on_hit):
        assert expires == now + econ.ttl_seconds * 1000
    else:
        assert expires == previous


def test_reported_writes_are_priced_by_their_ttl() -> None:
    """Anthropic-like prices: input 3, 5-minute writes 3.75, 1-hour writes 6 per million tokens."""
    endpoint = catalog_pb2.Endpoint(
        pricing=catalog_pb2.EndpointPricing(
            currency="USD", input_per_mtok="3", output_per_mtok="15",
            cache_write_5m_per_mtok="3.75", cache_write_1h_per_mtok="6",
        ),
        caching=catalog_pb2.CachingBehavior(mode=catalog_pb2.CACHE_MODE_EXPLICIT, ttl_seconds=300),
    )  # fmt: skip
    econ = cost.economics_from_endpoint(endpoint)
    split = outcome_pb2.Usage(input_tokens=3000, cache_write_tokens=3000, cache_write_long_ttl_tokens=1000)
    assert cost.cost_of_usage(econ, split).cache_write_picos == 1000 * 6_000_000 + 2000 * 3_750_000
    unsplit = outcome_pb2.Usage(input_tokens=3000, cache_write_tokens=3000)
    assert cost.cost_of_usage(econ, unsplit).cache_write_picos == 3000 * 3_750_000
