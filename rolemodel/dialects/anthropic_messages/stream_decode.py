"""Decode an Anthropic Messages stream into canonical deltas and a completion.

Events: ``message_start`` (id, model, prompt usage), ``content_block_start`` /
``content_block_delta`` / ``content_block_stop`` per block, ``message_delta`` (stop reason,
cumulative usage), ``message_stop``, ``ping`` and ``error``. Unknown event types are ignored, as
Anthropic asks clients to do; an ``error`` event raises :class:`ProviderStreamError`.

Block deltas map as: ``text_delta`` to ``text``, ``thinking_delta`` to ``reasoning_text``,
``input_json_delta`` to a ``ToolCallDelta`` whose ``index`` is the call's position among the
answer's tool calls (not the block index), and ``signature_delta`` to one ``reasoning_signature``
sent when the thinking block stops (the signature completes the block). A ``redacted_thinking``
block is a ``reasoning_signature`` with no reasoning text before it. ``citations_delta`` has no
canonical place and is dropped.

Usage: ``message_delta`` counts are cumulative and override those of ``message_start`` field by
field; the result is converted to the canonical convention as in :mod:`.response`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from rolemodel.dialects.accumulator import StreamAccumulator
from rolemodel.dialects.anthropic_messages.blocks import ANTHROPIC, hosted_tool_part, is_server_tool_block
from rolemodel.dialects.anthropic_messages.response import decode_stop_reason, decode_usage
from rolemodel.dialects.canonical import Completion
from rolemodel.dialects.errors import DialectError, IncompleteStreamError, ProviderStreamError
from rolemodel.dialects.json_fields import at, dumps_compact, loads_object, opt_int, opt_object, opt_str, req_str
from rolemodel.dialects.sse import SSEParser
from rolemodel.v1 import outcome_pb2, router_service_pb2

ContentDelta = router_service_pb2.ContentDelta
_USAGE_FIELDS = ("input_tokens", "cache_read_input_tokens", "cache_creation_input_tokens", "output_tokens")


@dataclass
class _Block:
    kind: str
    tool_index: int = -1
    signature: str = ""
    hosted: dict[str, Any] | None = None  # a server-tool block, completed at its stop
    hosted_input: str = ""


class MessagesStreamDecoder:
    """Decodes a provider's stream into canonical deltas and, at the end, a :class:`Completion`."""

    def __init__(self, *, reasoning_provider: str = ANTHROPIC) -> None:
        self._parser = SSEParser()
        self._accumulator = StreamAccumulator(reasoning_provider=reasoning_provider)
        self._blocks: dict[int, _Block] = {}
        self._tool_count = 0
        self._usage: dict[str, Any] = {}
        self._stop_reason = ""
        self._stop_sequence = ""
        self._model = ""
        self._response_id = ""
        self.done = False
        self.event_count = 0

    @property
    def finished(self) -> bool:
        """Whether the stream said how it finished (a ``message_delta`` with a stop reason arrived)."""
        return bool(self._stop_reason)

    def feed_bytes(self, data: bytes) -> list[ContentDelta]:
        """Deltas from raw response bytes, in whatever pieces they arrive."""
        deltas: list[ContentDelta] = []
        for event in self._parser.feed(data):
            deltas.extend(self.feed_event(loads_object(event.data, f"event {self.event_count}")))
        return deltas

    def feed_event(self, event: Mapping[str, Any]) -> list[ContentDelta]:
        """Deltas from one parsed event."""
        path = f"event {self.event_count}"
        self.event_count += 1
        kind = opt_str(event, "type", path)
        deltas: list[ContentDelta] = []
        if kind == "message_start":
            self._start(opt_object(event, "message", path) or {}, at(path, "message"))
        elif kind == "content_block_start":
            deltas = self._block_start(event, path)
        elif kind == "content_block_delta":
            deltas = self._block_delta(event, path)
        elif kind == "content_block_stop":
            deltas = self._block_stop(event, path)
        elif kind == "message_delta":
            delta = opt_object(event, "delta", path) or {}
            self._stop_reason = decode_stop_reason(opt_str(delta, "stop_reason", path)) or self._stop_reason
            self._stop_sequence = opt_str(delta, "stop_sequence", path) or self._stop_sequence
            self._merge_usage(opt_object(event, "usage", path), at(path, "usage"))
        elif kind == "message_stop":
            self.done = True
        elif kind == "error":
            error = opt_object(event, "error", path) or {}
            raise ProviderStreamError(opt_str(error, "type", path) or "", opt_str(error, "message", path) or "")
        self._accumulator.extend(deltas)
        return deltas

    def _start(self, message: Mapping[str, Any], path: str) -> None:
        self._model = opt_str(message, "model", path) or ""
        self._response_id = opt_str(message, "id", path) or ""
        self._merge_usage(opt_object(message, "usage", path), at(path, "usage"))

    def _merge_usage(self, usage: Mapping[str, Any] | None, path: str) -> None:
        for name in _USAGE_FIELDS if usage is not None else ():
            value = opt_int(usage or {}, name, path)
            if value is not None:
                self._usage[name] = value
        creation = opt_object(usage, "cache_creation", path) if usage is not None else None
        if creation is not None:
            self._usage["cache_creation"] = dict(creation)

    def _index(self, event: Mapping[str, Any], path: str) -> int:
        index = opt_int(event, "index", path)
        if index is None:
            raise DialectError("is required", path=at(path, "index"))
        return index

    def _block_start(self, event: Mapping[str, Any], path: str) -> list[ContentDelta]:
        index = self._index(event, path)
        path = at(path, "content_block")
        block = opt_object(event, "content_block", path) or {}
        kind = opt_str(block, "type", path) or ""
        state = _Block(kind)
        self._blocks[index] = state
        if kind == "text":
            text = opt_str(block, "text", path)
            return [ContentDelta(text=text)] if text else []
        if kind == "thinking":
            state.signature = opt_str(block, "signature", path) or ""
            text = opt_str(block, "thinking", path)
            return [ContentDelta(reasoning_text=text)] if text else []
        if kind == "redacted_thinking":
            return [ContentDelta(reasoning_signature=req_str(block, "data", path))]
        if is_server_tool_block(kind):
            state.hosted = dict(block)
            return []
        if kind == "tool_use":
            state.tool_index = self._tool_count
            self._tool_count += 1
            value = block.get("input")
            call = router_service_pb2.ToolCallDelta(
                index=state.tool_index,
                id=req_str(block, "id", path),
                name=req_str(block, "name", path),
                arguments_json_delta=dumps_compact(value) if value else "",
            )
            return [ContentDelta(tool_call=call)]
        raise DialectError(f"content blocks of type {kind!r} are not supported", path=at(path, "type"))

    def _block_delta(self, event: Mapping[str, Any], path: str) -> list[ContentDelta]:
        index = self._index(event, path)
        state = self._blocks.get(index)
        if state is None:
            raise DialectError(f"a delta for block {index}, which never started", path=path)
        path = at(path, "delta")
        delta = opt_object(event, "delta", path) or {}
        kind = opt_str(delta, "type", path)
        if kind == "text_delta":
            text = req_str(delta, "text", path)
            return [ContentDelta(text=text)] if text else []
        if kind == "thinking_delta":
            text = req_str(delta, "thinking", path)
            return [ContentDelta(reasoning_text=text)] if text else []
        if kind == "signature_delta":
            state.signature += req_str(delta, "signature", path)
            return []
        if kind == "input_json_delta":
            fragment = req_str(delta, "partial_json", path)
            if state.hosted is not None:
                state.hosted_input += fragment
                return []
            if not fragment:
                return []
            call = router_service_pb2.ToolCallDelta(index=state.tool_index, arguments_json_delta=fragment)
            return [ContentDelta(tool_call=call)]
        return []

    def _block_stop(self, event: Mapping[str, Any], path: str) -> list[ContentDelta]:
        state = self._blocks.get(self._index(event, path))
        if state is not None and state.kind == "thinking" and state.signature:
            return [ContentDelta(reasoning_signature=state.signature)]
        if state is not None and state.hosted is not None:
            if state.hosted_input:
                state.hosted["input"] = loads_object(state.hosted_input, at(path, "input"))
            return [ContentDelta(hosted_tool=hosted_tool_part(state.hosted, path))]
        return []

    def completion(self) -> Completion:
        """The whole answer; raises :class:`IncompleteStreamError` when no stop reason arrived."""
        if not self.finished:
            raise IncompleteStreamError(f"the stream ended after {self.event_count} events without a stop reason")
        return self.partial_completion()

    def partial_completion(self) -> Completion:
        """What arrived so far, for an error report after a cut stream."""
        usage: outcome_pb2.Usage | None = decode_usage(self._usage, "usage") if self._usage else None
        return Completion(
            message=self._accumulator.message(),
            finish_reason=self._stop_reason,
            usage=usage,
            model=self._model,
            response_id=self._response_id,
            stop_sequence=self._stop_sequence,
        )
