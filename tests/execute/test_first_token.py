"""The first token of a stream leaves as soon as it is decoded, not after the rest of the read that brought it."""

from __future__ import annotations

import json

from rolemodel.dialects.openai_chat.stream import ChatStreamDecoder
from rolemodel_router.execute.backend_call import decode_chunks


def _chunk(delta: dict[str, str], finish_reason: str | None = None) -> bytes:
    body: dict[str, object] = {"id": "c1", "object": "chat.completion.chunk", "created": 1, "model": "m"}
    body["choices"] = [{"index": 0, "delta": delta, "finish_reason": finish_reason}]
    return f"data: {json.dumps(body)}\n\n".encode()


READ = [
    _chunk({"role": "assistant", "content": ""}),
    _chunk({"content": "Hel"}),
    _chunk({"content": "lo"}),
    _chunk({}, "stop"),
    b"data: [DONE]\n\n",
]


def test_until_the_first_token_a_read_is_decoded_only_up_to_the_chunk_that_brings_it() -> None:
    decoder = ChatStreamDecoder()
    first, broken, left = decode_chunks(decoder, READ, until_first_delta=True)
    assert [d.text for d in first] == ["Hel"]
    assert broken is None
    assert left == READ[2:]
    rest, broken, left = decode_chunks(decoder, left or [])
    assert [d.text for d in rest] == ["lo"]
    assert (broken, left) == (None, None)
    assert decoder.completion().finish_reason == "stop"


def test_after_the_first_token_a_read_is_decoded_whole() -> None:
    deltas, broken, left = decode_chunks(ChatStreamDecoder(), READ)
    assert [d.text for d in deltas] == ["Hel", "lo"]
    assert (broken, left) == (None, None)


def test_an_error_in_the_read_stops_the_decoding_after_the_deltas_before_it() -> None:
    cut = [READ[1], b'data: {"error": {"type": "overloaded", "message": "busy"}}\n\n', READ[2]]
    deltas, broken, left = decode_chunks(ChatStreamDecoder(), cut)
    assert [d.text for d in deltas] == ["Hel"]
    assert broken is not None and "busy" in str(broken)
    assert left is None
