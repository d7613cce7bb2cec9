"""OpenAI Chat Completions responses (``chat.completion``) to canonical completions and back.

Usage maps one to one with the canonical convention: ``prompt_tokens`` already counts every
prompt token, and ``prompt_tokens_details.cached_tokens`` is the cached part. DeepSeek reports
``prompt_cache_hit_tokens`` instead, which is read when the details are absent. OpenAI has no
field for cache writes (its automatic cache charges none), so ``cache_write_tokens`` is lost on
encode; reasoning-token details are not part of the canonical usage.

llama.cpp's server adds a ``timings`` object (``cache_n``, ``prompt_n``, ``prompt_per_second``,
``predicted_n``, ``predicted_per_second``); it is read into :class:`ServerTimings` when present and
never written.

Only the first choice is read: the canonical form has one answer per request (``n`` is not
carried). Finish reasons are already the canonical vocabulary; the legacy ``function_call``
reads as ``tool_calls``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from rolemodel.dialects.canonical import FINISH_STOP, FINISH_TOOL_CALLS, Completion, ServerTimings
from rolemodel.dialects.errors import DialectError
from rolemodel.dialects.json_fields import (
    JSONObject,
    as_object,
    at,
    opt_int,
    opt_list,
    opt_number,
    opt_object,
    opt_str,
)
from rolemodel.dialects.openai_chat.messages import decode_assistant, encode_assistant
from rolemodel.v1 import outcome_pb2


def decode_response(body: Mapping[str, Any], *, reasoning_provider: str = "") -> Completion:
    """The canonical completion for a ``chat.completion`` body."""
    body = as_object(body, "")
    choices = opt_list(body, "choices", "") or []
    if not choices:
        raise DialectError("a response needs at least one choice", path="choices")
    choice = as_object(choices[0], "choices[0]")
    message = opt_object(choice, "message", "choices[0]")
    if message is None:
        raise DialectError("is required", path="choices[0].message")
    usage = opt_object(body, "usage", "")
    return Completion(
        message=decode_assistant(message, "choices[0].message", reasoning_provider=reasoning_provider),
        finish_reason=decode_finish_reason(opt_str(choice, "finish_reason", "choices[0]")),
        usage=None if usage is None else decode_usage(usage, "usage"),
        model=opt_str(body, "model", "") or "",
        response_id=opt_str(body, "id", "") or "",
        timings=decode_timings(body, ""),
    )


def decode_timings(obj: Mapping[str, Any], path: str) -> ServerTimings | None:
    """llama.cpp's ``timings``, or None when the object carries none."""
    timings = opt_object(obj, "timings", path)
    if timings is None:
        return None
    where = at(path, "timings")
    return ServerTimings(
        cached_tokens=opt_int(timings, "cache_n", where) or 0,
        prefilled_tokens=opt_int(timings, "prompt_n", where) or 0,
        prefill_tokens_per_second=opt_number(timings, "prompt_per_second", where) or 0.0,
        output_tokens=opt_int(timings, "predicted_n", where) or 0,
        output_tokens_per_second=opt_number(timings, "predicted_per_second", where) or 0.0,
    )


def encode_response(completion: Completion, *, created: int = 0) -> JSONObject:
    """A ``chat.completion`` body; ``created`` is the Unix time the answer was made."""
    message = encode_assistant(completion.message)
    message["refusal"] = None
    body: JSONObject = {
        "id": completion.response_id,
        "object": "chat.completion",
        "created": created,
        "model": completion.model,
        "choices": [
            {"index": 0, "message": message, "finish_reason": completion.finish_reason or FINISH_STOP, "logprobs": None}
        ],
    }
    if completion.usage is not None:
        body["usage"] = encode_usage(completion.usage)
    return body


def decode_finish_reason(reason: str | None) -> str:
    if reason is None:
        return ""
    return FINISH_TOOL_CALLS if reason == "function_call" else reason


def decode_usage(obj: Mapping[str, Any], path: str) -> outcome_pb2.Usage:
    details = opt_object(obj, "prompt_tokens_details", path)
    cached = opt_int(details, "cached_tokens", at(path, "prompt_tokens_details")) if details else None
    if cached is None:
        cached = opt_int(obj, "prompt_cache_hit_tokens", path)
    return outcome_pb2.Usage(
        input_tokens=opt_int(obj, "prompt_tokens", path) or 0,
        cache_read_tokens=cached or 0,
        output_tokens=opt_int(obj, "completion_tokens", path) or 0,
    )


def encode_usage(usage: outcome_pb2.Usage) -> JSONObject:
    return {
        "prompt_tokens": usage.input_tokens,
        "completion_tokens": usage.output_tokens,
        "total_tokens": usage.input_tokens + usage.output_tokens,
        "prompt_tokens_details": {"cached_tokens": usage.cache_read_tokens},
    }
