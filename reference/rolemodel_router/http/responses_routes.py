"""``POST /v1/responses``: the OpenAI Responses dialect on the front door.

Requests and answers go through :mod:`rolemodel.dialects.openai_responses`, whose field table
decides what happens to every request field. The router is stateless towards the client: it
keeps no responses, so ``store`` is always false in what it answers and ``previous_response_id``
is refused (the client sends the whole conversation, as Codex does with ``store: false``).

Errors before the stream starts have OpenAI's error shape, which the Responses API shares. A
failure after the stream started ends it with ``response.failed``, the event Codex and the SDK
read; its ``error.code`` is one of the API's codes (``rate_limit_exceeded`` for 429,
``invalid_prompt`` for other client errors, ``server_error`` otherwise), and its message starts
with the protocol's reason. The ``rolemodel`` member rides on ``response.created`` (the decision,
when asked) and on the final event (the completion summary).

Encrypted reasoning reaches the client only when its request included
``reasoning.encrypted_content``; the router itself always asks Responses endpoints for it.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any

from rolemodel.dialects import openai_responses
from rolemodel.dialects.canonical import CanonicalRequest, Completion
from rolemodel.dialects.json_fields import JSONObject
from rolemodel.v1 import router_service_pb2
from rolemodel_router.http.errors import Dialect, HttpError

RESPONSE_ID_PREFIX = "resp_"
TOO_MANY_REQUESTS = 429
SERVER_ERRORS = 500


def error_code(status: int) -> str:
    """The Responses API error code closest to an HTTP status."""
    if status == TOO_MANY_REQUESTS:
        return "rate_limit_exceeded"
    return "server_error" if status >= SERVER_ERRORS else "invalid_prompt"


class ResponsesStreamWriter:
    def __init__(self, response_id: str, model: str, body: Mapping[str, Any]) -> None:
        self._encoder = openai_responses.ResponsesStreamEncoder(
            response_id=response_id,
            model=model,
            created_at=int(time.time()),
            echo=openai_responses.echo_fields(body),
            keep_encrypted=openai_responses.includes_encrypted_reasoning(body),
        )

    def opening(self, rolemodel: JSONObject | None) -> bytes:
        events = self._encoder.start()
        if rolemodel is not None:
            events[0]["rolemodel"] = rolemodel
        return b"".join(openai_responses.event_frame(e) for e in events)

    def delta(self, delta: router_service_pb2.ContentDelta) -> bytes:
        return b"".join(openai_responses.event_frame(e) for e in self._encoder.delta(delta))

    def plan_usage(self, events: list[dict[str, Any]]) -> bytes:
        """``codex.rate_limits`` events, passed on numbered in the stream's sequence, as Codex reads them."""
        return b"".join(openai_responses.event_frame(self._encoder.provider_event(e)) for e in events)

    def closing(self, completed: router_service_pb2.ExecuteCompleted, rolemodel: JSONObject) -> bytes:
        events = self._encoder.finish(completed.finish_reason, completed.usage)
        events[-1]["rolemodel"] = rolemodel
        return b"".join(openai_responses.event_frame(e) for e in events)

    def error(self, error: HttpError) -> bytes:
        events = self._encoder.failed(error.message, code=error_code(error.status))
        events[-1]["response"]["error"]["details"] = error.details
        return b"".join(openai_responses.event_frame(e) for e in events)


class OpenAIResponsesCodec:
    dialect = Dialect.OPENAI

    def decode(self, body: Mapping[str, Any]) -> CanonicalRequest:
        return openai_responses.decode_request(body)

    def response_id(self, decision_id: str) -> str:
        return RESPONSE_ID_PREFIX + decision_id

    def encode(self, completion: Completion, body: Mapping[str, Any]) -> JSONObject:
        return openai_responses.encode_response(
            completion,
            created_at=int(time.time()),
            echo=openai_responses.echo_fields(body),
            keep_encrypted=openai_responses.includes_encrypted_reasoning(body),
        )

    def writer(self, response_id: str, model: str, body: Mapping[str, Any]) -> ResponsesStreamWriter:
        return ResponsesStreamWriter(response_id, model, body)
