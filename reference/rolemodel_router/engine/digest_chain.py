"""A conversation's digest chain as the router keeps it: 32 bytes a message, shared between turns.

The router keeps the prompt's digests in every cache entry (spec 7.3: the held prefix) and in every
decision it must be able to report on (24 hours at least, RM-ROUTE-009). Kept as a tuple of
``bytes``, a digest costs about 80 bytes (a 65-byte object, rounded up, and its pointer), and each
turn of a conversation kept a tuple of its own: a conversation of n messages decided T times held
T tuples of up to n pointers, so memory grew with the square of an agent session's length.

A :class:`DigestChain` packs the digests into chunks of :data:`CHUNK_DIGESTS` (2 KiB each), and a
chain that extends another, or is a prefix of it, shares the other's full chunks. The next turn of
a conversation therefore costs the digests it adds plus at most one chunk, and a 4,096-message
prompt costs 32 bytes a message once, however many decisions and entries name it. Chains are
immutable; equality is by content, so a chain equals the tuple of the same digests.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from typing import overload

DIGEST_BYTES = 32
CHUNK_DIGESTS = 64
_CHUNK_BYTES = DIGEST_BYTES * CHUNK_DIGESTS
_SHIFT = 6  # CHUNK_DIGESTS == 1 << _SHIFT
_LOW = CHUNK_DIGESTS - 1


class DigestChain(Sequence[bytes]):
    """An immutable sequence of 32-byte digests packed in chunks that chains share."""

    __slots__ = ("_chunks", "_length")

    def __init__(self, chunks: tuple[bytes, ...] = (), length: int = 0) -> None:
        """Private: use :meth:`of`, :meth:`from_packed`, :meth:`extended` or a prefix slice."""
        self._chunks = chunks
        self._length = length

    @classmethod
    def of(cls, digests: Iterable[bytes]) -> DigestChain:
        """The chain of ``digests`` (each 32 bytes; a chain is returned as it is)."""
        if isinstance(digests, DigestChain):
            return digests
        return EMPTY_CHAIN.extended(digests if isinstance(digests, Sequence) else tuple(digests))

    @classmethod
    def from_packed(cls, raw: bytes) -> DigestChain:
        """The chain whose digests, concatenated, are ``raw`` (a length not a multiple of 32 is an error)."""
        if len(raw) % DIGEST_BYTES:
            raise ValueError(f"a packed digest chain is a multiple of {DIGEST_BYTES} bytes, not {len(raw)}")
        chunks = tuple(raw[i : i + _CHUNK_BYTES] for i in range(0, len(raw), _CHUNK_BYTES))
        return cls(chunks, len(raw) // DIGEST_BYTES)

    def packed(self) -> bytes:
        """The digests concatenated, for a store's row."""
        joined = b"".join(self._chunks)
        end = self._length * DIGEST_BYTES
        return joined if len(joined) == end else joined[:end]

    def extended(self, digests: Sequence[bytes]) -> DigestChain:
        """This chain followed by ``digests``: its full chunks are shared, the last one is copied."""
        if not digests:
            return self
        full = self._length >> _SHIFT
        tail = self._length & _LOW
        head = self._chunks[:full]
        start = self._chunks[full][: tail * DIGEST_BYTES] if tail else b""
        rest = start + b"".join(digests)
        if len(rest) != (tail + len(digests)) * DIGEST_BYTES:
            raise ValueError(f"every digest of a chain is {DIGEST_BYTES} bytes")
        chunks = head + tuple(rest[i : i + _CHUNK_BYTES] for i in range(0, len(rest), _CHUNK_BYTES))
        return DigestChain(chunks, self._length + len(digests))

    def prefix(self, count: int) -> DigestChain:
        """The first ``count`` digests, sharing this chain's chunks (nothing is copied)."""
        count = max(0, min(count, self._length))
        if count == self._length:
            return self
        return DigestChain(self._chunks[: (count + _LOW) >> _SHIFT], count)

    @property
    def memory_bytes(self) -> int:
        """The bytes of its chunks (shared chunks counted in every chain that holds them)."""
        return len(self._chunks) * (_CHUNK_BYTES + 40) + 64

    def __len__(self) -> int:
        return self._length

    @overload
    def __getitem__(self, index: int) -> bytes: ...

    @overload
    def __getitem__(self, index: slice) -> DigestChain: ...

    def __getitem__(self, index: int | slice) -> bytes | DigestChain:
        if isinstance(index, slice):
            start, stop, step = index.indices(self._length)
            if start == 0 and step == 1:
                return self.prefix(stop)
            return DigestChain.of([self[i] for i in range(start, stop, step)])
        if index < 0:
            index += self._length
        if not 0 <= index < self._length:
            raise IndexError("digest chain index out of range")
        offset = (index & _LOW) * DIGEST_BYTES
        return self._chunks[index >> _SHIFT][offset : offset + DIGEST_BYTES]

    def __iter__(self) -> Iterator[bytes]:
        for i in range(self._length):
            yield self[i]

    def __eq__(self, other: object) -> bool:
        if isinstance(other, DigestChain):
            return self._length == other._length and self.packed() == other.packed()
        if isinstance(other, tuple | list):
            return self._length == len(other) and all(a == b for a, b in zip(self, other, strict=True))
        return NotImplemented

    def __hash__(self) -> int:
        return hash(self.packed())

    def __repr__(self) -> str:
        last = self[-1].hex()[:12] if self._length else ""
        return f"DigestChain({self._length} digests{', last ' + last if last else ''})"


EMPTY_CHAIN = DigestChain()
