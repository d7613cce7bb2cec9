"""OpenAI Chat Completions streams (``chat.completion.chunk`` over SSE), both directions.

Decoding: every ``data:`` line is a chunk until ``data: [DONE]``. ``delta.content`` and
``delta.refusal`` become ``text`` deltas, ``delta.reasoning_content`` (or ``delta.reasoning``)
``reasoning_text`` deltas, and each ``delta.tool_calls`` entry a ``ToolCallDelta`` with the same
``index`` (its first fragment carries ``id`` and ``function.name``). ``finish_reason`` and the
final usage chunk (sent when the request had ``stream_options.include_usage``) complete the
answer; llama.cpp's ``timings`` (on its last chunk) are kept. A chunk with an ``error`` object
raises :class:`ProviderStreamError`.

Encoding produces the chunk sequence OpenAI sends: a first chunk with ``role: assistant``, one
chunk per delta, a chunk with the finish reason and an empty delta, then, if asked, a chunk with
empty ``choices`` and the usage, and ``[DONE]``. While ``include_usage`` is on, every other
chunk carries ``"usage": null``, as OpenAI's do.

:meth:`ChatStreamEncoder.error` ends a stream with an error chunk, for a failure after the first
token.

Not expressible: reasoning signatures and redacted reasoning (the deltas are dropped), and cache
writes in the usage.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from rolemodel.dialects.accumulator import StreamAccumulator
from rolemodel.dialects.canonical import FINISH_STOP, Completion, ServerTimings
from rolemodel.dialects.errors import DialectError, IncompleteStreamError, ProviderStreamError
from rolemodel.dialects.json_fields import (
    JSONObject,
    as_list,
    as_object,
    at,
    dumps_compact,
    loads_object,
    opt_int,
    opt_object,
    opt_str,
)
from rolemodel.dialects.openai_chat.response import decode_finish_reason, decode_timings, decode_usage, encode_usage
from rolemodel.dialects.sse import SSEParser, encode_event
from rolemodel.v1 import outcome_pb2, router_service_pb2

DONE_DATA = "[DONE]"
DONE_FRAME = encode_event(DONE_DATA)


class ChatStreamDecoder:
    """Decodes a provider's stream into canonical deltas and, at the end, a :class:`Completion`."""

    def __init__(self, *, reasoning_provider: str = "") -> None:
        self._parser = SSEParser()
        self._accumulator = StreamAccumulator(reasoning_provider=reasoning_provider)
        self._finish_reason = ""
        self._usage: outcome_pb2.Usage | None = None
        self._timings: ServerTimings | None = None
        self._model = ""
        self._response_id = ""
        self.done = False
        self.chunk_count = 0

    @property
    def finished(self) -> bool:
        """Whether the stream said how it finished (a finish reason arrived)."""
        return bool(self._finish_reason)

    def feed_bytes(self, data: bytes) -> list[router_service_pb2.ContentDelta]:
        """Deltas from raw response bytes, in whatever pieces they arrive."""
        deltas: list[router_service_pb2.ContentDelta] = []
        for event in self._parser.feed(data):
            if event.data.strip() == DONE_DATA:
                self.done = True
                continue
            deltas.extend(self.feed_chunk(loads_object(event.data, f"chunk {self.chunk_count}")))
        return deltas

    def feed_chunk(self, chunk: Mapping[str, Any]) -> list[router_service_pb2.ContentDelta]:
        """Deltas from one parsed chunk."""
        path = f"chunk {self.chunk_count}"
        self.chunk_count += 1
        error = opt_object(chunk, "error", path)
        if error is not None:
            raise ProviderStreamError(
                opt_str(error, "type", path) or opt_str(error, "code", path) or "",
                opt_str(error, "message", path) or "",
            )
        self._model = self._model or opt_str(chunk, "model", path) or ""
        self._response_id = self._response_id or opt_str(chunk, "id", path) or ""
        usage = opt_object(chunk, "usage", path)
        if usage is not None:
            self._usage = decode_usage(usage, at(path, "usage"))
        self._timings = decode_timings(chunk, path) or self._timings
        deltas: list[router_service_pb2.ContentDelta] = []
        for i, item in enumerate(as_list(chunk.get("choices") or [], at(path, "choices"))):
            choice = as_object(item, at(at(path, "choices"), i))
            if (opt_int(choice, "index", path) or 0) != 0:
                continue
            delta = opt_object(choice, "delta", at(path, "choices"))
            if delta is not None:
                deltas.extend(_decode_delta(delta, at(at(path, "choices"), i)))
            reason = opt_str(choice, "finish_reason", path)
            if reason:
                self._finish_reason = decode_finish_reason(reason)
        self._accumulator.extend(deltas)
        return deltas

    def completion(self) -> Completion:
        """The whole answer; raises :class:`IncompleteStreamError` when no finish reason arrived."""
        if not self.finished:
            raise IncompleteStreamError(
                f"the stream ended after {self.chunk_count} chunks without a finish reason",
            )
        return Completion(
            message=self._accumulator.message(),
            finish_reason=self._finish_reason,
            usage=self._usage,
            model=self._model,
            response_id=self._response_id,
            timings=self._timings,
        )

    def partial_completion(self) -> Completion:
        """What arrived so far, for an error report after a cut stream."""
        return Completion(
            message=self._accumulator.message(),
            finish_reason=self._finish_reason,
            usage=self._usage,
            model=self._model,
            response_id=self._response_id,
        )


def _decode_delta(delta: Mapping[str, Any], path: str) -> list[router_service_pb2.ContentDelta]:
    out: list[router_service_pb2.ContentDelta] = []
    reasoning = opt_str(delta, "reasoning_content", path) or opt_str(delta, "reasoning", path)
    if reasoning:
        out.append(router_service_pb2.ContentDelta(reasoning_text=reasoning))
    for key in ("content", "refusal"):
        text = opt_str(delta, key, path)
        if text:
            out.append(router_service_pb2.ContentDelta(text=text))
    for i, item in enumerate(as_list(delta.get("tool_calls") or [], at(path, "tool_calls"))):
        call_path = at(at(path, "tool_calls"), i)
        call = as_object(item, call_path)
        index = opt_int(call, "index", call_path)
        if index is None:
            raise DialectError("a streamed tool call needs an index", path=call_path)
        function = opt_object(call, "function", call_path) or {}
        arguments = function.get("arguments")
        if arguments is not None and not isinstance(arguments, str):
            arguments = dumps_compact(arguments)
        out.append(
            router_service_pb2.ContentDelta(
                tool_call=router_service_pb2.ToolCallDelta(
                    index=index,
                    id=opt_str(call, "id", call_path) or "",
                    name=opt_str(function, "name", at(call_path, "function")) or "",
                    arguments_json_delta=arguments or "",
                )
            )
        )
    return out


class ChatStreamEncoder:
    """Encodes canonical deltas as the chunks an OpenAI-dialect client expects.

    Call :meth:`start` once, :meth:`delta` per delta, :meth:`finish` once; frame each chunk with
    :func:`chunk_frame` and end the stream with :data:`DONE_FRAME`.
    """

    def __init__(self, *, response_id: str, model: str, created: int = 0, include_usage: bool = False) -> None:
        self._response_id = response_id
        self._model = model
        self._created = created
        self._include_usage = include_usage
        self._started_calls: set[int] = set()

    def _chunk(self, delta: JSONObject, finish_reason: str | None = None) -> JSONObject:
        chunk: JSONObject = {
            "id": self._response_id,
            "object": "chat.completion.chunk",
            "created": self._created,
            "model": self._model,
            "choices": [{"index": 0, "delta": delta, "finish_reason": finish_reason, "logprobs": None}],
        }
        if self._include_usage:
            chunk["usage"] = None
        return chunk

    def start(self) -> list[JSONObject]:
        return [self._chunk({"role": "assistant", "content": ""})]

    def delta(self, delta: router_service_pb2.ContentDelta) -> list[JSONObject]:
        kind = delta.WhichOneof("kind")
        if kind == "text":
            return [self._chunk({"content": delta.text})]
        if kind == "reasoning_text":
            return [self._chunk({"reasoning_content": delta.reasoning_text})]
        if kind == "reasoning_summary":
            return [self._chunk({"reasoning_content": delta.reasoning_summary.text})]
        if kind == "tool_call":
            call = delta.tool_call
            entry: JSONObject = {"index": call.index}
            function: JSONObject = {"arguments": call.arguments_json_delta}
            if call.index not in self._started_calls:
                self._started_calls.add(call.index)
                entry.update(id=call.id, type="function")
                function = {"name": call.name, "arguments": call.arguments_json_delta}
            entry["function"] = function
            return [self._chunk({"tool_calls": [entry]})]
        return []  # Signatures, whole reasoning items and hosted-tool items have no place in this dialect.

    def finish(self, finish_reason: str, usage: outcome_pb2.Usage | None) -> list[JSONObject]:
        """The finish chunk and, when the client asked and usage is known, the usage chunk."""
        chunks = [self._chunk({}, finish_reason or FINISH_STOP)]
        if self._include_usage and usage is not None:
            chunks.append(
                {
                    "id": self._response_id,
                    "object": "chat.completion.chunk",
                    "created": self._created,
                    "model": self._model,
                    "choices": [],
                    "usage": encode_usage(usage),
                }
            )
        return chunks

    def error(self, message: str, *, error_type: str = "server_error", code: str | None = None) -> JSONObject:
        """A chunk that ends the stream with an error, as OpenAI-compatible servers send one mid-stream.

        The official SDK raises ``APIError`` on it; send no ``[DONE]`` after it.
        """
        return {"error": {"message": message, "type": error_type, "param": None, "code": code}}


def chunk_frame(chunk: JSONObject) -> bytes:
    """One chunk as an SSE ``data:`` frame."""
    return encode_event(json.dumps(chunk, ensure_ascii=False, separators=(",", ":")))
