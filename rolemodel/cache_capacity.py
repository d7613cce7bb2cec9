"""The normative cache-capacity model (spec 7.7): which conversations a local server still holds.

A llama.cpp server started with ``--parallel N`` keeps one conversation per
slot; a vLLM server keeps as many as fit its KV-cache token budget. Serving a
request on a full server evicts the least recently used conversation, so a
router that only knows TTLs predicts caches that were evicted long ago. This
module keeps an endpoint's *residents* (who holds which slot, how many tokens,
last used when) and admits a request the way the server will, so the router
predicts every eviction, and can price the evictions a choice causes.

Admitting key k with t tokens at time now:

    1. if k is resident, it keeps its slot and leaves the list for now;
    2. while the others fill max_sequences, or their tokens plus t exceed max_tokens,
       evict the least recently used other (ties: lower slot, then key in byte order);
    3. a new k takes the lowest free slot;
    4. k joins as the most recently used, holding t tokens.

The vectors are spec/vectors/capacity.json.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from rolemodel.v1 import catalog_pb2

#: The key an isolated side request of a conversation occupies a slot under; "#" cannot occur in an id.
SIDE_SUFFIX = "#side"


@dataclass(frozen=True)
class Capacity:
    """An endpoint's cache capacity; 0 means no such limit."""

    max_sequences: int = 0
    max_tokens: int = 0

    @property
    def limited(self) -> bool:
        return self.max_sequences > 0 or self.max_tokens > 0


@dataclass(frozen=True)
class Resident:
    """One conversation (or side request) a server's cache holds."""

    key: str
    slot: int
    tokens: int
    last_used_ms: int


@dataclass(frozen=True)
class Admission:
    """The residents after admitting a request, the slot it got, and whom it evicted (in eviction order)."""

    residents: tuple[Resident, ...]
    slot: int
    evicted: tuple[Resident, ...]

    @property
    def evicted_tokens(self) -> int:
        return sum(r.tokens for r in self.evicted)


def capacity_of(caching: catalog_pb2.CachingBehavior) -> Capacity:
    return Capacity(caching.capacity.max_sequences, caching.capacity.max_tokens)


def resident_key(conversation_id: str, *, side_request: bool) -> str:
    """Main turns hold a slot under the conversation id; its isolated side requests under their own key."""
    return conversation_id + SIDE_SUFFIX if side_request else conversation_id


def find(residents: Sequence[Resident], key: str) -> Resident | None:
    for resident in residents:
        if resident.key == key:
            return resident
    return None


def lru_order(resident: Resident) -> tuple[int, int, bytes]:
    """Least recently used first; ties by lower slot, then key in byte order (spec 7.7)."""
    return (resident.last_used_ms, resident.slot, resident.key.encode())


def admit(residents: Sequence[Resident], capacity: Capacity, key: str, tokens: int, now_ms: int) -> Admission:
    """Admit ``key`` holding ``tokens`` at ``now_ms`` as section 7.7 defines; the input is not changed."""
    existing = find(residents, key)
    others = sorted((r for r in residents if r.key != key), key=lru_order)
    evicted: list[Resident] = []

    def full() -> bool:
        if capacity.max_sequences and len(others) >= capacity.max_sequences:
            return True
        return bool(capacity.max_tokens) and sum(r.tokens for r in others) + tokens > capacity.max_tokens

    while others and full():
        evicted.append(others.pop(0))
    if existing is not None:
        slot = existing.slot
    else:
        taken = {r.slot for r in others}
        slot = next(s for s in range(len(others) + 1) if s not in taken)
    admitted = Resident(key=key, slot=slot, tokens=tokens, last_used_ms=now_ms)
    return Admission(residents=(*others, admitted), slot=slot, evicted=tuple(evicted))
