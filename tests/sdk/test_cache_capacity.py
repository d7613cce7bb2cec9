"""The cache-capacity model (spec 7.7): admissions never exceed the capacity and evict least recently used first."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from rolemodel.cache_capacity import Capacity, Resident, admit, find, resident_key

KEYS = st.sampled_from(["a", "b", "c", "d", "e", "a#side"])
EVENTS = st.lists(st.tuples(KEYS, st.integers(min_value=1, max_value=5_000)), min_size=1, max_size=40)
CAPACITIES = st.one_of(
    st.builds(Capacity, st.integers(min_value=1, max_value=4), st.sampled_from([0, 3_000, 8_000, 20_000])),
    st.builds(Capacity, st.just(0), st.sampled_from([3_000, 8_000, 20_000])),
)


@given(CAPACITIES, EVENTS)
def test_admissions_stay_within_capacity_and_evict_the_least_recently_used(
    capacity: Capacity, events: list[tuple[str, int]]
) -> None:
    residents: tuple[Resident, ...] = ()
    for now, (key, tokens) in enumerate(events):
        before = {r.key: r for r in residents}
        admission = admit(residents, capacity, key, tokens, now)
        residents = admission.residents
        assert residents[-1] == Resident(key, admission.slot, tokens, now)
        assert len({r.slot for r in residents}) == len(residents)
        if capacity.max_sequences:
            assert len(residents) <= capacity.max_sequences
            assert all(0 <= r.slot < capacity.max_sequences for r in residents)
        if capacity.max_tokens and len(residents) > 1:
            assert sum(r.tokens for r in residents) <= capacity.max_tokens
        if key in before:
            assert admission.slot == before[key].slot
        survivors = [r for r in residents[:-1]]
        for gone in admission.evicted:
            assert gone.key != key
            assert all(gone.last_used_ms <= kept.last_used_ms for kept in survivors)
        assert [r.last_used_ms for r in residents] == sorted(r.last_used_ms for r in residents)


def test_a_side_request_holds_a_key_of_its_own() -> None:
    assert resident_key("conv-1", side_request=False) == "conv-1"
    assert resident_key("conv-1", side_request=True) == "conv-1#side"
    admission = admit((), Capacity(max_sequences=2), "conv-1#side", 10, 0)
    assert find(admission.residents, "conv-1") is None


def test_a_conversation_larger_than_the_budget_evicts_everyone_and_is_still_admitted() -> None:
    first = admit((), Capacity(max_tokens=1_000), "a", 600, 0)
    second = admit(first.residents, Capacity(max_tokens=1_000), "b", 5_000, 1)
    assert [r.key for r in second.evicted] == ["a"]
    assert [r.key for r in second.residents] == ["b"]
    assert second.evicted_tokens == 600
