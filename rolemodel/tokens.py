"""The normative token estimate (spec chapter 4.4).

Used only when a client sends no token counts. It is deliberately simple and
deterministic, so that any implementation in any language gets the same
number, and every decision that uses it says so (``VALUE_SOURCE_ESTIMATED``
and reason ``TOKENS_ESTIMATED``). It is not a tokenizer: real counts from the
client always win.

    text         ceil(utf8_bytes / 4)
    image        1024
    tool call    8 + ceil(utf8_bytes(name + arguments_json) / 4)
    tool result  8 + the estimate of its content
    reasoning    ceil(utf8_bytes(text) / 4), or of the signature when redacted
    message      4 + the sum of its parts
    tool         8 + ceil(utf8_bytes(name + description + parameters) / 4)
"""

from __future__ import annotations

from collections.abc import Iterable

from rolemodel.v1 import conversation_pb2

MESSAGE_OVERHEAD_TOKENS = 4
IMAGE_TOKENS = 1024
TOOL_OVERHEAD_TOKENS = 8


def estimate_text_tokens(text: str) -> int:
    """ceil(UTF-8 bytes / 4)."""
    return -(-len(text.encode()) // 4)


def _content_tokens(piece: conversation_pb2.ToolResultContent) -> int:
    if piece.WhichOneof("kind") == "image":
        return IMAGE_TOKENS
    return estimate_text_tokens(piece.text.text)


def estimate_part_tokens(part: conversation_pb2.ContentPart) -> int:
    kind = part.WhichOneof("kind")
    if kind == "text":
        return estimate_text_tokens(part.text.text)
    if kind == "image":
        return IMAGE_TOKENS
    if kind == "tool_call":
        return TOOL_OVERHEAD_TOKENS + estimate_text_tokens(part.tool_call.name + part.tool_call.arguments_json)
    if kind == "tool_result":
        return TOOL_OVERHEAD_TOKENS + sum(_content_tokens(c) for c in part.tool_result.content)
    if kind == "reasoning":
        r = part.reasoning
        return estimate_text_tokens(r.signature if r.redacted else r.text)
    if kind == "hosted_tool":
        return TOOL_OVERHEAD_TOKENS + estimate_text_tokens(part.hosted_tool.item_json)
    return 0


def estimate_message_tokens(message: conversation_pb2.Message) -> int:
    return MESSAGE_OVERHEAD_TOKENS + sum(estimate_part_tokens(p) for p in message.parts)


def estimate_tools_tokens(tools: Iterable[conversation_pb2.ToolDefinition]) -> int:
    """Function tools by name, description and schema; other kinds by their definition; namespaces by their tools."""
    total = 0
    for t in tools:
        if t.kind == conversation_pb2.TOOL_KIND_NAMESPACE:
            total += estimate_tools_tokens(t.tools)  # as many as when a dialect offers its tools one by one
        elif t.kind in (conversation_pb2.TOOL_KIND_CUSTOM, conversation_pb2.TOOL_KIND_HOSTED):
            total += TOOL_OVERHEAD_TOKENS + estimate_text_tokens(t.name + t.description + t.definition_json)
        else:
            total += TOOL_OVERHEAD_TOKENS + estimate_text_tokens(t.name + t.description + t.parameters_json_schema)
    return total
