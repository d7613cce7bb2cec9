"""Anthropic Messages request bodies to canonical requests and back.

Every top-level field is treated as :data:`.fields.REQUEST_FIELDS` says: ``model``, ``system`` (a
string or text blocks, which become one leading canonical system message), ``messages`` (see
:mod:`.blocks`), ``tools`` (custom tools with an ``input_schema``), ``max_tokens``,
``temperature``, ``stop_sequences``, ``stream``, ``output_config.format`` of type ``json_schema``
and the top-level ``cache_control`` (a breakpoint on the last non-reasoning part) here; thinking,
effort, tool choice, sampling and the fields passed through in :mod:`.params`. A field outside the
table, and a refused one, raise :class:`DialectError` naming it.

A user message that holds a ``tool_result`` block becomes a canonical tool message (with all its
blocks in order), and a canonical tool message becomes a user message again. ``cache_control``
on tool definitions is dropped: a breakpoint there only repeats the one the system prompt gets
(8.5), which the handoff places again. A tool with a ``type`` other than ``custom`` (a server tool
such as ``web_search_20250305``, or another tool Anthropic defines) is a hosted tool named by that
type and kept whole, which only Anthropic endpoints that list the type in ``hosted_tools`` receive.

Encoding needs a ``max_tokens``: a canonical 0 (the endpoint's default) becomes
``default_max_tokens``.

System text has two places. The top-level ``system`` is the system prompt, and decodes as one
leading canonical system message. A ``{"role": "system"}`` entry inside ``messages`` (Claude Code
sends them for models it does not know as Claude) is a system message at its place in the
conversation, and its content is a string or text blocks. Encoding puts the leading system
messages into ``system`` and keeps every later one in place as a ``role: "system"`` entry, so a
system message never moves relative to the turns around it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from rolemodel.dialects.anthropic_messages.blocks import ANTHROPIC, decode_block, decode_cache_control, encode_part
from rolemodel.dialects.anthropic_messages.fields import RULES
from rolemodel.dialects.anthropic_messages.params import decode_params, encode_params
from rolemodel.dialects.canonical import CanonicalRequest
from rolemodel.dialects.errors import DialectError
from rolemodel.dialects.field_rules import Treatment
from rolemodel.dialects.json_fields import (
    JSONObject,
    as_list,
    as_object,
    at,
    dumps_compact,
    loads_json,
    loads_object,
    opt_bool,
    opt_int,
    opt_list,
    opt_number,
    opt_object,
    opt_str,
    opt_str_list,
    req_str,
)
from rolemodel.v1 import conversation_pb2 as c
from rolemodel.v1 import router_service_pb2

#: The output limit sent when the canonical request leaves it to the endpoint.
DEFAULT_MAX_TOKENS = 4096


def decode_request(body: Mapping[str, Any], *, reasoning_provider: str = ANTHROPIC) -> CanonicalRequest:
    """The canonical request for a request body; raises :class:`DialectError` when it is malformed."""
    body = as_object(body, "")
    for key in body:
        rule = RULES.get(key)
        if rule is None:
            raise DialectError("is not supported by this router", path=key)
        if rule.treatment == Treatment.REFUSED and body[key] is not None:
            raise DialectError(f"is not supported: {rule.how}", path=key)
    messages = _decode_system(body.get("system"))
    messages.extend(
        decode_message(item, at("messages", i), reasoning_provider=reasoning_provider)
        for i, item in enumerate(as_list(body.get("messages"), "messages"))
    )
    top_level = decode_cache_control(body, "")
    if top_level is not None:
        _mark_last_cacheable(messages, top_level)
    request = CanonicalRequest(
        model=req_str(body, "model", ""),
        messages=messages,
        tools=[_decode_tool(item, at("tools", i)) for i, item in enumerate(opt_list(body, "tools", "") or [])],
        stream=bool(opt_bool(body, "stream", "")),
    )
    params = request.params
    params.max_output_tokens = opt_int(body, "max_tokens", "") or 0
    temperature = opt_number(body, "temperature", "")
    if temperature is not None:
        params.temperature = temperature
    params.stop.extend(opt_str_list(body, "stop_sequences", "") or [])
    output_format = opt_object(opt_object(body, "output_config", "") or {}, "format", "output_config")
    if output_format is not None and output_format.get("schema") is not None:
        params.response_json_schema = dumps_compact(output_format["schema"])
    decode_params(body, params)
    return request


def decode_message(item: object, path: str, *, reasoning_provider: str = ANTHROPIC) -> c.Message:
    obj = as_object(item, path)
    role = req_str(obj, "role", path)
    if role == "system":
        return c.Message(role=c.MESSAGE_ROLE_SYSTEM, parts=_system_parts(obj.get("content"), at(path, "content")))
    if role not in ("user", "assistant"):
        raise DialectError(f"unsupported role {role!r}", path=at(path, "role"))
    content = obj.get("content")
    if isinstance(content, str):
        parts = [c.ContentPart(text=c.TextPart(text=content))]
    else:
        parts = [
            decode_block(block, at(at(path, "content"), j), reasoning_provider=reasoning_provider)
            for j, block in enumerate(as_list(content, at(path, "content")))
        ]
    if role == "assistant":
        canonical_role = c.MESSAGE_ROLE_ASSISTANT
    elif any(p.WhichOneof("kind") == "tool_result" for p in parts):
        canonical_role = c.MESSAGE_ROLE_TOOL
    else:
        canonical_role = c.MESSAGE_ROLE_USER
    return c.Message(role=canonical_role, parts=parts)


def _decode_system(system: object) -> list[c.Message]:
    if system is None or system == "":
        return []
    parts = _system_parts(system, "system")
    return [c.Message(role=c.MESSAGE_ROLE_SYSTEM, parts=parts)] if parts else []


def _system_parts(content: object, path: str) -> list[c.ContentPart]:
    """The parts of system text: a string, or text blocks (which may carry breakpoints)."""
    if isinstance(content, str):
        return [c.ContentPart(text=c.TextPart(text=content))]
    parts = []
    for i, item in enumerate(as_list(content, path)):
        part = decode_block(item, at(path, i))
        if part.WhichOneof("kind") != "text":
            raise DialectError("system blocks must be text", path=at(path, i))
        parts.append(part)
    return parts


def _mark_last_cacheable(messages: list[c.Message], breakpoint_: c.CacheBreakpoint) -> None:
    for message in reversed(messages):
        for part in reversed(message.parts):
            if part.WhichOneof("kind") != "reasoning":
                if not part.HasField("cache_breakpoint"):
                    part.cache_breakpoint.CopyFrom(breakpoint_)
                return


def _decode_tool(item: object, path: str) -> c.ToolDefinition:
    obj = as_object(item, path)
    kind = opt_str(obj, "type", path)
    if kind not in (None, "custom"):
        kept = {key: value for key, value in obj.items() if key != "cache_control"}
        return c.ToolDefinition(name=kind, kind=c.TOOL_KIND_HOSTED, definition_json=dumps_compact(kept))
    schema = obj.get("input_schema")
    return c.ToolDefinition(
        name=req_str(obj, "name", path),
        description=opt_str(obj, "description", path) or "",
        parameters_json_schema="" if schema is None else dumps_compact(schema),
    )


def encode_request(
    request: CanonicalRequest,
    *,
    default_max_tokens: int = DEFAULT_MAX_TOKENS,
    reasoning_provider: str = ANTHROPIC,
    reasoning: bool = True,
) -> JSONObject:
    """A request body for ``request``; see the module docstring for what raises :class:`DialectError`.

    ``reasoning`` says whether the endpoint reasons; one that does not gets no thinking or effort.
    """
    system, messages = _split_system(request.messages)
    body: JSONObject = {
        "model": request.model,
        "max_tokens": request.params.max_output_tokens or default_max_tokens,
        "messages": encode_messages(messages, offset=len(system), reasoning_provider=reasoning_provider),
    }
    system_blocks = [
        encode_part(part, at(at("messages", i), j))
        for i, message in enumerate(system)
        for j, part in enumerate(message.parts)
    ]
    if system_blocks:
        body["system"] = system_blocks
    if request.tools:
        body["tools"] = [_encode_tool(tool, at("tools", i)) for i, tool in enumerate(request.tools)]
    params: router_service_pb2.GenerationParams = request.params
    if params.HasField("temperature"):
        body["temperature"] = params.temperature
    if params.stop:
        body["stop_sequences"] = list(params.stop)
    if params.response_json_schema:
        schema = loads_json(params.response_json_schema, "params.response_json_schema")
        body["output_config"] = {"format": {"type": "json_schema", "schema": schema}}
    encode_params(params, body, has_tools=bool(request.tools), reasoning=reasoning)
    if request.stream:
        body["stream"] = True
    return body


def _split_system(messages: Sequence[c.Message]) -> tuple[list[c.Message], list[c.Message]]:
    """The leading system messages (the top-level ``system``) and the rest of the conversation."""
    count = 0
    while count < len(messages) and messages[count].role == c.MESSAGE_ROLE_SYSTEM:
        _require_text(messages[count], at("messages", count))
        count += 1
    return list(messages[:count]), list(messages[count:])


def _require_text(message: c.Message, path: str) -> None:
    for j, part in enumerate(message.parts):
        if part.WhichOneof("kind") != "text":
            raise DialectError("a system message can only carry text", path=at(path, j))


def encode_messages(
    messages: Sequence[c.Message], *, offset: int = 0, reasoning_provider: str = ANTHROPIC
) -> list[JSONObject]:
    """Anthropic messages for canonical ones after the system prompt; ``offset`` shifts the paths in errors.

    A system message here is one in the middle of the conversation: it stays in place as a
    ``role: "system"`` entry, which carries text blocks only.
    """
    out: list[JSONObject] = []
    for i, message in enumerate(messages):
        path = at("messages", i + offset)
        if message.role == c.MESSAGE_ROLE_ASSISTANT:
            role = "assistant"
        elif message.role in (c.MESSAGE_ROLE_USER, c.MESSAGE_ROLE_TOOL):
            role = "user"
        elif message.role == c.MESSAGE_ROLE_SYSTEM:
            _require_text(message, path)
            role = "system"
        else:
            raise DialectError("message role is unspecified", path=path)
        content = [
            encode_part(part, at(path, j), reasoning_provider=reasoning_provider)
            for j, part in enumerate(message.parts)
        ]
        out.append({"role": role, "content": content})
    return out


def _encode_tool(tool: c.ToolDefinition, path: str) -> JSONObject:
    if tool.kind == c.TOOL_KIND_HOSTED:
        return dict(loads_object(tool.definition_json, at(path, "definition_json")))
    schema = (
        loads_json(tool.parameters_json_schema, at(path, "parameters_json_schema"))
        if tool.parameters_json_schema
        else {"type": "object", "properties": {}}
    )
    out: JSONObject = {"name": tool.name, "input_schema": schema}
    if tool.description:
        out["description"] = tool.description
    return out
