"""The OpenAI Chat Completions dialect (``POST /v1/chat/completions``).

Modules: :mod:`.messages` (messages), :mod:`.request` (request bodies), :mod:`.response`
(``chat.completion`` bodies and usage), :mod:`.stream` (SSE chunks, both directions),
:mod:`.errors` (error bodies).

What this dialect cannot express, and what the codec therefore does with it:

- reasoning signatures, redacted reasoning and the reasoning's provider: dropped on encode; the
  ``reasoning_content`` extension (DeepSeek, vLLM) carries reasoning text only, and several
  reasoning parts of one message are joined;
- cache breakpoints (OpenAI caches automatically): dropped;
- a tool result's ``is_error`` flag: dropped; images inside a tool result: :class:`DialectError`;
- the position of text relative to tool calls in an assistant message: text comes first;
- a canonical tool message with several results: one ``tool`` message per result;
- an image URL's media type (a URL carries none): decoded as empty;
- an image's ``description`` (never sent to a model anyway): dropped;
- cache writes in the usage (OpenAI reports none);
- the ``developer`` role: decoded as system, encoded as ``system``;
- request fields outside the canonical form: see :mod:`.request`.
"""

from rolemodel.dialects.openai_chat.errors import decode_error, encode_error
from rolemodel.dialects.openai_chat.request import decode_request, encode_request, stream_include_usage
from rolemodel.dialects.openai_chat.response import decode_response, encode_response
from rolemodel.dialects.openai_chat.stream import DONE_FRAME, ChatStreamDecoder, ChatStreamEncoder, chunk_frame

__all__ = [
    "DONE_FRAME",
    "ChatStreamDecoder",
    "ChatStreamEncoder",
    "chunk_frame",
    "decode_error",
    "decode_request",
    "decode_response",
    "encode_error",
    "encode_request",
    "encode_response",
    "stream_include_usage",
]
