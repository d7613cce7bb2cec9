"""The stream accumulator inverts message_to_deltas, for any fragmentation of the answer."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from rolemodel.dialects.accumulator import StreamAccumulator
from rolemodel.dialects.deltas import message_to_deltas, split_text
from rolemodel.dialects.errors import DialectError
from rolemodel.v1 import conversation_pb2 as c
from rolemodel.v1 import router_service_pb2 as rs
from tests.dialects.projections import accumulated
from tests.dialects.strategies import answers, fragmented_deltas, parts


def accumulate(deltas: list[rs.ContentDelta], provider: str = "anthropic") -> c.Message:
    accumulator = StreamAccumulator(reasoning_provider=provider)
    accumulator.extend(deltas)
    return accumulator.message()


@given(answers(), st.data())
def test_any_fragmentation_of_an_answer_accumulates_to_the_answer(answer: c.Message, data: st.DataObject) -> None:
    deltas = data.draw(fragmented_deltas(answer))
    assert accumulate(deltas) == answer


@given(st.lists(parts(c.MESSAGE_ROLE_ASSISTANT, reasoning_provider="anthropic", breakpoints=False), max_size=6))
def test_message_to_deltas_loses_only_what_a_delta_cannot_say(answer_parts: list[c.ContentPart]) -> None:
    answer = c.Message(role=c.MESSAGE_ROLE_ASSISTANT, parts=answer_parts)
    for chunk in (0, 1, 3):
        assert accumulate(message_to_deltas(answer, chunk_chars=chunk)) == accumulated(answer)


@given(st.text(max_size=50), st.integers(-1, 10))
def test_split_text_pieces_join_back(text: str, size: int) -> None:
    pieces = split_text(text, size)
    assert "".join(pieces) == text
    assert all(len(p) <= size for p in pieces) or size <= 0 or len(pieces) == 1


def test_interleaved_tool_call_deltas_are_grouped_by_index() -> None:
    deltas = [
        rs.ContentDelta(tool_call=rs.ToolCallDelta(index=0, id="call_a", name="read", arguments_json_delta='{"pa')),
        rs.ContentDelta(tool_call=rs.ToolCallDelta(index=1, id="call_b", name="list", arguments_json_delta="{")),
        rs.ContentDelta(tool_call=rs.ToolCallDelta(index=0, arguments_json_delta='th": "a.py"}')),
        rs.ContentDelta(tool_call=rs.ToolCallDelta(index=1, arguments_json_delta="}")),
    ]
    message = accumulate(deltas)
    assert [(p.tool_call.id, p.tool_call.arguments_json) for p in message.parts] == [
        ("call_a", '{"path": "a.py"}'),
        ("call_b", "{}"),
    ]


def test_a_signature_closes_its_reasoning_block_and_a_bare_one_is_redacted() -> None:
    deltas = [
        rs.ContentDelta(reasoning_text="think "),
        rs.ContentDelta(reasoning_text="hard"),
        rs.ContentDelta(reasoning_signature="sig1"),
        rs.ContentDelta(reasoning_signature="opaque"),
        rs.ContentDelta(reasoning_text="again"),
        rs.ContentDelta(text=""),
        rs.ContentDelta(text="Answer"),
    ]
    message = accumulate(deltas)
    assert [p.reasoning for p in message.parts[:3]] == [
        c.ReasoningPart(text="think hard", provider="anthropic", signature="sig1"),
        c.ReasoningPart(provider="anthropic", signature="opaque", redacted=True),
        c.ReasoningPart(text="again", provider="anthropic"),
    ]
    assert message.parts[3].text.text == "Answer"


def test_images_and_tool_results_cannot_be_streamed() -> None:
    message = c.Message(role=c.MESSAGE_ROLE_USER, parts=[c.ContentPart(image=c.ImagePart(url="https://x/y.png"))])
    with pytest.raises(DialectError, match="image"):
        message_to_deltas(message)
