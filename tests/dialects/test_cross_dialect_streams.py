"""A stream decoded from one dialect and re-encoded in the other keeps its text and tool calls.

This is the front door's path: a provider speaks one dialect, the client the other. Tool calls
lost in exactly this translation are the most frequent bug class of today's routers.
"""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from rolemodel.dialects.anthropic_messages import MessagesStreamDecoder, MessagesStreamEncoder, event_frame
from rolemodel.dialects.openai_chat import DONE_FRAME, ChatStreamDecoder, ChatStreamEncoder, chunk_frame
from rolemodel.v1 import conversation_pb2 as c
from rolemodel.v1 import outcome_pb2
from tests.dialects import projections
from tests.dialects.strategies import answers, byte_splits, finish_reasons, fragmented_deltas, usages


@given(answers(reasoning_provider="deepseek", signed=False), finish_reasons, usages, st.data())
def test_openai_provider_stream_to_anthropic_client(
    answer: c.Message, finish: str, usage: outcome_pb2.Usage, data: st.DataObject
) -> None:
    usage.cache_write_tokens = 0
    openai = ChatStreamEncoder(response_id="chatcmpl-1", model="deepseek-chat", include_usage=True)
    chunks = openai.start() + [x for d in data.draw(fragmented_deltas(answer)) for x in openai.delta(d)]
    provider_bytes = b"".join(chunk_frame(x) for x in chunks + openai.finish(finish, usage)) + DONE_FRAME

    upstream = ChatStreamDecoder(reasoning_provider="deepseek")
    anthropic = MessagesStreamEncoder(response_id="msg_1", model="rolemodel/code.edit")
    client_bytes = b"".join(event_frame(e) for e in anthropic.start())
    for piece in data.draw(byte_splits(provider_bytes)):
        client_bytes += b"".join(event_frame(e) for d in upstream.feed_bytes(piece) for e in anthropic.delta(d))
    done = upstream.completion()
    client_bytes += b"".join(event_frame(e) for e in anthropic.finish(done.finish_reason, done.usage))

    client = MessagesStreamDecoder(reasoning_provider="deepseek")
    for piece in data.draw(byte_splits(client_bytes)):
        client.feed_bytes(piece)
    received = client.completion()
    assert received.message == answer
    assert (received.finish_reason, received.usage) == (finish, usage)


@given(answers(), finish_reasons, usages, st.data())
def test_anthropic_provider_stream_to_openai_client(
    answer: c.Message, finish: str, usage: outcome_pb2.Usage, data: st.DataObject
) -> None:
    anthropic = MessagesStreamEncoder(response_id="msg_1", model="claude")
    events = anthropic.start(usage) + [e for d in data.draw(fragmented_deltas(answer)) for e in anthropic.delta(d)]
    provider_bytes = b"".join(event_frame(e) for e in events + anthropic.finish(finish, usage))

    upstream = MessagesStreamDecoder()
    openai = ChatStreamEncoder(response_id="chatcmpl-1", model="rolemodel/chore", include_usage=True)
    client_bytes = b"".join(chunk_frame(x) for x in openai.start())
    for piece in data.draw(byte_splits(provider_bytes)):
        client_bytes += b"".join(chunk_frame(x) for d in upstream.feed_bytes(piece) for x in openai.delta(d))
    done = upstream.completion()
    client_bytes += b"".join(chunk_frame(x) for x in openai.finish(done.finish_reason, done.usage)) + DONE_FRAME

    client = ChatStreamDecoder(reasoning_provider="anthropic")
    client.feed_bytes(client_bytes)
    received = client.completion()
    unsigned = c.Message()
    unsigned.CopyFrom(answer)
    for part in unsigned.parts:
        if part.HasField("reasoning"):
            part.reasoning.signature = ""
    assert received.message == projections.accumulated(unsigned)
    assert received.finish_reason == finish
    assert received.usage == outcome_pb2.Usage(
        input_tokens=usage.input_tokens, cache_read_tokens=usage.cache_read_tokens, output_tokens=usage.output_tokens
    )
