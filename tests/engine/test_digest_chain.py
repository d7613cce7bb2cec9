"""Packed digest chains: the same digests as a tuple, with full chunks shared between turns."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rolemodel.cost import matched_prefix_messages
from rolemodel_router.engine.digest_chain import CHUNK_DIGESTS, DigestChain

digest = st.binary(min_size=32, max_size=32)


@settings(deadline=None, max_examples=60)  # the machine is shared: no per-example deadline
@given(st.lists(digest, max_size=200), st.lists(digest, max_size=100), st.integers(0, 300))
def test_a_chain_reads_as_the_tuple_of_its_digests(first: list[bytes], more: list[bytes], cut: int) -> None:
    chain = DigestChain.of(first)
    longer = chain.extended(more)
    whole = tuple(first + more)
    assert longer == whole and len(longer) == len(whole) and tuple(longer) == whole
    assert longer.prefix(cut) == whole[:cut] and longer[:cut] == whole[:cut]
    assert longer.prefix(cut).extended(more) == whole[:cut] + tuple(more)
    assert DigestChain.from_packed(longer.packed()) == longer
    if whole:
        assert longer[-1] == whole[-1] and longer[len(whole) // 2] == whole[len(whole) // 2]
    assert matched_prefix_messages(longer, chain) == len(first)


def test_the_next_turn_shares_every_full_chunk_of_the_previous_one() -> None:
    first = DigestChain.of([bytes([i % 256]) * 32 for i in range(4096)])
    nxt = first.extended([b"n" * 32, b"m" * 32])
    shared = sum(1 for a, b in zip(first._chunks, nxt._chunks, strict=False) if a is b)
    assert shared == 4096 // CHUNK_DIGESTS
    assert len(first.packed()) == 4096 * 32


def test_a_chain_refuses_digests_of_another_size() -> None:
    with pytest.raises(ValueError, match="32 bytes"):
        DigestChain.of([b"short"])
    with pytest.raises(ValueError, match="multiple of 32"):
        DigestChain.from_packed(b"x" * 33)
