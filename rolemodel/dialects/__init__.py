"""Dialect codecs: translate between the canonical proto messages and provider wire formats.

The canonical form (``rolemodel.v1`` ``Message``, ``ContentPart``, ``ContentDelta``, ``Usage``,
``GenerationParams``) is the one internal representation. Every dialect has a codec in its own
subpackage, in both directions, for request bodies, non-streaming responses and streams:

- :mod:`rolemodel.dialects.openai_chat`: the OpenAI Chat Completions API (``POST /v1/chat/completions``),
  which OpenAI-compatible servers (vLLM, llama.cpp, Ollama, LM Studio, DeepSeek) also speak;
- :mod:`rolemodel.dialects.anthropic_messages`: the Anthropic Messages API (``POST /v1/messages``).

Shared pieces: :mod:`.canonical` (the request and completion envelopes and finish reasons),
:mod:`.field_rules` (the vocabulary of each dialect's request-field table),
:mod:`.sse` (Server-Sent Events framing), :mod:`.accumulator` (canonical deltas to a message),
:mod:`.deltas` (a message to canonical deltas) and :mod:`.errors`.

A round trip loses nothing the dialect can express. What a dialect cannot express is listed in
the docstring of its subpackage; encoders drop metadata the dialect has no place for (a reasoning
signature in OpenAI, a cache breakpoint in OpenAI) and raise :class:`~rolemodel.dialects.errors.DialectError`
for content whose meaning would change (an image inside an OpenAI tool result, a foreign reasoning
signature sent to Anthropic). The handoff rules (spec chapter 8) run before a codec, so that
the codec never has to choose what to drop from a conversation.
"""
