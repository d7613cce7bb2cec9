"""Anthropic error bodies: ``{"type": "error", "error": {"type", "message"}}``, both directions.

The error type follows the status (``rate_limit_error`` for 429, ``overloaded_error`` for 529,
``api_error`` for other 5xx). A prompt longer than the context window is an
``invalid_request_error`` whose message starts ``prompt is too long``; decoding recognises it.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from rolemodel.dialects.canonical import ProviderError
from rolemodel.dialects.json_fields import JSONObject

_TYPES = {
    400: "invalid_request_error",
    401: "authentication_error",
    403: "permission_error",
    404: "not_found_error",
    413: "request_too_large",
    429: "rate_limit_error",
    529: "overloaded_error",
}
_OVERFLOW_PHRASES = ("prompt is too long", "context window", "exceed context limit")


def error_type(status: int) -> str:
    return _TYPES.get(status, "api_error" if status >= 500 else "invalid_request_error")  # noqa: PLR2004 - HTTP status


def encode_error(status: int, message: str) -> JSONObject:
    return {"type": "error", "error": {"type": error_type(status), "message": message}}


def decode_error(status: int, body: bytes | Mapping[str, Any]) -> ProviderError:
    """The canonical error for an error answer's status and body (raw bytes or parsed JSON)."""
    document: Any = body
    if isinstance(body, bytes):
        try:
            document = json.loads(body)
        except ValueError:
            document = {"error": {"message": body.decode(errors="replace").strip()}}
    error = document.get("error") if isinstance(document, Mapping) else None
    error = error if isinstance(error, Mapping) else {"message": str(error or "")}
    message = str(error.get("message") or "")
    kind = str(error.get("type") or "")
    overflow = status in (400, 413) and any(phrase in message.lower() for phrase in _OVERFLOW_PHRASES)
    return ProviderError(status, kind, message, context_overflow=overflow)
