"""``POST /v1/chat/completions``: the OpenAI Chat Completions dialect on the front door.

Requests and answers go through :mod:`rolemodel.dialects.openai_chat`. A stream is the chunk
sequence OpenAI sends (a first chunk with the role, one chunk per delta, the finish chunk, the
usage chunk when ``stream_options.include_usage`` asked for it, then ``[DONE]``); its last chunk
before ``[DONE]`` carries the ``rolemodel`` member with what the provider reported. Reasoning
from any provider streams as ``reasoning_content``; signatures have no place in this dialect.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any

from rolemodel.dialects import openai_chat
from rolemodel.dialects.canonical import CanonicalRequest, Completion
from rolemodel.dialects.json_fields import JSONObject
from rolemodel.v1 import router_service_pb2
from rolemodel_router.http.errors import Dialect, HttpError, stream_error_event

RESPONSE_ID_PREFIX = "chatcmpl-"


class ChatStreamWriter:
    def __init__(self, response_id: str, model: str, *, include_usage: bool) -> None:
        self._encoder = openai_chat.ChatStreamEncoder(
            response_id=response_id, model=model, created=int(time.time()), include_usage=include_usage
        )

    def opening(self, rolemodel: JSONObject | None) -> bytes:
        chunks = self._encoder.start()
        if rolemodel is not None:
            chunks[0]["rolemodel"] = rolemodel
        return b"".join(openai_chat.chunk_frame(c) for c in chunks)

    def plan_usage(self, events: list[dict[str, Any]]) -> bytes:
        """This dialect has no event for a plan's usage; its headers carry it (spec 14.5)."""
        return b""

    def delta(self, delta: router_service_pb2.ContentDelta) -> bytes:
        return self._encoder.delta_frames(delta)

    def closing(self, completed: router_service_pb2.ExecuteCompleted, rolemodel: JSONObject) -> bytes:
        chunks = self._encoder.finish(completed.finish_reason, completed.usage)
        chunks[-1]["rolemodel"] = rolemodel
        return b"".join(openai_chat.chunk_frame(c) for c in chunks) + openai_chat.DONE_FRAME

    def error(self, error: HttpError) -> bytes:
        return openai_chat.chunk_frame(stream_error_event(Dialect.OPENAI, error))


class OpenAIChatCodec:
    dialect = Dialect.OPENAI

    def decode(self, body: Mapping[str, Any]) -> CanonicalRequest:
        return openai_chat.decode_request(body)

    def response_id(self, decision_id: str) -> str:
        return RESPONSE_ID_PREFIX + decision_id

    def encode(self, completion: Completion, body: Mapping[str, Any]) -> JSONObject:
        return openai_chat.encode_response(completion, created=int(time.time()))

    def writer(self, response_id: str, model: str, body: Mapping[str, Any]) -> ChatStreamWriter:
        return ChatStreamWriter(response_id, model, include_usage=openai_chat.stream_include_usage(body))
