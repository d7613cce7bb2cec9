"""OpenAI Responses tools and ``tool_choice`` to canonical ones and back.

Every tool keeps the client's own definition as ``definition_json``, so that a Responses endpoint
receives it unchanged (``strict``, a custom tool's grammar, a hosted tool's settings), while the
canonical fields carry what other dialects need:

- ``function``: name, description and parameter schema (kind FUNCTION);
- ``custom``: name and description; the model answers with free text (kind CUSTOM);
- ``namespace``: its name, description and nested function and custom tools (kind NAMESPACE);
- every other type (``web_search``, ``file_search``, ``mcp``, ...) is a hosted tool (kind HOSTED),
  named by its type. Routing sends it only to endpoints that list that type in ``hosted_tools``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from rolemodel.dialects.errors import DialectError
from rolemodel.dialects.json_fields import (
    JSONObject,
    as_list,
    as_object,
    at,
    dumps_compact,
    loads_json,
    loads_object,
    opt_str,
    req_str,
)
from rolemodel.v1 import conversation_pb2 as c
from rolemodel.v1 import router_service_pb2 as r

_MODES = {
    "auto": r.TOOL_CHOICE_MODE_AUTO,
    "none": r.TOOL_CHOICE_MODE_NONE,
    "required": r.TOOL_CHOICE_MODE_REQUIRED,
}
_MODE_NAMES = {mode: name for name, mode in _MODES.items()}


def decode_tools(value: object, path: str = "tools") -> list[c.ToolDefinition]:
    return [decode_tool(item, at(path, i)) for i, item in enumerate(as_list(value, path))]


def decode_tool(item: object, path: str, *, nested: bool = False) -> c.ToolDefinition:
    obj = as_object(item, path)
    kind = req_str(obj, "type", path)
    definition = dumps_compact(obj)
    if kind == "function":
        parameters = obj.get("parameters")
        return c.ToolDefinition(
            name=req_str(obj, "name", path),
            description=opt_str(obj, "description", path) or "",
            parameters_json_schema="" if parameters is None else dumps_compact(parameters),
            kind=c.TOOL_KIND_FUNCTION,
            definition_json=definition,
        )
    if kind == "custom":
        return c.ToolDefinition(
            name=req_str(obj, "name", path),
            description=opt_str(obj, "description", path) or "",
            kind=c.TOOL_KIND_CUSTOM,
            definition_json=definition,
        )
    if nested:
        raise DialectError(f"a namespace can hold function and custom tools, not {kind!r}", path=at(path, "type"))
    if kind == "namespace":
        members = as_list(obj.get("tools"), at(path, "tools"))
        return c.ToolDefinition(
            name=req_str(obj, "name", path),
            description=opt_str(obj, "description", path) or "",
            kind=c.TOOL_KIND_NAMESPACE,
            definition_json=definition,
            tools=[decode_tool(t, at(at(path, "tools"), i), nested=True) for i, t in enumerate(members)],
        )
    return c.ToolDefinition(name=kind, kind=c.TOOL_KIND_HOSTED, definition_json=definition)


def encode_tools(tools: list[c.ToolDefinition]) -> list[JSONObject]:
    return [encode_tool(tool, at("tools", i)) for i, tool in enumerate(tools)]


def encode_tool(tool: c.ToolDefinition, path: str) -> JSONObject:
    """The client's own definition when there is one, else one built from the canonical fields."""
    if tool.definition_json:
        return dict(loads_object(tool.definition_json, at(path, "definition_json")))
    if tool.kind == c.TOOL_KIND_HOSTED:
        return {"type": tool.name}
    if tool.kind == c.TOOL_KIND_NAMESPACE:
        members = [encode_tool(t, at(at(path, "tools"), i)) for i, t in enumerate(tool.tools)]
        return {"type": "namespace", "name": tool.name, "description": tool.description, "tools": members}
    if tool.kind == c.TOOL_KIND_CUSTOM:
        out: JSONObject = {"type": "custom", "name": tool.name}
    else:
        out = {"type": "function", "name": tool.name}
        if tool.parameters_json_schema:
            out["parameters"] = loads_json(tool.parameters_json_schema, at(path, "parameters_json_schema"))
    if tool.description:
        out["description"] = tool.description
    return out


def decode_tool_choice(value: object, path: str = "tool_choice") -> r.ToolChoice:
    if isinstance(value, str):
        mode = _MODES.get(value)
        if mode is None:
            raise DialectError(f"unknown tool_choice {value!r}", path=path)
        return r.ToolChoice(mode=mode)
    obj: Mapping[str, Any] = as_object(value, path)
    kind = req_str(obj, "type", path)
    if kind not in ("function", "custom"):
        raise DialectError(f"tool_choice of type {kind!r} is not supported", path=at(path, "type"))
    return r.ToolChoice(
        mode=r.TOOL_CHOICE_MODE_NAMED,
        name=req_str(obj, "name", path),
        kind=c.TOOL_KIND_CUSTOM if kind == "custom" else c.TOOL_KIND_FUNCTION,
    )


def encode_tool_choice(choice: r.ToolChoice) -> str | JSONObject | None:
    """The ``tool_choice`` value, or None when the endpoint's default applies."""
    if choice.mode == r.TOOL_CHOICE_MODE_NAMED:
        return {"type": "custom" if choice.kind == c.TOOL_KIND_CUSTOM else "function", "name": choice.name}
    return _MODE_NAMES.get(choice.mode)
