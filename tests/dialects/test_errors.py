"""Provider error bodies: real shapes decode to a classification, and encoded errors decode back."""

from __future__ import annotations

import pytest

from rolemodel.dialects import anthropic_messages, openai_chat

OPENAI_RATE_LIMIT = (
    b'{"error": {"message": "Rate limit reached for gpt-4.1 in organization org-x on tokens per min (TPM): '
    b'Limit 30000, Used 30000, Requested 1200.", "type": "tokens", "param": null, "code": "rate_limit_exceeded"}}'
)
OPENAI_OVERFLOW = (
    b'{"error": {"message": "This model\'s maximum context length is 128000 tokens. However, your messages '
    b'resulted in 130511 tokens. Please reduce the length of the messages.", "type": "invalid_request_error", '
    b'"param": "messages", "code": "context_length_exceeded"}}'
)
ANTHROPIC_OVERFLOW = (
    b'{"type": "error", "error": {"type": "invalid_request_error", "message": "prompt is too long: 208923 tokens > '
    b'200000 maximum"}, "request_id": "req_011CS"}'
)


def test_openai_rate_limit_and_context_overflow() -> None:
    limited = openai_chat.decode_error(429, OPENAI_RATE_LIMIT)
    assert (limited.error_type, limited.code, limited.context_overflow) == ("tokens", "rate_limit_exceeded", False)
    assert limited.message.startswith("Rate limit reached")
    overflow = openai_chat.decode_error(400, OPENAI_OVERFLOW)
    assert overflow.context_overflow and overflow.code == "context_length_exceeded"


@pytest.mark.parametrize(
    ("status", "body", "message", "overflow"),
    [
        (502, b"<html><body>502 Bad Gateway</body></html>", "<html><body>502 Bad Gateway</body></html>", False),
        (
            400,
            b'{"error": "the input exceeds the context window of 8192"}',
            "the input exceeds the context window of 8192",
            True,
        ),
        (422, b'{"detail": "bad field"}', "bad field", False),
        (400, {"object": "error", "message": "x"}, "", False),
    ],
)
def test_compatible_servers_error_shapes(
    status: int, body: bytes | dict[str, str], message: str, overflow: bool
) -> None:
    error = openai_chat.decode_error(status, body)
    assert (error.status, error.message, error.context_overflow) == (status, message, overflow)


def test_anthropic_overflow_overload_and_plain_text() -> None:
    overflow = anthropic_messages.decode_error(400, ANTHROPIC_OVERFLOW)
    assert (overflow.error_type, overflow.context_overflow) == ("invalid_request_error", True)
    overloaded = anthropic_messages.decode_error(
        529, b'{"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}'
    )
    assert (overloaded.error_type, overloaded.message, overloaded.context_overflow) == (
        "overloaded_error",
        "Overloaded",
        False,
    )
    proxy = anthropic_messages.decode_error(503, b"upstream connect error")
    assert (proxy.error_type, proxy.message) == ("", "upstream connect error")


@pytest.mark.parametrize("status", [400, 401, 403, 404, 413, 429, 500, 503, 529])
def test_encoded_errors_decode_back(status: int) -> None:
    openai = openai_chat.decode_error(status, openai_chat.encode_error(status, "m", code="c"))
    assert (openai.status, openai.message, openai.code) == (status, "m", "c")
    anthropic = anthropic_messages.decode_error(status, anthropic_messages.encode_error(status, "m"))
    assert (anthropic.message, anthropic.error_type) == ("m", anthropic_messages.errors.error_type(status))
    assert anthropic.error_type == {429: "rate_limit_error", 529: "overloaded_error", 500: "api_error"}.get(
        status, anthropic.error_type
    )
