"""Caps on what clients can make a router hold, per principal and in total (spec 12.6).

Every conversation a client names and every decision it obtains costs the router memory until
it expires (24 hours idle, 48 hours of retention), so without caps one token could grow the router
by gigabytes an hour. A :class:`CappedKeys` tracks one kind of state: its keys in order (least
recently used first for conversations, oldest first for decisions), each with its principal and
its weight (the bytes of digests it holds), against four caps: items and digest bytes, per
principal and in total. The store asks it, inside a transaction, which keys must go to make room;
whether a key may go is the store's rule (a conversation may; a decision younger than 24 hours
may not, RM-ROUTE-009, and the call is refused instead).

A principal here is the namespace of a store key (``tenancy.namespace``): with authentication off
every key is the anonymous principal's and only the totals apply.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Iterator, MutableMapping
from dataclasses import dataclass
from typing import TypeVar

from rolemodel_router.engine.digest_chain import DIGEST_BYTES
from rolemodel_router.state.model import ConversationState, DecisionRecord

V = TypeVar("V")


@dataclass(frozen=True)
class Caps:
    """The four caps of one kind of state; a per-principal cap above the total means the total."""

    items: int
    items_per_principal: int
    digest_bytes: int
    digest_bytes_per_principal: int


@dataclass
class Usage:
    """One principal's (or the router's) items and digest bytes."""

    items: int = 0
    digest_bytes: int = 0


@dataclass
class CapCounters:
    """What a kind of state did to stay within its caps, for the metrics."""

    evictions: int = 0
    refusals: int = 0


def principal_of(key: str) -> str:
    """The namespace a store key begins with (``<length>:<name>/``), or "" for the anonymous principal."""
    length, colon, rest = key.partition(":")
    if not colon or not length.isdigit():
        return ""
    size = int(length)
    if len(rest) <= size or rest[size] != "/":
        return ""
    return key[: len(length) + 2 + size]


class CappedKeys:
    """Keys of one kind of state, in order, with their principal's and the router's usage."""

    def __init__(self, caps: Caps, *, tenants: bool) -> None:
        self.caps = caps
        self.tenants = tenants
        self.counters = CapCounters()
        self.total = Usage()
        self._usage: dict[str, Usage] = {}
        #: Per principal: key -> (weight, order stamp), oldest first.
        self._keys: dict[str, OrderedDict[str, tuple[int, int]]] = {}
        self._stamp = 0

    def owner(self, key: str) -> str:
        """The principal a store key names (conversations, idempotency keys): "" without tenants."""
        return principal_of(key) if self.tenants else ""

    def __len__(self) -> int:
        return self.total.items

    def usage(self, principal: str) -> Usage:
        return self._usage.get(principal, Usage())

    def touch(self, key: str, weight: int, principal: str) -> None:
        """Add ``key`` of ``principal`` (or update its weight) as the most recent."""
        keys = self._keys.setdefault(principal, OrderedDict())
        usage = self._usage.setdefault(principal, Usage())
        old = keys.pop(key, None)
        if old is not None:
            usage.digest_bytes -= old[0]
            self.total.digest_bytes -= old[0]
        else:
            usage.items += 1
            self.total.items += 1
        self._stamp += 1
        keys[key] = (weight, self._stamp)
        usage.digest_bytes += weight
        self.total.digest_bytes += weight

    def discard(self, key: str, principal: str) -> None:
        keys = self._keys.get(principal)
        old = keys.pop(key, None) if keys is not None else None
        if old is None:
            return
        usage = self._usage[principal]
        usage.items -= 1
        usage.digest_bytes -= old[0]
        self.total.items -= 1
        self.total.digest_bytes -= old[0]
        if not keys:
            del self._keys[principal]
            del self._usage[principal]

    def oldest(self, principal: str | None, skip: set[str]) -> tuple[str, str, int] | None:
        """The oldest key of ``principal`` (None: of the router) not in ``skip``: (key, its principal, weight)."""
        best: tuple[int, str, str, int] | None = None
        for owner, keys in self._keys.items():
            if principal is not None and owner != principal:
                continue
            for key, (weight, stamp) in keys.items():
                if key in skip:
                    continue
                if best is None or stamp < best[0]:
                    best = (stamp, key, owner, weight)
                break
        return best[1:] if best is not None else None


def victims(
    capped: CappedKeys,
    principal: str,
    may_drop: Callable[[str], bool],
    *,
    extra_items: int = 0,
    extra_bytes: int = 0,
    keep: str = "",
) -> tuple[list[str], str]:
    """The keys to drop, oldest first, so that ``extra`` more fits; and the cap still exceeded ("" when none).

    ``keep`` is never dropped (the conversation being written). Stops at the first key ``may_drop``
    refuses: what is older is kept, so the caller refuses the call. Nothing is dropped here; the
    caller drops the keys within its transaction.
    """
    caps = capped.caps
    own = capped.usage(principal)
    total_items, total_bytes = capped.total.items + extra_items, capped.total.digest_bytes + extra_bytes
    own_items, own_bytes = own.items + extra_items, own.digest_bytes + extra_bytes
    dropped: list[str] = []
    skip = {keep}
    while True:
        if total_items > caps.items or total_bytes > caps.digest_bytes:
            scope, cap = None, "total"
        elif capped.tenants and (own_items > caps.items_per_principal or own_bytes > caps.digest_bytes_per_principal):
            scope, cap = principal, "principal"
        else:
            return dropped, ""
        found = capped.oldest(scope, skip)
        if found is None or not may_drop(found[0]):
            return dropped, cap
        key, owner, weight = found
        dropped.append(key)
        skip.add(key)
        total_items, total_bytes = total_items - 1, total_bytes - weight
        if owner == principal:
            own_items, own_bytes = own_items - 1, own_bytes - weight


def conversation_weight(conversation: ConversationState) -> int:
    """The digest bytes a conversation's cache entries hold, each entry counted whole (an upper bound)."""
    return sum(len(entry.digests) for entry in conversation.cache.values()) * DIGEST_BYTES


def decision_weight(record: DecisionRecord) -> int:
    """The digest bytes a decision holds: its prompt's chain and the entry it would restore (an upper bound)."""
    restore = len(record.previous_entry.digests) if record.previous_entry is not None else 0
    return (len(record.prompt_digests) + restore) * DIGEST_BYTES


class CappedTable(MutableMapping[str, V]):
    """A table of state whose every write and delete is counted against its caps."""

    def __init__(self, capped: CappedKeys, weigh: Callable[[V], int], owner: Callable[[str, V], str]) -> None:
        self.capped = capped
        self._weigh = weigh
        self._owner = owner
        self._data: dict[str, V] = {}

    def __getitem__(self, key: str) -> V:
        return self._data[key]

    def __contains__(self, key: object) -> bool:
        return key in self._data

    def __setitem__(self, key: str, value: V) -> None:
        old = self._data.get(key)
        if old is not None:
            owner = self._owner(key, old)
            if owner != self._owner(key, value):
                self.capped.discard(key, owner)
        self._data[key] = value
        self.capped.touch(key, self._weigh(value), self._owner(key, value))

    def __delitem__(self, key: str) -> None:
        value = self._data.pop(key)
        self.capped.discard(key, self._owner(key, value))

    def __iter__(self) -> Iterator[str]:
        return iter(self._data)

    def __len__(self) -> int:
        return len(self._data)
