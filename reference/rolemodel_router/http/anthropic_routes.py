"""``POST /v1/messages``: the Anthropic Messages dialect on the front door.

Requests and answers go through :mod:`rolemodel.dialects.anthropic_messages`: system blocks,
tool use and results, thinking blocks with their signatures and ``cache_control`` breakpoints
all reach the router in canonical form, so the handoff rules of chapter 8 apply unchanged. A
stream is Anthropic's event sequence; its ``message_delta`` carries the ``rolemodel`` member.

Thinking from another provider. A client of this dialect shows any reasoning as a thinking
block, but only Anthropic signs them. Reasoning that another provider produced is sent with an
empty signature, and a thinking block that comes back without a signature is decoded as
unsigned reasoning of no provider (the codec would otherwise take it for Anthropic's). So the
handoff drops it or turns it into text before it could reach Anthropic, which would refuse an
unsigned block (RM-HANDOFF-002).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from rolemodel.dialects import anthropic_messages
from rolemodel.dialects.anthropic_messages.blocks import ANTHROPIC
from rolemodel.dialects.canonical import CanonicalRequest, Completion
from rolemodel.dialects.json_fields import JSONObject
from rolemodel.v1 import conversation_pb2, router_service_pb2
from rolemodel_router.http.errors import Dialect, HttpError, stream_error_event

RESPONSE_ID_PREFIX = "msg_"
UNSIGNED_PROVIDER = ""


def carry_beta_header(headers: Mapping[str, str], canonical: CanonicalRequest) -> None:
    """``anthropic-beta`` goes with the request to Anthropic endpoints, which need it for the beta fields passed on."""
    beta = headers.get("anthropic-beta")
    if beta:
        canonical.params.passthrough[anthropic_messages.BETA_HEADER_KEY] = beta


def mark_unsigned_reasoning(messages: list[conversation_pb2.Message]) -> None:
    """Unsigned thinking blocks are nobody's: Anthropic signs every block it produces."""
    for message in messages:
        for part in message.parts:
            if part.WhichOneof("kind") == "reasoning" and not part.reasoning.signature:
                part.reasoning.provider = UNSIGNED_PROVIDER


def as_displayable(message: conversation_pb2.Message) -> conversation_pb2.Message:
    """A copy whose reasoning of other providers shows as unsigned thinking, which this dialect can carry."""
    shown = conversation_pb2.Message()
    shown.CopyFrom(message)
    for part in shown.parts:
        if part.WhichOneof("kind") == "reasoning" and part.reasoning.provider != ANTHROPIC:
            text = "" if part.reasoning.redacted else part.reasoning.text
            part.reasoning.CopyFrom(conversation_pb2.ReasoningPart(text=text, provider=ANTHROPIC))
    return shown


class MessagesStreamWriter:
    def __init__(self, response_id: str, model: str) -> None:
        self._encoder = anthropic_messages.MessagesStreamEncoder(response_id=response_id, model=model)

    def opening(self, rolemodel: JSONObject | None) -> bytes:
        events = self._encoder.start()
        if rolemodel is not None:
            events[0]["rolemodel"] = rolemodel
        return b"".join(anthropic_messages.event_frame(e) for e in events)

    def plan_usage(self, events: list[dict[str, Any]]) -> bytes:
        """This dialect has no event for a plan's usage; its headers carry it (spec 14.5)."""
        return b""

    def delta(self, delta: router_service_pb2.ContentDelta) -> bytes:
        return b"".join(anthropic_messages.event_frame(e) for e in self._encoder.delta(delta))

    def closing(self, completed: router_service_pb2.ExecuteCompleted, rolemodel: JSONObject) -> bytes:
        events = self._encoder.finish(completed.finish_reason, completed.usage)
        for event in events:
            if event["type"] == "message_delta":
                event["rolemodel"] = rolemodel
        return b"".join(anthropic_messages.event_frame(e) for e in events)

    def error(self, error: HttpError) -> bytes:
        return anthropic_messages.event_frame(stream_error_event(Dialect.ANTHROPIC, error))


class AnthropicMessagesCodec:
    dialect = Dialect.ANTHROPIC

    def decode(self, body: Mapping[str, Any]) -> CanonicalRequest:
        request = anthropic_messages.decode_request(body)
        mark_unsigned_reasoning(request.messages)
        return request

    def response_id(self, decision_id: str) -> str:
        return RESPONSE_ID_PREFIX + decision_id

    def encode(self, completion: Completion, body: Mapping[str, Any]) -> JSONObject:
        completion.message = as_displayable(completion.message)
        return anthropic_messages.encode_response(completion)

    def writer(self, response_id: str, model: str, body: Mapping[str, Any]) -> MessagesStreamWriter:
        return MessagesStreamWriter(response_id, model)
