"""OpenAI Responses ``response`` objects to canonical completions and back.

Usage: ``input_tokens`` counts every prompt token and ``input_tokens_details.cached_tokens`` the
cached part, as the canonical usage does; ``output_tokens_details.reasoning_tokens`` is
``Usage.reasoning_tokens``; ``input_tokens_details.cache_write_tokens`` (newer API versions) is
``Usage.cache_write_tokens``.

Finish reasons: a response with a function or custom tool call finished with ``tool_calls``; an
``incomplete`` one with ``length`` (``max_output_tokens``) or ``content_filter``; any other with
``stop``. Encoding inverts this, so ``length`` is an ``incomplete`` response.

The echo fields a response object repeats from its request (``tools``, ``tool_choice``,
``parallel_tool_calls``, ``reasoning``, ``text``, ...) come from the client's request body:
:func:`echo_fields` picks them.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from rolemodel.dialects.canonical import (
    FINISH_CONTENT_FILTER,
    FINISH_LENGTH,
    FINISH_STOP,
    FINISH_TOOL_CALLS,
    Completion,
)
from rolemodel.dialects.errors import DialectError
from rolemodel.dialects.json_fields import JSONObject, as_list, as_object, at, opt_int, opt_object, opt_str
from rolemodel.dialects.openai_responses.items import ItemIds, decode_output_item, encode_assistant_items
from rolemodel.v1 import conversation_pb2, outcome_pb2

_INCOMPLETE_REASONS = {"max_output_tokens": FINISH_LENGTH, "content_filter": FINISH_CONTENT_FILTER}
_ECHO_DEFAULTS: JSONObject = {
    "instructions": None,
    "max_output_tokens": None,
    "metadata": {},
    "parallel_tool_calls": True,
    "reasoning": None,
    "service_tier": None,
    "temperature": None,
    "text": {"format": {"type": "text"}},
    "tool_choice": "auto",
    "tools": [],
    "top_p": None,
    "truncation": "disabled",
}


def echo_fields(body: Mapping[str, Any]) -> JSONObject:
    """The request fields a response object repeats, with the API's defaults for those not sent."""
    return {
        key: body.get(key, default) if body.get(key) is not None else default for key, default in _ECHO_DEFAULTS.items()
    }


def decode_output(items: object, path: str = "output") -> conversation_pb2.Message:
    """The assistant message of a response's ``output`` items."""
    message = conversation_pb2.Message(role=conversation_pb2.MESSAGE_ROLE_ASSISTANT)
    for i, item in enumerate(as_list(items, path)):
        obj = as_object(item, at(path, i))
        if obj.get("type") == "message":
            for j, piece in enumerate(as_list(obj.get("content") or [], at(at(path, i), "content"))):
                part = as_object(piece, at(at(at(path, i), "content"), j))
                text = opt_str(part, "text", at(path, i)) if part.get("type") == "output_text" else None
                text = text if text is not None else opt_str(part, "refusal", at(path, i))
                if text is None:
                    raise DialectError(
                        f"message content of type {part.get('type')!r} is not supported", path=at(path, i)
                    )
                message.parts.add().text.text = text
        else:
            message.parts.append(decode_output_item(obj, at(path, i)))
    return message


def finish_reason(status: str, incomplete: Mapping[str, Any] | None, message: conversation_pb2.Message) -> str:
    if status == "incomplete":
        reason = opt_str(incomplete or {}, "reason", "incomplete_details") or ""
        return _INCOMPLETE_REASONS.get(reason, reason or FINISH_LENGTH)
    if any(part.HasField("tool_call") for part in message.parts):
        return FINISH_TOOL_CALLS
    return FINISH_STOP


def decode_response(body: Mapping[str, Any]) -> Completion:
    """The canonical completion for a ``response`` object."""
    body = as_object(body, "")
    message = decode_output(body.get("output") or [])
    usage = opt_object(body, "usage", "")
    return Completion(
        message=message,
        finish_reason=finish_reason(
            opt_str(body, "status", "") or "completed", opt_object(body, "incomplete_details", ""), message
        ),
        usage=None if usage is None else decode_usage(usage, "usage"),
        model=opt_str(body, "model", "") or "",
        response_id=opt_str(body, "id", "") or "",
    )


def decode_usage(obj: Mapping[str, Any], path: str) -> outcome_pb2.Usage:
    inputs = opt_object(obj, "input_tokens_details", path) or {}
    outputs = opt_object(obj, "output_tokens_details", path) or {}
    return outcome_pb2.Usage(
        input_tokens=opt_int(obj, "input_tokens", path) or 0,
        cache_read_tokens=opt_int(inputs, "cached_tokens", at(path, "input_tokens_details")) or 0,
        cache_write_tokens=opt_int(inputs, "cache_write_tokens", at(path, "input_tokens_details")) or 0,
        output_tokens=opt_int(obj, "output_tokens", path) or 0,
        reasoning_tokens=opt_int(outputs, "reasoning_tokens", at(path, "output_tokens_details")) or 0,
    )


def encode_usage(usage: outcome_pb2.Usage) -> JSONObject:
    return {
        "input_tokens": usage.input_tokens,
        "input_tokens_details": {
            "cached_tokens": usage.cache_read_tokens,
            "cache_write_tokens": usage.cache_write_tokens,
        },
        "output_tokens": usage.output_tokens,
        "output_tokens_details": {"reasoning_tokens": usage.reasoning_tokens},
        "total_tokens": usage.input_tokens + usage.output_tokens,
    }


def status_of(reason: str) -> tuple[str, JSONObject | None]:
    """The response status and ``incomplete_details`` for a canonical finish reason."""
    if reason == FINISH_LENGTH:
        return "incomplete", {"reason": "max_output_tokens"}
    if reason == FINISH_CONTENT_FILTER:
        return "incomplete", {"reason": "content_filter"}
    return "completed", None


def response_object(
    *,
    response_id: str,
    model: str,
    created_at: int,
    status: str,
    output: list[JSONObject],
    echo: Mapping[str, Any],
    usage: outcome_pb2.Usage | None = None,
    ending: JSONObject | None = None,
) -> JSONObject:
    """A ``response`` object; every stream event that carries one and the non-streaming answer use it.

    ``ending`` sets ``error`` (a failed response) or ``incomplete_details`` (an incomplete one).
    """
    ending = ending or {}
    return {
        "id": response_id,
        "object": "response",
        "created_at": created_at,
        "status": status,
        "error": ending.get("error"),
        "incomplete_details": ending.get("incomplete_details"),
        "model": model,
        "output": output,
        **echo,
        "store": False,
        "usage": None if usage is None else encode_usage(usage),
    }


def encode_response(
    completion: Completion, *, created_at: int = 0, echo: Mapping[str, Any] | None = None, keep_encrypted: bool = True
) -> JSONObject:
    """A complete ``response`` object; ``keep_encrypted`` false leaves reasoning's encrypted content out."""
    output = encode_assistant_items(completion.message, ids=ItemIds(completion.response_id))
    if not keep_encrypted:
        for item in output:
            item.pop("encrypted_content", None)
    status, incomplete = status_of(completion.finish_reason)
    return response_object(
        response_id=completion.response_id,
        model=completion.model,
        created_at=created_at,
        status=status,
        output=output,
        echo=echo if echo is not None else echo_fields({}),
        usage=completion.usage,
        ending={"incomplete_details": incomplete},
    )
