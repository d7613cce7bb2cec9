"""Read a request's conversation once: validate each message, chain its digest, count its tokens (spec 4 and 5.2).

Each message is visited once, and the three jobs happen in that one visit. With a
:class:`~rolemodel_router.engine.verified_prefix.VerifiedPrefix` from an earlier request of the
same conversation, the messages this request repeats byte for byte (all of them, or those before
the first it changed) are not visited at all: their digests, token counts and flags are taken
from the prefix, and only the messages after them are read. The result is the same as reading
everything; only the work differs.

Violations are collected, never raised here: the caller adds its own and raises them together. A
digest that does not match its message is raised by the caller after the violations, as
:class:`ConversationReading.raise_mismatch`, so a request with both gets REQUEST_INVALID as before.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import overload

from rolemodel.digest import DIGEST_SIZE, ZERO_DIGEST, chain
from rolemodel.error_reasons import ErrorReason
from rolemodel.status import FieldViolation
from rolemodel.tokens import estimate_message_tokens, estimate_tools_tokens
from rolemodel.v1 import conversation_pb2
from rolemodel_router.engine.digest_chain import EMPTY_CHAIN, DigestChain
from rolemodel_router.engine.errors import RouterError, Violations
from rolemodel_router.engine.limits import MAX_COUNT_TOKENS, Limits
from rolemodel_router.engine.message_checks import CONVERSATION_ID, check_message, check_string
from rolemodel_router.engine.verified_prefix import VerifiedPrefix, Wire, messages_region

C = conversation_pb2


class MessageView(Sequence[C.Message]):
    """The request's messages, read only where the router looks (the newest turn, a handoff).

    Building a tuple of every message would visit all of them on every request; a view costs
    nothing until it is indexed or iterated.
    """

    __slots__ = ("_refs",)

    def __init__(self, refs: Sequence[C.MessageRef]) -> None:
        self._refs = refs

    def __len__(self) -> int:
        return len(self._refs)

    @overload
    def __getitem__(self, index: int) -> C.Message: ...

    @overload
    def __getitem__(self, index: slice) -> tuple[C.Message, ...]: ...

    def __getitem__(self, index: int | slice) -> C.Message | tuple[C.Message, ...]:
        if isinstance(index, slice):
            return tuple(ref.message for ref in self._refs[index])
        return self._refs[index].message

    def __iter__(self) -> Iterator[C.Message]:
        return (ref.message for ref in self._refs)


@dataclass(frozen=True, slots=True)
class ConversationReading:
    """What reading the conversation produced; meaningful only when it raised no violation."""

    digests: DigestChain
    cumulative_tokens: tuple[int, ...]  # through each message, tools included
    tools_tokens: int
    estimated_messages: int  # the tools count as one when estimated
    has_images: bool
    all_content: bool
    block_starts: tuple[int, ...]  # each message's first content block (spec 7.2.1)
    cache_marks: tuple[tuple[int, int, int], ...]  # the client's breakpoints: message, part, TTL
    messages: Sequence[C.Message]  # empty unless every message carries content
    #: The first message whose digest does not match it, or None.
    mismatch: int | None
    #: Messages without content, listed only when the caller requires content.
    without_content: tuple[int, ...]
    #: This request's messages as verified, for the next request of the conversation to build on.
    verified: VerifiedPrefix | None

    def raise_mismatch(self) -> None:
        if self.mismatch is None:
            return
        i = self.mismatch
        raise RouterError(
            ErrorReason.DIGEST_MISMATCH,
            f"message {i}: the digest does not match the message and the digest before it",
            {"message_index": str(i)},
            [FieldViolation(f"conversation.messages[{i}].digest", "does not match the chained digest")],
        )


EMPTY_READING = ConversationReading(EMPTY_CHAIN, (), 0, 0, False, False, (), (), (), None, (), None)


def _check_ref(
    v: Violations, i: int, ref: C.MessageRef, message: C.Message | None, has_count: bool, limits: Limits
) -> bool:
    """Violations of one message reference; returns whether its content holds an image.

    ``message`` (None when the reference came without content) and ``has_count`` are read once per
    message by the caller, which needs them again to chain and count it.
    """
    digest = ref.digest
    if digest and len(digest) != DIGEST_SIZE:
        v.add(f"conversation.messages[{i}].digest", f"a digest has {DIGEST_SIZE} bytes, got {len(digest)}")
    if message is None:
        if not digest:
            v.add(f"conversation.messages[{i}]", "needs a digest or the message content")
        if not has_count:
            v.add(f"conversation.messages[{i}].token_count", "needs a token count or the message content")
    if has_count and ref.token_count > MAX_COUNT_TOKENS:
        v.add(f"conversation.messages[{i}].token_count", f"above {MAX_COUNT_TOKENS}")
    return message is not None and check_message(v, f"conversation.messages[{i}].message", message, limits)


def _check_tools(v: Violations, conv: C.ConversationRef, limits: Limits) -> None:
    for i, tool in enumerate(conv.tools):
        check_string(v, f"conversation.tools[{i}].name", tool.name, limits.max_string_bytes)
        check_string(v, f"conversation.tools[{i}].description", tool.description, limits.max_text_bytes)
        check_string(
            v, f"conversation.tools[{i}].parameters_json_schema", tool.parameters_json_schema, limits.max_text_bytes
        )
    if conv.HasField("tools_token_count") and conv.tools_token_count > MAX_COUNT_TOKENS:
        v.add("conversation.tools_token_count", f"above {MAX_COUNT_TOKENS}")


def _tools_tokens(conv: C.ConversationRef) -> tuple[int, int]:
    """The tools' tokens, and 1 when they were estimated."""
    if conv.HasField("tools_token_count"):
        return conv.tools_token_count, 0
    return estimate_tools_tokens(conv.tools), 1 if conv.tools else 0


@dataclass(slots=True)
class _Ledger:
    """The running digest chain and token count, started empty or after a verified prefix.

    The prefix's tuples are kept as they are and joined with the new entries once, at the end.
    """

    known_digests: DigestChain
    known_cumulative: tuple[int, ...]
    previous: bytes
    running: int
    estimated: int
    has_images: bool
    all_content: bool
    known_starts: tuple[int, ...] = ()
    known_marks: tuple[tuple[int, int, int], ...] = ()
    blocks: int = 0  # where the next message's first block is
    digests: list[bytes] = field(default_factory=list)
    cumulative: list[int] = field(default_factory=list)
    starts: list[int] = field(default_factory=list)
    marks: list[tuple[int, int, int]] = field(default_factory=list)
    known_estimated: tuple[int, ...] = ()
    estimated_through: list[int] = field(default_factory=list)
    first_image: int | None = None
    first_without_content: int | None = None
    mismatch: int | None = None

    @classmethod
    def starting(cls, known: VerifiedPrefix | None, repeated: int, tools_tokens: int) -> _Ledger:
        """After the first ``repeated`` messages of ``known`` (all of them, or those a request repeats)."""
        if known is None or not repeated:
            return cls(EMPTY_CHAIN, (), ZERO_DIGEST, tools_tokens, 0, False, True)
        shift = tools_tokens - known.tools_tokens  # the tools changed, the messages did not
        cumulative = known.cumulative_tokens
        if repeated < len(known.digests):
            cumulative = cumulative[:repeated]
        if shift:
            cumulative = tuple(c + shift for c in cumulative)
        image, absent = known.first_image, known.first_without_content
        image = image if image is not None and image < repeated else None
        absent = absent if absent is not None and absent < repeated else None
        whole = repeated == len(known.digests)
        return cls(
            known.digests if whole else known.digests.prefix(repeated),
            cumulative,
            known.digests[repeated - 1],
            cumulative[-1],
            known.estimated_through[repeated - 1],
            image is not None,
            absent is None,
            known.block_starts if whole else known.block_starts[:repeated],
            known.cache_marks if whole else tuple(m for m in known.cache_marks if m[0] < repeated),
            known.blocks if whole else known.block_starts[repeated],
            known_estimated=known.estimated_through if whole else known.estimated_through[:repeated],
            first_image=image,
            first_without_content=absent,
        )

    def note(self, i: int, has_image: bool, has_content: bool) -> None:
        """What validation found of message ``i``: whether it holds an image, whether it came with content."""
        if has_image and self.first_image is None:
            self.first_image = i
        self.has_images |= has_image
        if not has_content:
            self.all_content = False
            if self.first_without_content is None:
                self.first_without_content = i

    def add(self, i: int, ref: C.MessageRef, message: C.Message | None, has_count: bool) -> None:
        """Chain message ``i`` (verifying a digest the client sent) and count its tokens.

        ``has_count`` says the client gave ``ref.token_count``; otherwise the count is estimated from ``message``.
        """
        if message is not None:
            computed = chain(self.previous, message)
            if ref.digest and ref.digest != computed:
                self.mismatch = i
            self.previous = computed
        else:
            self.previous = ref.digest
        self.digests.append(self.previous)
        if has_count:
            self.running += ref.token_count
        else:
            self.running += estimate_message_tokens(message) if message is not None else 0
            self.estimated += 1
        self.cumulative.append(self.running)
        self.estimated_through.append(self.estimated)
        self.starts.append(self.blocks)
        if message is None:
            self.blocks += 1
            return
        self.blocks += max(len(message.parts), 1)
        for k, part in enumerate(message.parts):
            if part.HasField("cache_breakpoint"):
                self.marks.append((i, k, part.cache_breakpoint.ttl_seconds))

    def totals(self) -> tuple[DigestChain, tuple[int, ...]]:
        """Every digest and cumulative count, the prefix's and the new ones (the chain shares the prefix's chunks)."""
        return self.known_digests.extended(self.digests), self.known_cumulative + tuple(self.cumulative)

    def layout(self) -> tuple[tuple[int, ...], tuple[tuple[int, int, int], ...]]:
        """Every message's first block and every breakpoint, the prefix's and the new ones."""
        return self.known_starts + tuple(self.starts), self.known_marks + tuple(self.marks)


def _usable(known: VerifiedPrefix | None, conv: C.ConversationRef, require_content: bool) -> VerifiedPrefix | None:
    """``known`` when it may stand for messages of ``conv``; Execute re-reads a prefix without content to name them."""
    if known is None or known.conversation_id != conv.conversation_id:
        return None
    return None if require_content and not known.all_content else known


def read_conversation(
    v: Violations,
    conv: C.ConversationRef,
    limits: Limits,
    *,
    known: VerifiedPrefix | None = None,
    remember: bool = False,
    wire: Wire | None = None,
    require_content: bool = False,
) -> ConversationReading:
    """Validate and account for ``conv``, skipping the messages ``known`` verified already.

    ``remember`` asks for the reading's own VerifiedPrefix. ``wire`` is ``conv`` as it arrived;
    without it, matching and remembering serialize the conversation (once, in C).
    ``require_content`` is Execute's rule, one violation per message without content; the caller
    applies it to ``without_content``.
    """
    if not CONVERSATION_ID.match(conv.conversation_id):
        v.add("conversation.conversation_id", "1 to 128 characters of [A-Za-z0-9._:/-]")
    refs = conv.messages
    count = len(refs)
    if count == 0:
        v.add("conversation.messages", "at least one message is required")
    elif count > limits.max_messages:
        v.add("conversation.messages", f"{count} messages exceed the limit of {limits.max_messages}")
        return EMPTY_READING
    known = _usable(known, conv, require_content)
    region, skip = None, 0
    if remember or known is not None:
        region, skip = messages_region(wire or Wire.of_conversation(conv), known, count)
    tools_tokens, tools_estimated = _tools_tokens(conv)
    ledger = _Ledger.starting(known, skip, tools_tokens)
    without_content: list[int] = []
    for i, ref in enumerate(refs[skip:] if skip else refs, start=skip):
        message = ref.message if ref.HasField("message") else None
        has_count = ref.HasField("token_count")
        has_image = _check_ref(v, i, ref, message, has_count, limits)
        ledger.note(i, has_image, message is not None)
        if message is None and require_content:
            without_content.append(i)
        if not v.items and ledger.mismatch is None:  # else the request fails: and content may not canonicalise
            ledger.add(i, ref, message, has_count)
    _check_tools(v, conv, limits)
    all_content = ledger.all_content and count > 0
    digests, cumulative = ledger.totals()
    starts, marks = ledger.layout()
    verified = None
    if remember and region is not None and region.count == count and not v.items and ledger.mismatch is None:
        verified = VerifiedPrefix(
            conv.conversation_id,
            region,
            digests,
            cumulative,
            tools_tokens,
            ledger.estimated,
            ledger.has_images,
            all_content,
            starts,
            marks,
            ledger.blocks,
            ledger.known_estimated + tuple(ledger.estimated_through),
            ledger.first_image,
            ledger.first_without_content,
        )
    return ConversationReading(
        digests=digests,
        cumulative_tokens=cumulative,
        tools_tokens=tools_tokens,
        estimated_messages=ledger.estimated + tools_estimated,
        has_images=ledger.has_images,
        all_content=all_content,
        block_starts=starts,
        cache_marks=marks,
        messages=MessageView(refs) if all_content else (),
        mismatch=ledger.mismatch,
        without_content=tuple(without_content),
        verified=verified,
    )
