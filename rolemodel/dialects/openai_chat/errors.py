"""OpenAI error bodies: ``{"error": {"message", "type", "param", "code"}}``, both directions.

Compatible servers vary: some send ``{"error": "text"}``, some ``{"detail": ...}``, some plain
text or HTML from a proxy. Decoding accepts all of them and keeps whatever text there is, because
the caller classifies by status first and only refines with the body.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from rolemodel.dialects.canonical import ProviderError
from rolemodel.dialects.json_fields import JSONObject

CONTEXT_LENGTH_EXCEEDED = "context_length_exceeded"
_OVERFLOW_PHRASES = ("maximum context length", "context length", "context window", "too many tokens")


def encode_error(status: int, message: str, *, code: str | None = None, param: str | None = None) -> JSONObject:
    """The body OpenAI sends with ``status``: type ``requests`` for 429, ``server_error`` for 5xx."""
    if status == 429:  # noqa: PLR2004 - HTTP status
        kind = "requests"
    elif status >= 500:  # noqa: PLR2004 - HTTP status
        kind = "server_error"
    else:
        kind = "invalid_request_error"
    return {"error": {"message": message, "type": kind, "param": param, "code": code}}


def decode_error(status: int, body: bytes | Mapping[str, Any]) -> ProviderError:
    """The canonical error for an error answer's status and body (raw bytes or parsed JSON)."""
    document: Any = body
    if isinstance(body, bytes):
        try:
            document = json.loads(body)
        except ValueError:
            text = body.decode(errors="replace").strip()
            return ProviderError(status, "", text, context_overflow=_overflow(status, "", text))
    error = document.get("error") if isinstance(document, Mapping) else None
    if isinstance(error, Mapping):
        message = str(error.get("message") or "")
        kind = str(error.get("type") or "")
        code = str(error.get("code") or "")
    else:
        message = str(error or (document.get("detail") if isinstance(document, Mapping) else document) or "")
        kind, code = "", ""
    return ProviderError(status, kind, message, code, _overflow(status, code, message))


def _overflow(status: int, code: str, message: str) -> bool:
    if code == CONTEXT_LENGTH_EXCEEDED:
        return True
    lowered = message.lower()
    return status in (400, 413) and any(phrase in lowered for phrase in _OVERFLOW_PHRASES)
