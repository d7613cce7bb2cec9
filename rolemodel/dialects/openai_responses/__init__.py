"""The OpenAI Responses dialect (``POST /v1/responses``).

Modules: :mod:`.fields` (what happens to every request field), :mod:`.request` (request bodies),
:mod:`.items` (input and output items), :mod:`.tools` (tools and ``tool_choice``),
:mod:`.response` (``response`` objects and usage), :mod:`.stream_decode` and
:mod:`.stream_encode` (the event stream), :mod:`.errors` (error bodies).

What this dialect cannot express, and what the codec therefore does with it:

- reasoning of another provider: its text travels as a reasoning item's ``reasoning_text``
  content without encrypted content; such reasoning is left out of requests to a Responses
  endpoint, which accepts reasoning only with OpenAI's encrypted content;
- Anthropic signatures and redacted reasoning: dropped;
- cache breakpoints (OpenAI caches automatically): dropped;
- stop sequences: refused on encode (:class:`DialectError`); a seed: left out;
- a tool result's ``is_error`` flag: dropped;
- item ids and statuses of input messages, and output text annotations: not kept;
- request fields outside the canonical form: see :mod:`.fields`.
"""

from rolemodel.dialects.field_rules import FieldRule, Treatment
from rolemodel.dialects.openai_responses.errors import decode_error, encode_error
from rolemodel.dialects.openai_responses.fields import REQUEST_FIELDS
from rolemodel.dialects.openai_responses.request import decode_request, encode_request, includes_encrypted_reasoning
from rolemodel.dialects.openai_responses.response import decode_response, echo_fields, encode_response
from rolemodel.dialects.openai_responses.stream_decode import ResponsesStreamDecoder
from rolemodel.dialects.openai_responses.stream_encode import ResponsesStreamEncoder, event_frame

__all__ = [
    "REQUEST_FIELDS",
    "FieldRule",
    "ResponsesStreamDecoder",
    "ResponsesStreamEncoder",
    "Treatment",
    "decode_error",
    "decode_request",
    "decode_response",
    "echo_fields",
    "encode_error",
    "encode_request",
    "encode_response",
    "event_frame",
    "includes_encrypted_reasoning",
]
