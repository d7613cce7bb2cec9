"""The three dialects as the scripted backend speaks them: request decoding, bodies, streams, errors.

Everything on the wire goes through the SDK's codecs (:mod:`rolemodel.dialects`), so the backend
exercises exactly the translation the router uses; the error shapes and headers follow what each
provider really sends, so that clients (and the official SDKs) classify failures as they would
against the real service.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from rolemodel.dialects import anthropic_messages, openai_chat, openai_responses
from rolemodel.dialects.canonical import CanonicalRequest, Completion
from rolemodel.dialects.json_fields import JSONObject
from rolemodel.v1 import outcome_pb2, router_service_pb2
from rolemodel_router.backends.scripted.answers import ANTHROPIC, OPENAI, RESPONSES

SERVER_ERROR_MESSAGE = "The server had an error while processing your request."
#: A fixed epoch for ``created`` fields, so that answers are byte-for-byte reproducible.
CREATED_EPOCH = 1_700_000_000


@dataclass(frozen=True)
class StreamPlan:
    """A whole stream, as frames: before the first delta, one group per canonical delta, and after."""

    head: list[bytes]
    groups: list[bytes]
    tail: list[bytes]


class Wire(Protocol):
    dialect: str
    request_id_header: str
    invalid_frame: bytes

    def decode_request(self, body: Mapping[str, Any]) -> CanonicalRequest: ...

    def wants_stream_usage(self, body: Mapping[str, Any]) -> bool: ...

    def response_body(self, completion: Completion, sequence: int, body: Mapping[str, Any]) -> JSONObject: ...

    def stream_plan(
        self,
        completion: Completion,
        deltas: Sequence[router_service_pb2.ContentDelta],
        *,
        include_usage: bool,
        sequence: int,
        body: Mapping[str, Any],
    ) -> StreamPlan: ...

    def error_body(self, status: int, message: str, *, code: str | None = None) -> JSONObject: ...

    def stream_error_frame(self, status: int) -> bytes: ...

    def context_overflow_message(self, prompt_tokens: int, window: int) -> str: ...


class OpenAIChatWire:
    dialect = OPENAI
    request_id_header = "x-request-id"
    invalid_frame = b'data: {"id":"chatcmpl-broken","choices":[{"index":0,"delta":{"content":"trunc\n\n'

    def decode_request(self, body: Mapping[str, Any]) -> CanonicalRequest:
        return openai_chat.decode_request(body)

    def wants_stream_usage(self, body: Mapping[str, Any]) -> bool:
        return openai_chat.stream_include_usage(body)

    def response_body(self, completion: Completion, sequence: int, body: Mapping[str, Any]) -> JSONObject:
        return openai_chat.encode_response(completion, created=CREATED_EPOCH + sequence)

    def stream_plan(
        self,
        completion: Completion,
        deltas: Sequence[router_service_pb2.ContentDelta],
        *,
        include_usage: bool,
        sequence: int,
        body: Mapping[str, Any],
    ) -> StreamPlan:
        encoder = openai_chat.ChatStreamEncoder(
            response_id=completion.response_id,
            model=completion.model,
            created=CREATED_EPOCH + sequence,
            include_usage=include_usage,
        )
        frame = openai_chat.chunk_frame
        return StreamPlan(
            head=[frame(chunk) for chunk in encoder.start()],
            groups=[b"".join(frame(chunk) for chunk in encoder.delta(d)) for d in deltas],
            tail=[
                *(frame(c) for c in encoder.finish(completion.finish_reason, completion.usage)),
                openai_chat.DONE_FRAME,
            ],
        )

    def error_body(self, status: int, message: str, *, code: str | None = None) -> JSONObject:
        param = "messages" if code == openai_chat.errors.CONTEXT_LENGTH_EXCEEDED else None
        return openai_chat.encode_error(status, message, code=code, param=param)

    def stream_error_frame(self, status: int) -> bytes:
        error = openai_chat.ChatStreamEncoder(response_id="", model="").error(SERVER_ERROR_MESSAGE)
        return openai_chat.chunk_frame(error)

    def context_overflow_message(self, prompt_tokens: int, window: int) -> str:
        return (
            f"This model's maximum context length is {window} tokens. However, your messages resulted in "
            f"{prompt_tokens} tokens. Please reduce the length of the messages."
        )


class AnthropicMessagesWire:
    dialect = ANTHROPIC
    request_id_header = "request-id"
    invalid_frame = (
        b'event: content_block_delta\ndata: {"type":"content_block_delta","index":0,"delta":{"type":"text_de\n\n'
    )

    def decode_request(self, body: Mapping[str, Any]) -> CanonicalRequest:
        return anthropic_messages.decode_request(body)

    def wants_stream_usage(self, body: Mapping[str, Any]) -> bool:
        return True

    def response_body(self, completion: Completion, sequence: int, body: Mapping[str, Any]) -> JSONObject:
        return anthropic_messages.encode_response(completion)

    def stream_plan(
        self,
        completion: Completion,
        deltas: Sequence[router_service_pb2.ContentDelta],
        *,
        include_usage: bool,
        sequence: int,
        body: Mapping[str, Any],
    ) -> StreamPlan:
        encoder = anthropic_messages.MessagesStreamEncoder(response_id=completion.response_id, model=completion.model)
        prompt_usage = outcome_pb2.Usage()
        if completion.usage is not None:
            prompt_usage.CopyFrom(completion.usage)
            prompt_usage.output_tokens = 0
        frame = anthropic_messages.event_frame
        head = [frame(event) for event in encoder.start(prompt_usage)]
        groups = [b"".join(frame(event) for event in encoder.delta(d)) for d in deltas]
        finish = encoder.finish(completion.finish_reason, completion.usage, completion.stop_sequence)
        return StreamPlan(head=head, groups=groups, tail=[frame(event) for event in finish])

    def error_body(self, status: int, message: str, *, code: str | None = None) -> JSONObject:
        return anthropic_messages.encode_error(status, message)

    def stream_error_frame(self, status: int) -> bytes:
        kind = anthropic_messages.errors.error_type(status)
        message = "Overloaded" if kind == "overloaded_error" else SERVER_ERROR_MESSAGE
        encoder = anthropic_messages.MessagesStreamEncoder(response_id="", model="")
        return anthropic_messages.event_frame(encoder.error(message, error_type=kind))

    def context_overflow_message(self, prompt_tokens: int, window: int) -> str:
        return f"prompt is too long: {prompt_tokens} tokens > {window} maximum"


def _asks_for_encrypted(body: Mapping[str, Any]) -> bool:
    """Whether a Responses request's ``include`` lists ``reasoning.encrypted_content``.

    OpenAI returns a reasoning item's ``encrypted_content`` only then, and keeps the item (its id and
    summary) either way; answering so lets a check see a router that never asks an endpoint for it.
    Read here rather than with the codec's helper, so that a router patched to misread ``include``
    cannot change what the backend answers.
    """
    include = body.get("include")
    return isinstance(include, list) and "reasoning.encrypted_content" in include


class OpenAIResponsesWire:
    """The Responses API: ``response`` objects and the event stream as OpenAI sends them.

    The events come from the same codec the router's front door uses, whose every event type is
    checked against the ``openai`` SDK's Responses types in the tests, so what this backend sends
    is what the SDK (and Codex) parse.
    """

    dialect = RESPONSES
    request_id_header = "x-request-id"
    invalid_frame = b'event: response.output_text.delta\ndata: {"type":"response.output_text.delta","del\n\n'

    def decode_request(self, body: Mapping[str, Any]) -> CanonicalRequest:
        return openai_responses.decode_request(body)

    def wants_stream_usage(self, body: Mapping[str, Any]) -> bool:
        return True

    def response_body(self, completion: Completion, sequence: int, body: Mapping[str, Any]) -> JSONObject:
        return openai_responses.encode_response(
            completion, created_at=CREATED_EPOCH + sequence, keep_encrypted=_asks_for_encrypted(body)
        )

    def stream_plan(
        self,
        completion: Completion,
        deltas: Sequence[router_service_pb2.ContentDelta],
        *,
        include_usage: bool,
        sequence: int,
        body: Mapping[str, Any],
    ) -> StreamPlan:
        encoder = openai_responses.ResponsesStreamEncoder(
            response_id=completion.response_id,
            model=completion.model,
            created_at=CREATED_EPOCH + sequence,
            keep_encrypted=_asks_for_encrypted(body),
        )
        frame = openai_responses.event_frame
        return StreamPlan(
            head=[frame(event) for event in encoder.start()],
            groups=[b"".join(frame(event) for event in encoder.delta(d)) for d in deltas],
            tail=[frame(event) for event in encoder.finish(completion.finish_reason, completion.usage)],
        )

    def error_body(self, status: int, message: str, *, code: str | None = None) -> JSONObject:
        return openai_responses.encode_error(status, message, code=code)

    def stream_error_frame(self, status: int) -> bytes:
        encoder = openai_responses.ResponsesStreamEncoder(response_id="resp_failed", model="")
        return b"".join(openai_responses.event_frame(e) for e in encoder.failed(SERVER_ERROR_MESSAGE))

    def context_overflow_message(self, prompt_tokens: int, window: int) -> str:
        return OpenAIChatWire().context_overflow_message(prompt_tokens, window)
