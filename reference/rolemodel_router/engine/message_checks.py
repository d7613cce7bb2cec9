"""The rules for one message's content and the conversation's id (spec 5.2), and the tool-loop test (spec 4.5).

Checks add to a :class:`Violations` and never raise, so that one error reports every problem.
Field paths are built only for violations: these run on every message a router has not seen before.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from rolemodel.v1 import conversation_pb2
from rolemodel_router.engine.errors import Violations
from rolemodel_router.engine.limits import Limits

CONVERSATION_ID = re.compile(r"^[A-Za-z0-9._:/-]{1,128}$")
ROLES = frozenset(conversation_pb2.MessageRole.values()) - {conversation_pb2.MESSAGE_ROLE_UNSPECIFIED}


def check_string(v: Violations, field: str, value: str, limit: int) -> None:
    if len(value.encode()) > limit:
        v.add(field, f"longer than {limit} bytes")


def check_message(v: Violations, path: str, message: conversation_pb2.Message, limits: Limits) -> bool:
    """Violations of one message's content; returns whether it holds an image."""
    has_image = False
    if message.role not in ROLES:
        v.add(f"{path}.role", "must be system, user, assistant or tool")
    check_string(v, f"{path}.origin_endpoint_id", message.origin_endpoint_id, limits.max_string_bytes)
    check_string(v, f"{path}.provider_response_id", message.provider_response_id, limits.max_string_bytes)
    for j, part in enumerate(message.parts):
        where = f"{path}.parts[{j}]"
        kind = part.WhichOneof("kind")
        if kind is None:
            v.add(where, "a content part needs a kind")
        elif kind == "text":
            check_string(v, f"{where}.text.text", part.text.text, limits.max_text_bytes)
        elif kind == "image":
            has_image = True
            check_string(v, f"{where}.image.media_type", part.image.media_type, limits.max_string_bytes)
        elif kind == "tool_call":
            check_string(v, f"{where}.tool_call.id", part.tool_call.id, limits.max_string_bytes)
            check_string(v, f"{where}.tool_call.name", part.tool_call.name, limits.max_string_bytes)
            check_string(v, f"{where}.tool_call.arguments_json", part.tool_call.arguments_json, limits.max_text_bytes)
        elif kind == "tool_result":
            check_string(v, f"{where}.tool_result.tool_call_id", part.tool_result.tool_call_id, limits.max_string_bytes)
            for k, piece in enumerate(part.tool_result.content):
                if piece.WhichOneof("kind") == "image":
                    has_image = True
                elif piece.WhichOneof("kind") == "text":
                    check_string(
                        v, f"{where}.tool_result.content[{k}].text.text", piece.text.text, limits.max_text_bytes
                    )
                else:
                    v.add(f"{where}.tool_result.content[{k}]", "a tool result part needs a kind")
        elif kind == "reasoning":
            check_string(v, f"{where}.reasoning.text", part.reasoning.text, limits.max_text_bytes)
            check_string(v, f"{where}.reasoning.signature", part.reasoning.signature, limits.max_text_bytes)
            check_string(v, f"{where}.reasoning.provider", part.reasoning.provider, limits.max_string_bytes)
    return has_image


def tool_loop(messages: Sequence[conversation_pb2.Message]) -> bool:
    """Whether the prompt ends with the results of the newest assistant message's tool calls (spec 4.5).

    Reads from the end back to that assistant message only, so a long conversation costs no more.
    """
    for index in range(len(messages) - 1, -1, -1):
        message = messages[index]
        if message.role == conversation_pb2.MESSAGE_ROLE_ASSISTANT:
            made_calls = any(p.WhichOneof("kind") == "tool_call" for p in message.parts)
            after = messages[index + 1 :]
            return (
                made_calls
                and bool(after)
                and all(p.WhichOneof("kind") == "tool_result" for m in after for p in m.parts)
                and all(m.parts for m in after)
            )
    return False
