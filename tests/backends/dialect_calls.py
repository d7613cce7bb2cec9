"""Request bodies and stream readers for the backend tests, built and read with the SDK codecs."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import httpx

from rolemodel.dialects import anthropic_messages, openai_chat
from rolemodel.dialects.canonical import CanonicalRequest, Completion
from rolemodel.v1 import conversation_pb2 as c
from rolemodel.v1 import router_service_pb2

OPENAI_PATH = "/v1/chat/completions"
ANTHROPIC_PATH = "/v1/messages"


def words(tokens: int, seed: str = "w") -> str:
    """Text that the normative estimate counts as exactly ``tokens`` tokens (4 ASCII bytes each)."""
    unit = (seed * 4)[:4]
    return unit * tokens


def text_part(text: str, *, ttl: int | None = None) -> c.ContentPart:
    part = c.ContentPart(text=c.TextPart(text=text))
    if ttl is not None:
        part.cache_breakpoint.ttl_seconds = ttl
    return part


def message(role: c.MessageRole.ValueType, *parts: c.ContentPart) -> c.Message:
    return c.Message(role=role, parts=list(parts))


def system(text: str, *, ttl: int | None = None) -> c.Message:
    return message(c.MESSAGE_ROLE_SYSTEM, text_part(text, ttl=ttl))


def user(text: str, *, ttl: int | None = None) -> c.Message:
    return message(c.MESSAGE_ROLE_USER, text_part(text, ttl=ttl))


def assistant(text: str) -> c.Message:
    return message(c.MESSAGE_ROLE_ASSISTANT, text_part(text))


def body(
    dialect: str,
    model: str,
    messages: Sequence[c.Message],
    *,
    stream: bool = False,
    tools: Sequence[c.ToolDefinition] = (),
) -> dict[str, Any]:
    request = CanonicalRequest(model=model, messages=list(messages), tools=list(tools), stream=stream)
    request.params.max_output_tokens = 256
    if dialect == "openai":
        return openai_chat.encode_request(request)
    return anthropic_messages.encode_request(request)


def path(dialect: str) -> str:
    return OPENAI_PATH if dialect == "openai" else ANTHROPIC_PATH


def post(
    client: httpx.Client, dialect: str, model: str, messages: Sequence[c.Message], **kwargs: Any
) -> httpx.Response:
    return client.post(path(dialect), json=body(dialect, model, messages, **kwargs))


def decode(dialect: str, response: httpx.Response) -> Completion:
    response.raise_for_status()
    if dialect == "openai":
        return openai_chat.decode_response(response.json())
    return anthropic_messages.decode_response(response.json())


class StreamReader:
    """Reads a streaming response with the dialect's decoder, keeping the deltas."""

    def __init__(self, dialect: str) -> None:
        self.decoder: openai_chat.ChatStreamDecoder | anthropic_messages.MessagesStreamDecoder = (
            openai_chat.ChatStreamDecoder() if dialect == "openai" else anthropic_messages.MessagesStreamDecoder()
        )
        self.deltas: list[router_service_pb2.ContentDelta] = []

    def read(self, response: httpx.Response) -> None:
        for chunk in response.iter_bytes():
            self.deltas.extend(self.decoder.feed_bytes(chunk))


def stream(
    client: httpx.Client, dialect: str, model: str, messages: Sequence[c.Message], **kwargs: Any
) -> tuple[httpx.Response, StreamReader]:
    """POST a streaming request and read it to the end; the reader holds what arrived."""
    reader = StreamReader(dialect)
    with client.stream("POST", path(dialect), json=body(dialect, model, messages, stream=True, **kwargs)) as response:
        if response.status_code == 200:
            reader.read(response)
        else:
            response.read()
    return response, reader
