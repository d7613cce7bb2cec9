"""OpenAI Responses error bodies: the same ``{"error": {...}}`` shape as Chat Completions.

The Responses API answers errors with OpenAI's common error object, so the codec reuses the Chat
Completions one; this module exists so that each dialect package offers the same names.
"""

from rolemodel.dialects.openai_chat.errors import decode_error, encode_error

__all__ = ["decode_error", "encode_error"]
