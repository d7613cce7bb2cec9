"""Compaction of a conversation larger than the target's window (spec 8.6)."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from rolemodel.v1 import catalog_pb2, conversation_pb2
from rolemodel_router.handoff.compaction import SUMMARY_ALLOWANCE_TOKENS, compact

C = conversation_pb2
TAIL = catalog_pb2.COMPACTION_STRATEGY_TAIL_WINDOW
SUMMARY = catalog_pb2.COMPACTION_STRATEGY_SUMMARY
ROLES = {"s": C.MESSAGE_ROLE_SYSTEM, "u": C.MESSAGE_ROLE_USER, "a": C.MESSAGE_ROLE_ASSISTANT, "t": C.MESSAGE_ROLE_TOOL}


def conversation(shape: str) -> list[C.Message]:
    return [C.Message(role=ROLES[letter]) for letter in shape]


def cumulative(sizes: list[int], tools: int = 0) -> list[int]:
    out, running = [], tools
    for size in sizes:
        running += size
        out.append(running)
    return out


def test_the_tail_starts_at_the_oldest_user_message_that_fits() -> None:
    messages = conversation("suauau")
    sizes = [100, 500, 500, 300, 300, 50]
    result = compact(messages, cumulative(sizes), 0, 900, TAIL)
    assert result is not None
    assert result.kept == (0, 3, 4, 5)
    assert result.dropped == (1, 2)
    assert result.prompt_tokens == 100 + 300 + 300 + 50
    assert result.shared_prefix_messages == 1 and not result.summarized


def test_a_tool_exchange_is_never_split_from_its_call() -> None:
    messages = conversation("suatatu")
    sizes = [10, 10, 10, 400, 10, 400, 10]
    result = compact(messages, cumulative(sizes), 0, 500, TAIL)
    assert result is not None
    assert result.kept == (0, 6), "the tail may start only at a user message, never between a call and its result"


def test_the_pending_tool_exchange_at_the_end_is_kept_whole() -> None:
    messages = conversation("suauat")
    sizes = [10, 300, 300, 20, 30, 40]
    result = compact(messages, cumulative(sizes), 0, 150, TAIL)
    assert result is not None
    assert result.kept == (0, 3, 4, 5)


def test_nothing_fits_when_even_the_last_exchange_is_too_large() -> None:
    messages = conversation("suau")
    assert compact(messages, cumulative([10, 10, 10, 900]), 0, 500, TAIL) is None


def test_the_summary_strategy_leaves_room_for_the_summary() -> None:
    messages = conversation("suauau")
    sizes = [100, 500, 500, 300, 300, 50]
    budget = 100 + 300 + 300 + 50 + SUMMARY_ALLOWANCE_TOKENS
    result = compact(messages, cumulative(sizes), 0, budget, SUMMARY)
    assert result is not None and result.summarized
    assert result.kept == (0, 3, 4, 5)
    assert result.prompt_tokens == budget
    assert compact(messages, cumulative(sizes), 0, budget - 1, SUMMARY).kept == (0, 5)  # type: ignore[union-attr]


def test_exclude_compacts_nothing() -> None:
    messages = conversation("suau")
    assert compact(messages, cumulative([10, 10, 10, 10]), 0, 5, catalog_pb2.COMPACTION_STRATEGY_EXCLUDE) is None


@given(
    st.text(alphabet="uat", min_size=1, max_size=30).map(lambda s: "s" + s),
    st.data(),
    st.integers(min_value=0, max_value=300),
)
def test_what_is_kept_fits_keeps_the_system_prompt_and_the_end(shape: str, data: st.DataObject, tools: int) -> None:
    messages = conversation(shape)
    sizes = data.draw(st.lists(st.integers(1, 500), min_size=len(shape), max_size=len(shape)))
    budget = data.draw(st.integers(1, sum(sizes) + tools))
    result = compact(messages, cumulative(sizes, tools), tools, budget, TAIL)
    if result is None:
        return
    assert result.prompt_tokens <= budget
    assert result.prompt_tokens == tools + sum(sizes[i] for i in result.kept)
    assert result.kept[0] == 0 and result.kept[-1] == len(messages) - 1
    assert sorted(result.kept + result.dropped) == list(range(len(messages)))
    first_kept_after_system = result.kept[result.shared_prefix_messages]
    assert messages[first_kept_after_system].role == C.MESSAGE_ROLE_USER
