"""Incremental conversations: reading only the messages after a verified prefix changes no answer.

The property: for a request and any next request of the same conversation (messages appended,
an earlier message changed with or without its digest, content dropped, counts or tools changed,
messages removed), validating the next request on top of what the first one verified gives
exactly what validating it from scratch gives: the same RouteInput, or the same error.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from pathlib import Path

import pytest
from hypothesis import event, given, settings
from hypothesis import strategies as st

from rolemodel.digest import digest_chain
from rolemodel.error_reasons import ErrorReason
from rolemodel.v1 import conversation_pb2 as c
from rolemodel.v1 import hints_pb2, router_service_pb2
from rolemodel_router.config.catalog_loader import load_catalog
from rolemodel_router.core import RouterCore
from rolemodel_router.engine.catalog_index import CatalogIndex
from rolemodel_router.engine.errors import RouterError
from rolemodel_router.engine.limits import Limits
from rolemodel_router.engine.route_input import RouteInput, build_route_input
from rolemodel_router.engine.verified_prefix import VerifiedPrefix, Wire, messages_region
from rolemodel_router.recent_prefixes import RecentPrefixes
from rolemodel_router.state.in_process import InProcessStore
from tests.strategies import conversations, messages

ROOT = Path(__file__).resolve().parents[2]
FIXTURE = CatalogIndex(load_catalog(ROOT / "conformance" / "fixtures" / "catalog.yaml"))
LIMITS = Limits()
CONVERSATION_ID = "incremental"


def request_of(
    history: list[c.Message],
    *,
    counts: list[int | None] | None = None,
    content: list[bool] | None = None,
    tools: int = 0,
) -> router_service_pb2.RouteRequest:
    """A Route request with chained digests; per message an optional count and whether its content travels."""
    refs = []
    for i, (message, digest) in enumerate(zip(history, digest_chain(history), strict=True)):
        ref = c.MessageRef(digest=digest)
        count = counts[i] if counts is not None else None
        if count is not None:
            ref.token_count = count
        if content is None or content[i]:
            ref.message.CopyFrom(message)
        elif count is None:
            ref.token_count = 7  # a reference without content needs a count
        refs.append(ref)
    conv = c.ConversationRef(conversation_id=CONVERSATION_ID, turn_index=len(history), messages=refs)
    conv.tools.extend(c.ToolDefinition(name=f"tool{i}", description="a tool") for i in range(tools))
    return router_service_pb2.RouteRequest(conversation=conv, hints=hints_pb2.RoutingHints(role="chat"))


def outcome(build: Callable[[], RouteInput]) -> tuple[str, object]:
    """What validation answers: the RouteInput's content, or the error's reason, metadata and violations."""
    try:
        built = build()
    except RouterError as error:
        return "error", (error.reason, error.metadata, [(v.field, v.description) for v in error.violations])
    return "input", (dataclasses.replace(built, messages=(), verified=None), list(built.messages))


def matched(known: VerifiedPrefix, request: router_service_pb2.RouteRequest) -> bool:
    wire = Wire.of_conversation(request.conversation)
    return messages_region(wire, known, len(request.conversation.messages))[1] > 0


def first_prefix(request: router_service_pb2.RouteRequest, wire: bool) -> VerifiedPrefix | None:
    data = request.SerializeToString()
    built = build_route_input(request, FIXTURE, LIMITS, remember=True, wire=Wire.of_request(data) if wire else None)
    return built.verified


# Each edit turns the first request's history into the next request's; some make the request invalid.
@st.composite
def next_requests(draw: st.DrawFn, history: list[c.Message]) -> router_service_pb2.RouteRequest:
    history = list(history)
    counts: list[int | None] = [None] * len(history)
    content = [True] * len(history)
    tools = 0
    for edit in draw(
        st.lists(st.sampled_from(["append", "replace", "count", "drop", "truncate", "tools", "mark"]), max_size=3)
    ):
        where = draw(st.integers(0, len(history) - 1))
        if edit == "append":
            added = draw(st.lists(messages(), min_size=1, max_size=3))
            history += added
            counts += [None] * len(added)
            content += [True] * len(added)
        elif edit == "replace":
            history[where] = draw(messages())
        elif edit == "count":
            counts[where] = draw(st.integers(0, 5000))
        elif edit == "drop":
            content[where] = False
        elif edit == "truncate" and len(history) > 1:
            history, counts, content = history[: where + 1], counts[: where + 1], content[: where + 1]
        elif edit == "tools":
            tools = draw(st.integers(1, 3))
        elif edit == "mark":  # a cache breakpoint on a part (spec 8.5): it moves no digest
            marked = c.Message()
            marked.CopyFrom(history[where])
            marked.parts[draw(st.integers(0, len(marked.parts) - 1))].cache_breakpoint.ttl_seconds = 300
            history[where] = marked
    request = request_of(history, counts=counts, content=content, tools=tools)
    refs = request.conversation.messages
    flaw = draw(st.sampled_from(["none", "stale digest", "stale newest digest", "newest without kind"]))
    if flaw == "stale digest":  # the client changed a message but not the digest it sends
        refs[draw(st.integers(0, len(refs) - 1))].digest = bytes(32)
    elif flaw == "stale newest digest":
        refs[-1].digest = bytes(32)
    elif flaw == "newest without kind":  # a violation in a message after the prefix
        refs[-1].message.parts.add()
    return request


@settings(max_examples=150, deadline=None)
@given(data=st.data(), history=conversations, wire=st.booleans(), execute=st.booleans())
def test_a_verified_prefix_changes_no_answer(
    data: st.DataObject, history: list[c.Message], wire: bool, execute: bool
) -> None:
    known = first_prefix(request_of(history), wire)
    assert known is not None and len(known.digests) == len(history)
    following = data.draw(next_requests(history))
    raw = following.SerializeToString()

    def incremental() -> RouteInput:
        return build_route_input(
            following,
            FIXTURE,
            LIMITS,
            require_content=execute,
            known=known,
            remember=True,
            wire=Wire.of_request(raw) if wire else None,
        )

    def from_scratch() -> RouteInput:
        return build_route_input(following, FIXTURE, LIMITS, require_content=execute)

    answer = outcome(incremental)
    event(f"{answer[0]}, prefix {'matched' if matched(known, following) else 'not matched'}")
    assert answer == outcome(from_scratch)


def test_only_the_messages_after_the_repeated_ones_are_read() -> None:
    """A request repeats a verified prefix whole, or up to the first message it changed."""
    history = [conversation_message(i) for i in range(6)]
    known = first_prefix(request_of(history[:4]), wire=True)
    assert known is not None

    def repeated(messages: list[c.Message]) -> tuple[int, int]:
        wire = Wire.of_request(request_of(messages).SerializeToString())
        assert wire is not None
        region, matched = messages_region(wire, known, len(messages))
        return matched, region.count if region else 0

    assert repeated(history) == (4, 6)
    for changed_at in (0, 2, 3):
        changed = list(history)
        changed[changed_at] = conversation_message(99)
        assert repeated(changed) == (changed_at, 6)
    marked = list(history)  # a client that moves its cache breakpoint changes the marked message's bytes
    marked[3] = c.Message()
    marked[3].CopyFrom(history[3])
    marked[3].parts[0].cache_breakpoint.ttl_seconds = 300
    assert repeated(marked) == (3, 6)


def conversation_message(i: int) -> c.Message:
    role = c.MESSAGE_ROLE_USER if i % 2 == 0 else c.MESSAGE_ROLE_ASSISTANT
    return c.Message(role=role, parts=[c.ContentPart(text=c.TextPart(text=f"message {i}"))])


def test_messages_interleaved_with_other_fields_are_read_correctly_and_not_remembered() -> None:
    """A sender may write fields in any order: the run of message records then stops early."""
    history = [conversation_message(i) for i in range(4)]
    request = request_of(history, tools=1)
    conv = request.conversation
    head = c.ConversationRef(conversation_id=conv.conversation_id, turn_index=conv.turn_index)
    first, rest = c.ConversationRef(messages=conv.messages[:2]), c.ConversationRef(messages=conv.messages[2:])
    tools = c.ConversationRef(tools=conv.tools)
    interleaved = (
        head.SerializeToString() + first.SerializeToString() + tools.SerializeToString() + rest.SerializeToString()
    )
    assert c.ConversationRef.FromString(interleaved) == conv
    wire = Wire(interleaved, 0, len(interleaved))
    built = build_route_input(request, FIXTURE, LIMITS, remember=True, wire=wire)
    assert built.verified is None
    assert built.digests == tuple(digest_chain(history))
    region, matched = messages_region(wire, None, 4)
    assert (matched, region.count if region else 0) == (0, 2)


def test_the_router_finds_a_changed_earlier_message_after_verifying_the_conversation() -> None:
    """In the core, with the memo primed: the stale digest is named as without it."""
    core = RouterCore(FIXTURE, InProcessStore(quotas=FIXTURE.quotas))
    history = [conversation_message(i) for i in range(5)]
    first = request_of(history[:3])
    core.validate_route(first, first.SerializeToString())
    assert core.prefixes.get(CONVERSATION_ID) is not None
    changed = request_of(history)
    changed.conversation.messages[1].message.parts[0].text.text = "edited after the fact"
    with pytest.raises(RouterError) as caught:
        core.validate_route(changed, changed.SerializeToString())
    assert caught.value.reason == ErrorReason.DIGEST_MISMATCH
    assert caught.value.metadata == {"message_index": "1"}
    unchanged = request_of(history)
    built = core.validate_route(unchanged, unchanged.SerializeToString())
    assert built.digests == tuple(digest_chain(history))
    verified = core.prefixes.get(CONVERSATION_ID)
    assert verified is not None and len(verified.digests) == 5


def test_the_memo_keeps_the_most_recently_used_within_its_budget() -> None:
    def prefix(i: int) -> VerifiedPrefix:
        request = request_of([conversation_message(i)])
        request.conversation.conversation_id = f"c{i}"
        verified = first_prefix(request, wire=False)
        assert verified is not None
        return verified

    prefixes = [prefix(i) for i in range(4)]
    size = max(p.memory_bytes for p in prefixes)
    memo = RecentPrefixes(max_bytes=size * 3, max_conversations=10)
    for p in prefixes[:3]:
        memo.remember(p)
    assert memo.get("c0") is not None  # now the most recently used
    memo.remember(prefixes[3])
    assert [memo.get(f"c{i}") is not None for i in range(4)] == [True, False, True, True]
    assert memo.memory_bytes <= size * 3
    few = RecentPrefixes(max_conversations=2)
    for p in prefixes:
        few.remember(p)
    assert [few.get(f"c{i}") is not None for i in range(4)] == [False, False, True, True]
    small = RecentPrefixes(max_bytes=size - 1)
    small.remember(prefixes[0])
    assert len(small) == 0
