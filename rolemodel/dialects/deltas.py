"""Split a canonical assistant message into canonical ``ContentDelta`` events.

This is the inverse of :class:`~rolemodel.dialects.accumulator.StreamAccumulator`: a server that
has a whole answer (the scripted backend, a cache, a non-streaming provider behind a streaming
client) uses it to stream the answer through a dialect's stream encoder.
"""

from __future__ import annotations

from rolemodel.dialects.errors import DialectError
from rolemodel.v1 import conversation_pb2, router_service_pb2


def split_text(text: str, chunk_chars: int) -> list[str]:
    """``text`` in pieces of at most ``chunk_chars`` characters; ``chunk_chars <= 0`` keeps it whole."""
    if chunk_chars <= 0 or len(text) <= chunk_chars:
        return [text]
    return [text[i : i + chunk_chars] for i in range(0, len(text), chunk_chars)]


def message_to_deltas(
    message: conversation_pb2.Message, *, chunk_chars: int = 0
) -> list[router_service_pb2.ContentDelta]:
    """The deltas that stream ``message``, each text piece at most ``chunk_chars`` long.

    Every tool call yields at least one delta (carrying its id and name), even with empty
    arguments; a reasoning part yields its text pieces and then its signature, and one that came
    as a provider's item (it has summary parts or an item id) yields its summary pieces and then
    ``reasoning_done`` with the whole part; a hosted-tool part is one delta. Empty text parts
    yield nothing. Raises :class:`DialectError` for parts that a delta cannot carry (images and
    tool results, which never occur in an answer).
    """
    deltas: list[router_service_pb2.ContentDelta] = []
    tool_index = 0
    for number, part in enumerate(message.parts):
        kind = part.WhichOneof("kind")
        if kind == "text":
            if part.text.text:
                deltas.extend(
                    router_service_pb2.ContentDelta(text=piece) for piece in split_text(part.text.text, chunk_chars)
                )
        elif kind == "reasoning" and (part.reasoning.summary or part.reasoning.item_id):
            deltas.extend(_item_reasoning_deltas(part.reasoning, chunk_chars))
        elif kind == "hosted_tool":
            deltas.append(router_service_pb2.ContentDelta(hosted_tool=part.hosted_tool))
        elif kind == "reasoning":
            reasoning = part.reasoning
            if reasoning.text and not reasoning.redacted:
                deltas.extend(
                    router_service_pb2.ContentDelta(reasoning_text=piece)
                    for piece in split_text(reasoning.text, chunk_chars)
                )
            if reasoning.signature:
                deltas.append(router_service_pb2.ContentDelta(reasoning_signature=reasoning.signature))
        elif kind == "tool_call":
            call = part.tool_call
            for i, piece in enumerate(split_text(call.arguments_json, chunk_chars)):
                first = i == 0
                delta = router_service_pb2.ToolCallDelta(index=tool_index, arguments_json_delta=piece)
                if first:
                    delta.MergeFrom(
                        router_service_pb2.ToolCallDelta(
                            id=call.id, name=call.name, item_id=call.item_id, kind=call.kind, namespace=call.namespace
                        )
                    )
                deltas.append(router_service_pb2.ContentDelta(tool_call=delta))
            tool_index += 1
        else:
            raise DialectError(f"a {kind} part cannot be streamed as a delta", path=f"parts[{number}]")
    return deltas


def _item_reasoning_deltas(
    reasoning: conversation_pb2.ReasoningPart, chunk_chars: int
) -> list[router_service_pb2.ContentDelta]:
    deltas = [
        router_service_pb2.ContentDelta(
            reasoning_summary=router_service_pb2.ReasoningSummaryDelta(
                summary_index=index, text=piece, item_id=reasoning.item_id if index == 0 and first else ""
            )
        )
        for index, summary in enumerate(reasoning.summary)
        for first, piece in ((i == 0, p) for i, p in enumerate(split_text(summary, chunk_chars)))
    ]
    deltas.append(router_service_pb2.ContentDelta(reasoning_done=reasoning))
    return deltas
