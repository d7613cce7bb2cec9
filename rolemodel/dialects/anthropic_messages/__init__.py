"""The Anthropic Messages dialect (``POST /v1/messages``).

Modules: :mod:`.blocks` (content blocks and cache breakpoints), :mod:`.request` (request bodies),
:mod:`.response` (``message`` bodies, usage and stop reasons), :mod:`.stream_decode` and
:mod:`.stream_encode` (SSE events), :mod:`.errors` (error bodies).

What this dialect cannot express, and what the codec therefore does with it:

- system messages after the first non-system message: :class:`DialectError`; several leading
  system messages become one list of system blocks, so they come back as one message;
- reasoning from another provider (it would carry a foreign signature): :class:`DialectError`;
- tool-call arguments as text: Anthropic carries a JSON object, so the text comes back compact
  (same value, whitespace and duplicate keys lost); arguments that are not an object raise;
- cache breakpoint TTLs other than 0 (default), 300 and 3600 seconds: rounded up to 5m or 1h;
- an image URL's media type (a URL carries none): decoded as empty;
- an image's ``description``: dropped;
- empty system text: dropped;
- the usage's split of cache writes by TTL, and stop reasons without a canonical name other than
  by passing them through (``pause_turn``);
- request fields outside the canonical form: passed through or refused, see :mod:`.fields`;
- in streams, a thinking block with a signature but no text: it comes back as redacted.
"""

from rolemodel.dialects.anthropic_messages.errors import decode_error, encode_error
from rolemodel.dialects.anthropic_messages.fields import BETA_HEADER_KEY, PASSTHROUGH_PREFIX, REQUEST_FIELDS
from rolemodel.dialects.anthropic_messages.request import decode_request, encode_request
from rolemodel.dialects.anthropic_messages.response import decode_response, encode_response
from rolemodel.dialects.anthropic_messages.stream_decode import MessagesStreamDecoder
from rolemodel.dialects.anthropic_messages.stream_encode import MessagesStreamEncoder, event_frame

__all__ = [
    "BETA_HEADER_KEY",
    "PASSTHROUGH_PREFIX",
    "REQUEST_FIELDS",
    "MessagesStreamDecoder",
    "MessagesStreamEncoder",
    "decode_error",
    "decode_request",
    "decode_response",
    "encode_error",
    "encode_request",
    "encode_response",
    "event_frame",
]
