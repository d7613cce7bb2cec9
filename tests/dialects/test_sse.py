"""Server-Sent Events framing: what is encoded parses back, in any split of the bytes."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from rolemodel.dialects.sse import ServerSentEvent, SSEParser, encode_event
from tests.dialects.strategies import byte_splits

# Data without CR: the format turns every line break into LF, so CR cannot round-trip.
event_data = st.text(alphabet=st.characters(blacklist_categories=["Cs"], blacklist_characters="\r"), max_size=60)
event_names = st.sampled_from(["", "message_start", "content_block_delta", "ping"])


def parse_all(chunks: list[bytes]) -> list[ServerSentEvent]:
    parser = SSEParser()
    return [event for chunk in chunks for event in parser.feed(chunk)]


@given(st.lists(st.tuples(event_data, event_names), max_size=6), st.data())
def test_encoded_events_parse_back_in_any_split(events: list[tuple[str, str]], data: st.DataObject) -> None:
    stream = b"".join(encode_event(text, event=name) for text, name in events)
    chunks = data.draw(byte_splits(stream))
    assert parse_all(chunks) == [ServerSentEvent(data=text, event=name) for text, name in events]


@given(st.sampled_from(["\n", "\r\n", "\r"]), st.data())
def test_every_line_ending_is_accepted(newline: str, data: st.DataObject) -> None:
    stream = newline.join(["event: a", "data: one", "data: two", "", "data: [DONE]", "", ""]).encode()
    events = parse_all(data.draw(byte_splits(stream)))
    assert events == [ServerSentEvent(data="one\ntwo", event="a"), ServerSentEvent(data="[DONE]")]


def test_comments_bom_fields_without_space_and_an_unfinished_event() -> None:
    stream = "\ufeff: keep-alive\ndata:x\nid: 7\nretry: 100\nunknown: y\n\ndata: lost".encode()
    assert parse_all([stream]) == [ServerSentEvent(data="x", id="7")]


def test_a_field_without_colon_and_an_event_without_data() -> None:
    assert parse_all([b"event: ping\n\ndata\n\n"]) == [ServerSentEvent(data="")]


def test_a_multibyte_character_split_between_reads() -> None:
    payload = encode_event("grüße ✓")
    middle = payload.index("✓".encode()) + 1
    assert parse_all([payload[:middle], payload[middle:]]) == [ServerSentEvent(data="grüße ✓")]


def test_an_event_name_with_a_line_break_is_refused() -> None:
    with pytest.raises(ValueError, match="line break"):
        encode_event("x", event="a\nb")
