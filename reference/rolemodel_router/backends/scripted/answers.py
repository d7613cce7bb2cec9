"""Turn a scripted :class:`Reply` into a canonical completion, with ids in the dialect's format.

Ids are derived from the model name and the request's sequence number, so that a run is
reproducible while each request still gets distinct ids, in the shapes real providers use
(``chatcmpl-``/``call_`` for OpenAI Chat Completions, ``resp_``/``call_`` with ``rs_`` and ``fc_``
item ids for the Responses API, ``msg_``/``toolu_`` for Anthropic): the router's tool-call id
remapping meets real formats. Responses reasoning comes as OpenAI does it: the reasoning as a
summary, and an opaque ``encrypted_content`` that only this backend's model may receive back
(on the wire only when the request's ``include`` asks for it, as :mod:`.wire` encodes it).
"""

from __future__ import annotations

import base64
import hashlib

from rolemodel.dialects.canonical import FINISH_STOP, FINISH_TOOL_CALLS, Completion
from rolemodel.tokens import estimate_part_tokens
from rolemodel.v1 import conversation_pb2, outcome_pb2
from rolemodel_router.backends.scripted.script import Reply

OPENAI = "openai_chat"
ANTHROPIC = "anthropic_messages"
RESPONSES = "openai_responses"
_PREFIXES = {OPENAI: ("chatcmpl-", "call_"), ANTHROPIC: ("msg_", "toolu_"), RESPONSES: ("resp_", "call_")}


def _token(*parts: object) -> str:
    digest = hashlib.sha256("/".join(str(p) for p in parts).encode()).digest()
    return base64.b32encode(digest).decode().rstrip("=").lower()[:24]


def response_id(dialect: str, model: str, sequence: int) -> str:
    return _PREFIXES[dialect][0] + _token(model, sequence)


def build_completion(
    reply: Reply, *, dialect: str, model: str, sequence: int, prompt_usage: outcome_pb2.Usage
) -> Completion:
    """The answer to one request; ``prompt_usage`` carries the prompt and cache tokens, output is added here."""
    message = conversation_pb2.Message(role=conversation_pb2.MESSAGE_ROLE_ASSISTANT)
    if reply.reasoning:
        reasoning = message.parts.add().reasoning
        reasoning.text = reply.reasoning
        if dialect == ANTHROPIC:
            reasoning.provider = "anthropic"
            reasoning.signature = (
                reply.signature or base64.b64encode(_token("signature", model, sequence).encode()).decode()
            )
        elif dialect == RESPONSES:
            reasoning.provider = "openai"
            reasoning.summary.append(reply.reasoning)
            reasoning.text = ""
            reasoning.item_id = "rs_" + _token("reasoning", model, sequence)
            reasoning.signature = reply.signature or "enc_" + _token("encrypted", model, sequence, reply.reasoning)
    if reply.text:
        message.parts.add().text.text = reply.text
    for index, call in enumerate(reply.tool_calls):
        message.parts.add().tool_call.CopyFrom(
            conversation_pb2.ToolCallPart(
                id=call.id or _PREFIXES[dialect][1] + _token(model, sequence, index),
                name=call.name,
                arguments_json=call.arguments_json(),
                item_id="fc_" + _token("item", model, sequence, index) if dialect == RESPONSES else "",
            )
        )
    usage = outcome_pb2.Usage()
    usage.CopyFrom(prompt_usage)
    if reply.output_tokens is not None:
        usage.output_tokens = reply.output_tokens
    else:
        usage.output_tokens = sum(estimate_part_tokens(p) for p in message.parts)
    finish = reply.finish_reason or (FINISH_TOOL_CALLS if reply.tool_calls else FINISH_STOP)
    return Completion(
        message=message,
        finish_reason=finish,
        usage=usage,
        model=model,
        response_id=response_id(dialect, model, sequence),
        stop_sequence=reply.stop_sequence,
    )
