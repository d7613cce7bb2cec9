"""Every request field of ``POST /v1/messages`` (and the ``anthropic-beta`` header), and what the router does with it.

The decoder refuses any field that is not listed here, and the listed ones it cannot honour, each
with a 400 that names the field, so that nothing a client sends is dropped in silence. Fields that
are *passed through* travel in ``GenerationParams.passthrough`` and reach only endpoints that speak
the Messages API, unchanged; other dialects have no place for them. Spec 14.11 lists this table.
"""

from __future__ import annotations

from rolemodel.dialects.field_rules import FieldRule, Treatment

M, P, R = Treatment.MAPPED, Treatment.PASSED_THROUGH, Treatment.REFUSED

#: The key prefix of this dialect's entries in ``GenerationParams.passthrough``.
PASSTHROUGH_PREFIX = "anthropic_messages:"
#: The passthrough key of the ``anthropic-beta`` header.
BETA_HEADER_KEY = PASSTHROUGH_PREFIX + "header:anthropic-beta"

REQUEST_FIELDS: tuple[FieldRule, ...] = (
    FieldRule("model", M, "the model name the role is resolved from (14.3)"),
    FieldRule(
        "messages",
        M,
        "user, assistant and `system` entries with text, image, tool use and result, thinking and redacted "
        "thinking blocks, and the blocks of server tools (`server_tool_use`, `*_tool_result`) as hosted-tool "
        "items for Anthropic endpoints; other block types are refused",
    ),
    FieldRule("system", M, "the leading system message"),
    FieldRule("max_tokens", M, "`GenerationParams.max_output_tokens`"),
    FieldRule("stop_sequences", M, "`GenerationParams.stop`"),
    FieldRule("temperature", M, "`GenerationParams.temperature`"),
    FieldRule("top_p", M, "`GenerationParams.top_p`"),
    FieldRule("stream", M, "streams the answer as the Messages event sequence"),
    FieldRule(
        "tools",
        M,
        "custom tools; a tool with another `type` (server tools such as `web_search_20250305`) is a hosted "
        "tool, sent unchanged to Anthropic endpoints that list that type in `hosted_tools` and to no other",
    ),
    FieldRule(
        "tool_choice",
        M,
        "`auto`, `any` (required), `none`, or `tool` with a name, as `GenerationParams.tool_choice`; "
        "`disable_parallel_tool_use` as `parallel_tool_calls: false`",
    ),
    FieldRule(
        "thinking",
        M,
        "`enabled` with `budget_tokens` as `reasoning.budget_tokens`, `adaptive` as `reasoning.adaptive`, "
        "`disabled` as `reasoning.effort: none`; `display` is passed through",
    ),
    FieldRule(
        "output_config",
        M,
        "`format` of type `json_schema` as `response_json_schema`; `effort` as `reasoning.effort` "
        "(`max` is `xhigh` for other dialects and passed through unchanged to Anthropic)",
    ),
    FieldRule("cache_control", M, "a breakpoint on the last cacheable block (8.5)"),
    FieldRule("metadata", M, "`user_id` as `GenerationParams.metadata`; other keys are refused"),
    FieldRule("top_k", P, "no canonical place; Anthropic endpoints only"),
    FieldRule("service_tier", P, "Anthropic's tiers (`auto`, `standard_only`) mean nothing to other providers"),
    FieldRule("context_management", P, "Anthropic's context editing, for Anthropic endpoints only"),
    FieldRule("speed", P, "Anthropic endpoints only"),
    FieldRule("inference_geo", P, "Anthropic endpoints only"),
    FieldRule("container", R, "a code-execution container lives at Anthropic, not in the router"),
    FieldRule("mcp_servers", R, "the router does not call MCP servers for the model"),
)

RULES = {rule.name: rule for rule in REQUEST_FIELDS}

#: The request headers of the dialect that carry meaning for the model, and what happens to them.
HEADER_RULES: tuple[FieldRule, ...] = (
    FieldRule(
        "anthropic-beta",
        P,
        "sent unchanged to Anthropic endpoints, which need it for the beta fields passed through with it",
    ),
)
