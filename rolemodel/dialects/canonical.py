"""The canonical envelopes around messages: a request, a completion, and finish reasons.

The proto defines messages, deltas, usage and generation parameters. A wire request and a wire
response also carry a model name and a few envelope fields; these dataclasses hold exactly the
envelope fields that every dialect can use, and nothing dialect-specific.

Finish reasons use the OpenAI vocabulary, like ``ExecuteCompleted.finish_reason``: ``stop``,
``length``, ``tool_calls`` and ``content_filter``. A reason a codec does not know passes through
unchanged, so that a new provider reason is visible rather than silently renamed.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from rolemodel.v1 import conversation_pb2, outcome_pb2, router_service_pb2

FINISH_STOP = "stop"
FINISH_LENGTH = "length"
FINISH_TOOL_CALLS = "tool_calls"
FINISH_CONTENT_FILTER = "content_filter"


@dataclass(slots=True)
class CanonicalRequest:
    """A generation request in canonical form: what a codec decodes from a request body.

    ``messages`` keeps the system prompt as leading ``MESSAGE_ROLE_SYSTEM`` messages in every
    dialect, so that digests and token counts do not depend on where a dialect puts it. A system
    message later in the conversation stays at its place (spec 4.1).
    """

    model: str
    messages: list[conversation_pb2.Message]
    tools: list[conversation_pb2.ToolDefinition] = field(default_factory=list)
    params: router_service_pb2.GenerationParams = field(default_factory=router_service_pb2.GenerationParams)
    stream: bool = False


@dataclass(frozen=True, slots=True)
class ServerTimings:
    """What a llama.cpp server measured for one answer (its ``timings`` object).

    ``cached_tokens`` (``cache_n``) prompt tokens came from the slot's cache and
    ``prefilled_tokens`` (``prompt_n``) were processed anew, at ``prefill_tokens_per_second``
    (``prompt_per_second``); ``output_tokens_per_second`` is ``predicted_per_second``.
    """

    cached_tokens: int
    prefilled_tokens: int
    prefill_tokens_per_second: float
    output_tokens: int
    output_tokens_per_second: float


@dataclass(slots=True)
class Completion:
    """A finished answer in canonical form: what a codec decodes from a response or a whole stream.

    ``usage`` follows the canonical convention (``input_tokens`` counts every prompt token, the
    cache fields are parts of it) and is ``None`` when the provider reported none, for example an
    OpenAI stream without ``stream_options.include_usage``. ``response_id`` is the provider's id of
    this response; it is not a server-side conversation handle, so it does not go into
    ``Message.provider_response_id``. ``stop_sequence`` is the stop sequence that ended the answer
    when the provider says which (Anthropic does, OpenAI does not).
    """

    message: conversation_pb2.Message
    finish_reason: str
    usage: outcome_pb2.Usage | None = None
    model: str = ""
    response_id: str = ""
    stop_sequence: str = ""
    timings: ServerTimings | None = None  # llama.cpp's measurements, when the server sent them


@dataclass(frozen=True)
class ProviderError:
    """An error answer of a provider, in canonical form: what a caller needs to classify it.

    ``error_type`` is the dialect's own type (``rate_limit_error``, ``server_error``, ...), ``code``
    the OpenAI-style machine code when there is one (``context_length_exceeded``), and
    ``context_overflow`` says whether the prompt was too long for the model, which each provider
    words differently and which a router answers differently from other client errors.
    """

    status: int
    error_type: str
    message: str
    code: str = ""
    context_overflow: bool = False
