"""Every request field of ``POST /v1/chat/completions``, and what the router does with it.

The decoder refuses any field that is not listed here, and the listed ones it cannot honour, each
with a 400 that names the field, so that nothing a client sends is dropped in silence. Fields that
are *passed through* travel in ``GenerationParams.passthrough`` and reach only endpoints that speak
Chat Completions, unchanged. Spec 14.11 lists this table.
"""

from __future__ import annotations

from rolemodel.dialects.field_rules import FieldRule, Treatment

M, P, R = Treatment.MAPPED, Treatment.PASSED_THROUGH, Treatment.REFUSED

#: The key prefix of this dialect's entries in ``GenerationParams.passthrough``.
PASSTHROUGH_PREFIX = "openai_chat:"

REQUEST_FIELDS: tuple[FieldRule, ...] = (
    FieldRule("model", M, "the model name the role is resolved from (14.3)"),
    FieldRule("messages", M, "system, developer, user, assistant and tool messages"),
    FieldRule("tools", M, "function tools; other types are refused"),
    FieldRule("tool_choice", M, "`auto`, `none`, `required` or a named function, as `GenerationParams.tool_choice`"),
    FieldRule("parallel_tool_calls", M, "`GenerationParams.parallel_tool_calls`"),
    FieldRule("max_completion_tokens", M, "`GenerationParams.max_output_tokens`"),
    FieldRule("max_tokens", M, "`GenerationParams.max_output_tokens`, when `max_completion_tokens` is absent"),
    FieldRule("temperature", M, "`GenerationParams.temperature`"),
    FieldRule("top_p", M, "`GenerationParams.top_p`"),
    FieldRule("stop", M, "`GenerationParams.stop`"),
    FieldRule("seed", M, "`GenerationParams.seed`"),
    FieldRule(
        "reasoning_effort",
        M,
        "`GenerationParams.reasoning.effort`; Anthropic endpoints get it as thinking and `output_config.effort`",
    ),
    FieldRule("response_format", M, "`text`, or `json_schema` as `response_json_schema`; `json_object` is refused"),
    FieldRule("stream", M, "streams the answer as `chat.completion.chunk` objects"),
    FieldRule("stream_options", M, "`include_usage`: whether the stream ends with the usage chunk"),
    FieldRule("n", M, "1 is accepted; more than one choice is refused"),
    FieldRule("logprobs", M, "`false` is accepted; `true` is refused, log probabilities are not carried"),
    FieldRule("prompt_cache_key", M, "`GenerationParams.prompt_cache_key`"),
    FieldRule("frequency_penalty", P, "Chat Completions endpoints only"),
    FieldRule("presence_penalty", P, "Chat Completions endpoints only"),
    FieldRule("logit_bias", P, "token ids belong to one tokenizer; Chat Completions endpoints only"),
    FieldRule("user", P, "Chat Completions endpoints only"),
    FieldRule("safety_identifier", P, "Chat Completions endpoints only"),
    FieldRule("metadata", P, "Chat Completions endpoints only"),
    FieldRule("service_tier", P, "OpenAI's tiers mean nothing to other providers; Chat Completions endpoints only"),
    FieldRule("verbosity", P, "Chat Completions endpoints only"),
    FieldRule("top_logprobs", R, "log probabilities are not carried"),
    FieldRule("modalities", R, "only text output is carried"),
    FieldRule("audio", R, "only text output is carried"),
    FieldRule("prediction", R, "no canonical place"),
    FieldRule("web_search_options", R, "hosted search is not offered through Chat Completions"),
    FieldRule("functions", R, "the legacy function fields are not supported: use `tools`"),
    FieldRule("function_call", R, "the legacy function fields are not supported: use `tool_choice`"),
    FieldRule("store", R, "the router stores no completions"),
    FieldRule("prompt_cache_retention", R, "cache lifetimes come from the catalog (chapter 7)"),
)

RULES = {rule.name: rule for rule in REQUEST_FIELDS}
