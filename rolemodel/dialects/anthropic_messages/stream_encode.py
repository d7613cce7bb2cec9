"""Encode canonical deltas as an Anthropic Messages stream.

The event sequence is the one Anthropic sends: ``message_start`` (with the prompt usage, when
known), a ``ping``, then content blocks one after another, each opened by
``content_block_start`` and closed by ``content_block_stop``, then ``message_delta`` (stop reason
and the full cumulative usage) and ``message_stop``. A block closes when a delta of another kind
arrives; a ``reasoning_signature`` closes its thinking block, and a signature with no thinking
block open is a ``redacted_thinking`` block. :meth:`MessagesStreamEncoder.error` ends a stream
with an ``error`` event, for a failure after the first token.

Anthropic blocks cannot interleave once closed, so a tool-call delta for a call whose block was
already closed raises :class:`DialectError`. OpenAI-compatible providers stream calls one after
another, so this does not happen when translating their streams.
"""

from __future__ import annotations

import json

from rolemodel.dialects.anthropic_messages.blocks import encode_part
from rolemodel.dialects.anthropic_messages.response import encode_stop_reason, encode_usage
from rolemodel.dialects.errors import DialectError
from rolemodel.dialects.json_fields import JSONObject
from rolemodel.dialects.sse import encode_event
from rolemodel.v1 import outcome_pb2, router_service_pb2
from rolemodel.v1.conversation_pb2 import ContentPart

_KINDS = {"text": "text", "reasoning_text": "thinking"}


class MessagesStreamEncoder:
    """Encodes canonical deltas as the events an Anthropic-dialect client expects.

    Call :meth:`start` once, :meth:`delta` per delta, :meth:`finish` once; frame each event
    with :func:`event_frame`.
    """

    def __init__(self, *, response_id: str, model: str) -> None:
        self._response_id = response_id
        self._model = model
        self._next_index = 0
        self._open: str | None = None
        self._open_tool = -1
        self._seen_tools: set[int] = set()

    def start(self, usage: outcome_pb2.Usage | None = None) -> list[JSONObject]:
        """``message_start`` with the prompt's usage as far as it is known, then a ``ping``."""
        message: JSONObject = {
            "id": self._response_id,
            "type": "message",
            "role": "assistant",
            "model": self._model,
            "content": [],
            "stop_reason": None,
            "stop_sequence": None,
            "usage": encode_usage(usage or outcome_pb2.Usage()),
        }
        return [{"type": "message_start", "message": message}, {"type": "ping"}]

    def delta(self, delta: router_service_pb2.ContentDelta) -> list[JSONObject]:
        kind = delta.WhichOneof("kind")
        if kind == "text":
            return [
                *self._ensure_open("text", {"type": "text", "text": ""}),
                self._delta("text_delta", text=delta.text),
            ]
        if kind == "reasoning_text":
            opening = self._ensure_open("thinking", {"type": "thinking", "thinking": "", "signature": ""})
            return [*opening, self._delta("thinking_delta", thinking=delta.reasoning_text)]
        if kind == "reasoning_signature":
            if self._open == "thinking":
                return [self._delta("signature_delta", signature=delta.reasoning_signature), *self._close()]
            events = self._close()
            events.append(
                self._open_block("redacted", {"type": "redacted_thinking", "data": delta.reasoning_signature})
            )
            return [*events, *self._close()]
        if kind == "tool_call":
            return self._tool_call(delta.tool_call)
        if kind == "hosted_tool":
            block = encode_part(ContentPart(hosted_tool=delta.hosted_tool), "delta.hosted_tool")
            return [*self._close(), self._open_block("hosted_tool", block), *self._close()]
        return []

    def _tool_call(self, call: router_service_pb2.ToolCallDelta) -> list[JSONObject]:
        events: list[JSONObject] = []
        if not (self._open == "tool_use" and self._open_tool == call.index):
            if call.index in self._seen_tools:
                raise DialectError(f"tool call {call.index} continues after its block closed; blocks cannot interleave")
            self._seen_tools.add(call.index)
            events = self._close()
            events.append(
                self._open_block("tool_use", {"type": "tool_use", "id": call.id, "name": call.name, "input": {}})
            )
            self._open_tool = call.index
        if call.arguments_json_delta:
            events.append(self._delta("input_json_delta", partial_json=call.arguments_json_delta))
        return events

    def finish(self, finish_reason: str, usage: outcome_pb2.Usage | None, stop_sequence: str = "") -> list[JSONObject]:
        """Close the open block, then ``message_delta`` with the final usage and ``message_stop``."""
        events = self._close()
        delta = {
            "stop_reason": encode_stop_reason(finish_reason, stop_sequence),
            "stop_sequence": stop_sequence or None,
        }
        events.append({"type": "message_delta", "delta": delta, "usage": encode_usage(usage or outcome_pb2.Usage())})
        events.append({"type": "message_stop"})
        return events

    def error(self, message: str, *, error_type: str = "api_error") -> JSONObject:
        """An ``error`` event that ends the stream, as Anthropic sends ``overloaded_error`` mid-stream."""
        return {"type": "error", "error": {"type": error_type, "message": message}}

    def _ensure_open(self, kind: str, block: JSONObject) -> list[JSONObject]:
        if self._open == kind:
            return []
        return [*self._close(), self._open_block(kind, block)]

    def _open_block(self, kind: str, block: JSONObject) -> JSONObject:
        self._open = kind
        return {"type": "content_block_start", "index": self._next_index, "content_block": block}

    def _delta(self, kind: str, **fields: str) -> JSONObject:
        return {"type": "content_block_delta", "index": self._next_index, "delta": {"type": kind, **fields}}

    def _close(self) -> list[JSONObject]:
        if self._open is None:
            return []
        event: JSONObject = {"type": "content_block_stop", "index": self._next_index}
        self._open = None
        self._open_tool = -1
        self._next_index += 1
        return [event]


def event_frame(event: JSONObject) -> bytes:
    """One event as an SSE frame, named by its ``type`` as Anthropic does."""
    return encode_event(json.dumps(event, ensure_ascii=False, separators=(",", ":")), event=str(event["type"]))
