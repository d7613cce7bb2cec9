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
        plain = _plain_text(chunk)
        if plain is not None:
            text, model, response_id = plain
            self.chunk_count += 1
            self._model = self._model or model
            self._response_id = self._response_id or response_id
            plain_deltas = [router_service_pb2.ContentDelta(text=text)] if text else []
            self._accumulator.extend(plain_deltas)
            return plain_deltas
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


def _plain_text(chunk: Mapping[str, Any]) -> tuple[str, str, str] | None:
    """(text, model, id) of a chunk that carries at most text for choice 0 and nothing else; None otherwise.

    Nearly every chunk of a stream is one of these. They are read here without the general path's
    checks and error paths, which they would pass and which cost more than the rest of the
    decoding; any other chunk (an error, usage, timings, reasoning, a refusal, tool calls, a
    finish reason, another choice, a field of the wrong type) takes the general path.
    """
    if chunk.get("error") is not None or chunk.get("usage") is not None or chunk.get("timings") is not None:
        return None
    choices = chunk.get("choices")
    if type(choices) is not list or len(choices) != 1:
        return None
    choice = choices[0]
    if type(choice) is not dict or choice.get("finish_reason") is not None:
        return None
    index, delta = choice.get("index"), choice.get("delta")
    if (index is not None and (type(index) is not int or index != 0)) or type(delta) is not dict:
        return None
    if delta.get("tool_calls") or any(delta.get(key) is not None for key in _NOT_PLAIN):
        return None
    text, model, response_id = delta.get("content"), chunk.get("model"), chunk.get("id")
    if not all(value is None or type(value) is str for value in (text, model, response_id)):
        return None
    return text or "", model or "", response_id or ""


#: Delta members that make a chunk more than plain text.
_NOT_PLAIN = ("reasoning_content", "reasoning", "refusal")


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
        # Every delta's chunk is the same but for its delta: what comes before and after it is
        # serialised once, exactly as chunk_frame would write it.
        before, _, after = chunk_frame(self._chunk({"": ""})).partition(b'{"":""}')
        self._frame_around_delta = (before, after)

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
        content = self._delta_content(delta)
        return [] if content is None else [self._chunk(content)]

    def delta_frames(self, delta: router_service_pb2.ContentDelta) -> bytes:
        """``chunk_frame`` of each chunk of :meth:`delta`, byte for byte, serialising only the delta itself."""
        content = self._delta_content(delta)
        if content is None:
            return b""
        before, after = self._frame_around_delta
        return before + json.dumps(content, ensure_ascii=False, separators=(",", ":")).encode() + after

    def _delta_content(self, delta: router_service_pb2.ContentDelta) -> JSONObject | None:
        """The ``delta`` object of the chunk a canonical delta becomes; None when it has no place here."""
        kind = delta.WhichOneof("kind")
        if kind == "text":
            return {"content": delta.text}
        if kind == "reasoning_text":
            return {"reasoning_content": delta.reasoning_text}
        if kind == "reasoning_summary":
            return {"reasoning_content": delta.reasoning_summary.text}
        if kind == "tool_call":
            call = delta.tool_call
            entry: JSONObject = {"index": call.index}
            function: JSONObject = {"arguments": call.arguments_json_delta}
            if call.index not in self._started_calls:
                self._started_calls.add(call.index)
                entry.update(id=call.id, type="function")
                function = {"name": call.name, "arguments": call.arguments_json_delta}
            entry["function"] = function
            return {"tool_calls": [entry]}
        return None  # Signatures, whole reasoning items and hosted-tool items have no place in this dialect.

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
    """One chunk as an SSE ``data:`` frame.

    Compact JSON has no line break in it (``json.dumps`` escapes CR and LF inside strings), so it
    is one ``data:`` line, as :func:`encode_event` would frame it.
    """
    return b"data: " + json.dumps(chunk, ensure_ascii=False, separators=(",", ":")).encode() + b"\n\n"
