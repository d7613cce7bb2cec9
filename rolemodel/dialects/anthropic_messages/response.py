"""Anthropic Messages responses (``type: message``) to canonical completions and back.

Usage: Anthropic's ``input_tokens`` counts only the prompt tokens that were neither read from
nor written to the cache. The canonical ``input_tokens`` counts every prompt token (the OpenAI
convention), so decoding adds the two cache fields to it and encoding subtracts them again.
The split of cache writes by TTL is ``cache_write_long_ttl_tokens``, from
``cache_creation.ephemeral_1h_input_tokens``; the 5-minute part is the rest of the writes. Encoding
writes ``cache_creation`` when some writes had the long TTL.

Stop reasons: ``end_turn`` and ``stop_sequence`` are ``stop`` (the matched sequence is kept in
``Completion.stop_sequence``, so it survives a round trip), ``max_tokens`` and
``model_context_window_exceeded`` are ``length``, ``tool_use`` is ``tool_calls`` and
``refusal`` is ``content_filter``. Other reasons (``pause_turn``) pass through unchanged.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from rolemodel.dialects.anthropic_messages.blocks import ANTHROPIC, decode_block, encode_part
from rolemodel.dialects.canonical import (
    FINISH_CONTENT_FILTER,
    FINISH_LENGTH,
    FINISH_STOP,
    FINISH_TOOL_CALLS,
    Completion,
)
from rolemodel.dialects.errors import DialectError
from rolemodel.dialects.json_fields import JSONObject, as_list, as_object, at, opt_int, opt_object, opt_str
from rolemodel.v1 import conversation_pb2, outcome_pb2

_STOP_REASONS = {
    "end_turn": FINISH_STOP,
    "stop_sequence": FINISH_STOP,
    "max_tokens": FINISH_LENGTH,
    "model_context_window_exceeded": FINISH_LENGTH,
    "tool_use": FINISH_TOOL_CALLS,
    "refusal": FINISH_CONTENT_FILTER,
}
_FINISH_REASONS = {
    FINISH_STOP: "end_turn",
    FINISH_LENGTH: "max_tokens",
    FINISH_TOOL_CALLS: "tool_use",
    FINISH_CONTENT_FILTER: "refusal",
}


def decode_response(body: Mapping[str, Any], *, reasoning_provider: str = ANTHROPIC) -> Completion:
    """The canonical completion for a ``message`` body."""
    body = as_object(body, "")
    message = conversation_pb2.Message(
        role=conversation_pb2.MESSAGE_ROLE_ASSISTANT,
        parts=[
            decode_block(block, at("content", i), reasoning_provider=reasoning_provider)
            for i, block in enumerate(as_list(body.get("content") or [], "content"))
        ],
    )
    usage = opt_object(body, "usage", "")
    stop_reason = opt_str(body, "stop_reason", "")
    return Completion(
        message=message,
        finish_reason=decode_stop_reason(stop_reason),
        usage=None if usage is None else decode_usage(usage, "usage"),
        model=opt_str(body, "model", "") or "",
        response_id=opt_str(body, "id", "") or "",
        stop_sequence=opt_str(body, "stop_sequence", "") or "",
    )


def encode_response(completion: Completion, *, reasoning_provider: str = ANTHROPIC) -> JSONObject:
    """A ``message`` body; Anthropic always reports usage, so a missing one is all zeros."""
    content = [
        encode_part(part, at("content", i), reasoning_provider=reasoning_provider)
        for i, part in enumerate(completion.message.parts)
    ]
    return {
        "id": completion.response_id,
        "type": "message",
        "role": "assistant",
        "model": completion.model,
        "content": content,
        "stop_reason": encode_stop_reason(completion.finish_reason, completion.stop_sequence),
        "stop_sequence": completion.stop_sequence or None,
        "usage": encode_usage(completion.usage or outcome_pb2.Usage()),
    }


def decode_stop_reason(reason: str | None) -> str:
    if reason is None:
        return ""
    return _STOP_REASONS.get(reason, reason)


def encode_stop_reason(finish_reason: str, stop_sequence: str = "") -> str:
    if finish_reason in ("", FINISH_STOP) and stop_sequence:
        return "stop_sequence"
    return _FINISH_REASONS.get(finish_reason or FINISH_STOP, finish_reason)


def decode_usage(obj: Mapping[str, Any], path: str) -> outcome_pb2.Usage:
    read = opt_int(obj, "cache_read_input_tokens", path) or 0
    write = opt_int(obj, "cache_creation_input_tokens", path) or 0
    creation = opt_object(obj, "cache_creation", path) or {}
    long_ttl = opt_int(creation, "ephemeral_1h_input_tokens", at(path, "cache_creation")) or 0
    return outcome_pb2.Usage(
        input_tokens=(opt_int(obj, "input_tokens", path) or 0) + read + write,
        cache_read_tokens=read,
        cache_write_tokens=write,
        output_tokens=opt_int(obj, "output_tokens", path) or 0,
        cache_write_long_ttl_tokens=min(long_ttl, write),
    )


def encode_usage(usage: outcome_pb2.Usage) -> JSONObject:
    """Anthropic usage; raises :class:`DialectError` when the cache parts exceed the whole prompt."""
    uncached = usage.input_tokens - usage.cache_read_tokens - usage.cache_write_tokens
    if uncached < 0:
        raise DialectError(
            f"usage reads {usage.cache_read_tokens} and writes {usage.cache_write_tokens} cached tokens "
            f"of only {usage.input_tokens} prompt tokens"
        )
    encoded: JSONObject = {
        "input_tokens": uncached,
        "cache_creation_input_tokens": usage.cache_write_tokens,
        "cache_read_input_tokens": usage.cache_read_tokens,
        "output_tokens": usage.output_tokens,
    }
    if usage.cache_write_long_ttl_tokens:
        long_ttl = min(usage.cache_write_long_ttl_tokens, usage.cache_write_tokens)
        encoded["cache_creation"] = {
            "ephemeral_5m_input_tokens": usage.cache_write_tokens - long_ttl,
            "ephemeral_1h_input_tokens": long_ttl,
        }
    return encoded
