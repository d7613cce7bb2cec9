"""Every request field of ``POST /v1/responses`` and what the router does with it.

This table is the contract of the front door's Responses dialect: the request decoder refuses
any field that is not listed here, and refuses the listed ones that it cannot honour, each with a
400 that names the field. Spec chapter 14 renders it (tools/generate.py), so the prose cannot
drift from the code.
"""

from __future__ import annotations

from rolemodel.dialects.field_rules import FieldRule, Treatment

M, P, R = Treatment.MAPPED, Treatment.PASSED_THROUGH, Treatment.REFUSED

REQUEST_FIELDS: tuple[FieldRule, ...] = (
    FieldRule("model", M, "the model name the role is resolved from (14.3)"),
    FieldRule(
        "input",
        M,
        "a string (one user message) or items: messages, reasoning, function and custom tool calls "
        "and their outputs, hosted-tool items; other item types are refused",
    ),
    FieldRule("instructions", M, "a leading system message"),
    FieldRule(
        "tools",
        M,
        "function, custom and namespace tools, and hosted tools (every other type) for endpoints "
        "that list them in `hosted_tools`",
    ),
    FieldRule(
        "tool_choice", M, "`auto`, `none`, `required`, or a named function or custom tool; other forms are refused"
    ),
    FieldRule("parallel_tool_calls", M, "`GenerationParams.parallel_tool_calls`"),
    FieldRule(
        "reasoning",
        M,
        "`effort` (none to xhigh) and `summary` (auto, concise, detailed) as `GenerationParams.reasoning`",
    ),
    FieldRule(
        "include",
        M,
        "only `reasoning.encrypted_content`, which returns encrypted reasoning to the client; the "
        "router always asks Responses endpoints for it; other values are refused",
    ),
    FieldRule(
        "text", M, "`format` of type `text` or `json_schema` (its schema), and `verbosity`; `json_object` is refused"
    ),
    FieldRule("max_output_tokens", M, "`GenerationParams.max_output_tokens`"),
    FieldRule("temperature", M, "`GenerationParams.temperature`"),
    FieldRule("top_p", M, "`GenerationParams.top_p`"),
    FieldRule(
        "store",
        M,
        "the router stores no responses: every endpoint is called with `store: false` and the "
        "response says `store: false`",
    ),
    FieldRule("stream", M, "streams the answer as the Responses event sequence"),
    FieldRule(
        "stream_options",
        M,
        "`include_obfuscation: false` is accepted (the router adds no obfuscation); `true` is refused",
    ),
    FieldRule(
        "prompt_cache_key",
        M,
        "the conversation id when no `x-rolemodel-conversation` header is sent, "
        "and `GenerationParams.prompt_cache_key`",
    ),
    FieldRule(
        "truncation",
        M,
        "`disabled` (the default) is accepted; `auto` is refused, because the role's compaction policy decides (8.6)",
    ),
    FieldRule("background", M, "`false` is accepted; `true` is refused (no stored responses to poll)"),
    FieldRule("metadata", P, "`GenerationParams.metadata`"),
    FieldRule("client_metadata", P, "`GenerationParams.client_metadata`"),
    FieldRule("service_tier", P, "`GenerationParams.service_tier`"),
    FieldRule(
        "previous_response_id", R, "the router keeps no responses; send the whole conversation with `store: false`"
    ),
    FieldRule("conversation", R, "the router keeps no conversations; send the whole conversation"),
    FieldRule("prompt", R, "stored prompt templates live at OpenAI, not in the router"),
    FieldRule("user", R, "no canonical place; use `safety_identifier` at the provider directly"),
    FieldRule("safety_identifier", R, "no canonical place"),
    FieldRule("top_logprobs", R, "log probabilities are not carried"),
    FieldRule("max_tool_calls", R, "no canonical place"),
    FieldRule("prompt_cache_retention", R, "cache lifetimes come from the catalog (chapter 7)"),
    FieldRule("context_management", R, "the role's compaction policy decides (8.6)"),
)

RULES = {rule.name: rule for rule in REQUEST_FIELDS}
