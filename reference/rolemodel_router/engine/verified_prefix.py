"""What the router verified of a conversation's messages, and how a later request is matched to it.

A client re-sends its whole conversation on every turn, and verifying it (canonical JSON and two
SHA-256 per message, validation, token estimates) costs more per message than the rest of a
decision does in total. A :class:`VerifiedPrefix` keeps what the last verification produced (the
digest chain, the cumulative token counts, the flags validation derived) together with the
messages' exact bytes on the wire. A later request whose messages *begin with* those bytes
carries the same messages, so everything derived from them holds again and only the messages
after them are read. A request that changes a message, by a single byte, repeats only the messages
before it: that message and every later one are read again, so a changed earlier message is
detected exactly as before.

The bytes are the request as it arrived when the transport kept them (the gRPC service does), or
else the conversation serialized here. Either way the messages are found by walking the protobuf
framing, not by assuming a field order: a prefix is a run of complete ``messages`` records (field
3 of ConversationRef) starting at the first one, so equal bytes mean equal leading messages. The
comparison is one ``bytes.startswith`` (a memcmp), or a binary search of them when the request
changed a message; only the framing of the records after the repeated ones is walked.

This module holds data and pure functions; the memo that keeps prefixes between requests lives at
the router's edge (``rolemodel_router.recent_prefixes``).
"""

from __future__ import annotations

from dataclasses import dataclass

from rolemodel.v1 import conversation_pb2
from rolemodel_router.engine.digest_chain import DigestChain

#: The key byte of ConversationRef.messages (field 3, length-delimited); of RouteRequest.conversation
#: and ExecuteRequest.conversation (field 1, length-delimited).
MESSAGES_KEY = 3 << 3 | 2
CONVERSATION_KEY = 1 << 3 | 2
_VARINT, _FIXED64, _LENGTH_DELIMITED, _FIXED32 = 0, 1, 2, 5
_MORE = 0x80  # a varint byte with this bit has another byte after it


@dataclass(frozen=True, slots=True)
class Wire:
    """A ConversationRef's bytes: ``data[start:end]``."""

    data: bytes
    start: int
    end: int

    @classmethod
    def of_conversation(cls, conv: conversation_pb2.ConversationRef) -> Wire:
        data = conv.SerializeToString()
        return cls(data, 0, len(data))

    @classmethod
    def of_request(cls, data: bytes) -> Wire | None:
        """The conversation in a serialized RouteRequest or ExecuteRequest (both have it as field 1)."""
        found = _first_record(data, 0, len(data), CONVERSATION_KEY)
        if found is None:
            return None
        try:
            length, start = _varint(data, found + 1)
        except IndexError:
            return None
        return cls(data, start, start + length) if start + length <= len(data) else None


@dataclass(frozen=True, slots=True)
class MessagesRegion:
    """The bytes of the first ``count`` message records: ``data[start:start + length]``."""

    data: bytes
    start: int
    #: Where each record ends, from ``start``: the first ``j`` records are ``data[start:start + ends[j - 1]]``.
    ends: tuple[int, ...]

    @property
    def count(self) -> int:
        return len(self.ends)

    @property
    def length(self) -> int:
        return self.ends[-1] if self.ends else 0

    def bytes_view(self, records: int) -> memoryview:
        """The bytes of the first ``records`` records."""
        return memoryview(self.data)[self.start : self.start + (self.ends[records - 1] if records else 0)]


@dataclass(frozen=True, slots=True)
class VerifiedPrefix:
    """The messages of one request as verified: their bytes and everything derived from them."""

    conversation_id: str
    region: MessagesRegion
    digests: DigestChain
    #: Tokens through each message, with ``tools_tokens`` counted first (as in RouteInput).
    cumulative_tokens: tuple[int, ...]
    tools_tokens: int
    #: Messages among these that came without a token count.
    estimated_messages: int
    has_images: bool
    #: Whether every one of these messages carried its content.
    all_content: bool
    #: Where each message's first content block is, counting a message without parts as one block.
    block_starts: tuple[int, ...] = ()
    #: The client's cache breakpoints: (message index, part index, TTL seconds), in order.
    cache_marks: tuple[tuple[int, int, int], ...] = ()
    #: The blocks of all these messages: where the next message's first block is.
    blocks: int = 0
    #: Messages without a token count through each message, for a request that repeats only some of these.
    estimated_through: tuple[int, ...] = ()
    #: The first message with an image, and the first without content (None: there is none).
    first_image: int | None = None
    first_without_content: int | None = None

    @property
    def memory_bytes(self) -> int:
        """An estimate of what keeping this prefix costs, for the memo's budget."""
        return len(self.region.data) + self.digests.memory_bytes + 40 * len(self.digests)


def _varint(data: bytes, pos: int) -> tuple[int, int]:
    """The varint at ``pos`` and the position after it; IndexError when the data ends inside it."""
    result = shift = 0
    while True:
        byte = data[pos]
        pos += 1
        result |= (byte & ~_MORE) << shift
        if byte < _MORE:
            return result, pos
        shift += 7


def _skip(data: bytes, pos: int, key: int) -> int:
    """The position after the value of a record with ``key`` whose value starts at ``pos``."""
    wire_type = key & 7
    if wire_type == _VARINT:
        return _varint(data, pos)[1]
    if wire_type == _FIXED64:
        return pos + 8
    if wire_type == _LENGTH_DELIMITED:
        length, pos = _varint(data, pos)
        return pos + length
    if wire_type == _FIXED32:
        return pos + 4
    raise IndexError("a group or an invalid wire type")  # neither occurs in rolemodel.v1


def _first_record(data: bytes, pos: int, end: int, key: int) -> int | None:
    """The offset of the first record with the one-byte ``key`` in ``data[pos:end]``, or None."""
    try:
        while pos < end:
            here = pos
            found, pos = _varint(data, pos)
            if found == key:
                return here
            pos = _skip(data, pos, found)
    except IndexError:
        return None
    return None


def _repeated(data: bytes, start: int, end: int, known: VerifiedPrefix) -> int:
    """How many of ``known``'s leading records ``data`` repeats at ``start``, byte for byte.

    Equal bytes through record j mean equal bytes through every record before it, so the answer is
    found by binary search: a client that changes one message late in the conversation (moving a
    cache breakpoint, say) still has every message before it taken as verified.
    """
    region = known.region
    low, high = 0, region.count
    if start + region.length <= end and data.startswith(region.bytes_view(high), start):
        return high  # the usual case, the next turn of the conversation: one comparison
    high -= 1
    while low < high:
        middle = (low + high + 1) // 2
        if start + region.ends[middle - 1] <= end and data.startswith(region.bytes_view(middle), start):
            low = middle
        else:
            high = middle - 1
    return low


def messages_region(wire: Wire, known: VerifiedPrefix | None, total: int) -> tuple[MessagesRegion | None, int]:
    """The run of message records at the start of the conversation, and how many of them ``known`` covers.

    ``total`` is the number of messages the request parsed to; the run covers fewer only when the
    sender interleaved other fields among them. Only the records after the ones ``known`` covers are
    walked.
    """
    data, end = wire.data, wire.end
    start = _first_record(data, wire.start, end, MESSAGES_KEY)
    if start is None:
        return None, 0
    matched = _repeated(data, start, end, known) if known is not None else 0
    ends = list(known.region.ends[:matched]) if known is not None and matched else []
    pos = start + (ends[-1] if ends else 0)
    try:
        while len(ends) < total and pos < end and data[pos] == MESSAGES_KEY:
            pos = _skip(data, pos + 1, MESSAGES_KEY)
            ends.append(pos - start)
    except IndexError:
        return None, matched
    if pos > end:
        return None, matched
    return MessagesRegion(data, start, tuple(ends)), matched
