"""OpenAI Chat Completions request bodies to canonical requests and back.

Fields that map: ``model``, ``messages`` (see :mod:`.messages`), ``tools`` (``type: function``),
``max_completion_tokens`` or the older ``max_tokens``, ``temperature``, ``stop`` (a string or a
list), ``response_format`` of type ``json_schema`` (its ``schema``), ``stream``, and
``stream_options.include_usage`` (read with :func:`stream_include_usage`).

Fields the canonical form has no place for are dropped on decode: ``tool_choice``,
``parallel_tool_calls``, ``top_p``, ``n``, ``seed``, ``user``, ``logprobs``, penalties,
``response_format`` of type ``json_object``, the schema's ``name`` and ``strict`` flag, and a
tool's ``strict`` flag. Encoding writes ``tool_choice``, ``parallel_tool_calls``, ``top_p`` and
``seed`` when set, and leaves out what Chat Completions servers do not share (reasoning settings,
verbosity, prompt cache key, service tier, metadata); tools other than functions (custom, hosted,
namespace tools) raise :class:`DialectError`. Encoding names the schema ``response`` and leaves ``strict`` off, because
strict mode rejects schemas that do not meet its extra rules.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal

from rolemodel.dialects.canonical import CanonicalRequest
from rolemodel.dialects.errors import DialectError
from rolemodel.dialects.json_fields import (
    JSONObject,
    as_object,
    at,
    dumps_compact,
    loads_json,
    opt_bool,
    opt_int,
    opt_list,
    opt_number,
    opt_object,
    opt_str,
    opt_str_list,
    req_str,
)
from rolemodel.dialects.openai_chat.messages import decode_messages, encode_messages
from rolemodel.v1 import conversation_pb2, router_service_pb2

MaxTokensField = Literal["max_completion_tokens", "max_tokens"]


def decode_request(body: Mapping[str, Any], *, reasoning_provider: str = "") -> CanonicalRequest:
    """The canonical request for a request body; raises :class:`DialectError` when it is malformed.

    ``reasoning_provider`` names the provider family whose ``reasoning_content`` the messages
    carry (it has no signature, so only the caller knows).
    """
    body = as_object(body, "")
    request = CanonicalRequest(
        model=req_str(body, "model", ""),
        messages=decode_messages(body.get("messages"), reasoning_provider=reasoning_provider),
        tools=[_decode_tool(item, at("tools", i)) for i, item in enumerate(opt_list(body, "tools", "") or [])],
        stream=bool(opt_bool(body, "stream", "")),
    )
    params = request.params
    max_tokens = opt_int(body, "max_completion_tokens", "")
    params.max_output_tokens = max_tokens if max_tokens is not None else opt_int(body, "max_tokens", "") or 0
    temperature = opt_number(body, "temperature", "")
    if temperature is not None:
        params.temperature = temperature
    stop = body.get("stop")
    if isinstance(stop, str):
        params.stop.append(stop)
    elif stop is not None:
        params.stop.extend(opt_str_list(body, "stop", "") or [])
    params.response_json_schema = _decode_response_format(body)
    return request


def stream_include_usage(body: Mapping[str, Any]) -> bool:
    """Whether a streaming client asked for the final usage chunk (``stream_options.include_usage``)."""
    options = opt_object(body, "stream_options", "")
    return bool(options and opt_bool(options, "include_usage", "stream_options"))


def _decode_tool(item: object, path: str) -> conversation_pb2.ToolDefinition:
    obj = as_object(item, path)
    kind = opt_str(obj, "type", path) or "function"
    if kind != "function":
        raise DialectError(f"tools of type {kind!r} are not supported", path=at(path, "type"))
    function = opt_object(obj, "function", path)
    if function is None:
        raise DialectError("is required", path=at(path, "function"))
    parameters = function.get("parameters")
    return conversation_pb2.ToolDefinition(
        name=req_str(function, "name", at(path, "function")),
        description=opt_str(function, "description", at(path, "function")) or "",
        parameters_json_schema="" if parameters is None else dumps_compact(parameters),
    )


def _decode_response_format(body: Mapping[str, Any]) -> str:
    response_format = opt_object(body, "response_format", "")
    if response_format is None or response_format.get("type") != "json_schema":
        return ""
    spec = opt_object(response_format, "json_schema", "response_format") or {}
    schema = spec.get("schema")
    return "" if schema is None else dumps_compact(schema)


def encode_request(
    request: CanonicalRequest,
    *,
    max_tokens_field: MaxTokensField = "max_completion_tokens",
    include_usage: bool = True,
) -> JSONObject:
    """A request body for ``request``.

    ``max_tokens_field`` picks the name of the output limit: OpenAI's reasoning models accept
    only ``max_completion_tokens``, while some older compatible servers know only ``max_tokens``.
    ``include_usage`` asks a stream for its final usage chunk, which the router needs to account
    cache tokens. Raises :class:`DialectError` for content the dialect cannot carry and for a tool
    schema or response schema that is not valid JSON.
    """
    body: JSONObject = {"model": request.model, "messages": encode_messages(request.messages)}
    if request.tools:
        body["tools"] = [_encode_tool(tool, at("tools", i)) for i, tool in enumerate(request.tools)]
    params: router_service_pb2.GenerationParams = request.params
    if params.max_output_tokens:
        body[max_tokens_field] = params.max_output_tokens
    if params.HasField("temperature"):
        body["temperature"] = params.temperature
    if params.stop:
        body["stop"] = list(params.stop)
    if params.response_json_schema:
        schema = loads_json(params.response_json_schema, "params.response_json_schema")
        body["response_format"] = {"type": "json_schema", "json_schema": {"name": "response", "schema": schema}}
    body.update(_encode_sampling(params))
    if request.stream:
        body["stream"] = True
        if include_usage:
            body["stream_options"] = {"include_usage": True}
    return body


def _encode_sampling(params: router_service_pb2.GenerationParams) -> JSONObject:
    """Tool choice, parallel calls, ``top_p`` and ``seed``; unset ones are left to the endpoint."""
    body: JSONObject = {}
    choice = params.tool_choice
    if choice.mode == router_service_pb2.TOOL_CHOICE_MODE_NAMED:
        body["tool_choice"] = {"type": "function", "function": {"name": choice.name}}
    elif choice.mode != router_service_pb2.TOOL_CHOICE_MODE_UNSPECIFIED:
        body["tool_choice"] = (
            router_service_pb2.ToolChoiceMode.Name(choice.mode).removeprefix("TOOL_CHOICE_MODE_").lower()
        )
    if params.HasField("parallel_tool_calls"):
        body["parallel_tool_calls"] = params.parallel_tool_calls
    if params.HasField("top_p"):
        body["top_p"] = params.top_p
    if params.HasField("seed"):
        body["seed"] = params.seed
    return body


def _encode_tool(tool: conversation_pb2.ToolDefinition, path: str) -> JSONObject:
    if tool.kind not in (conversation_pb2.TOOL_KIND_UNSPECIFIED, conversation_pb2.TOOL_KIND_FUNCTION):
        kind = conversation_pb2.ToolKind.Name(tool.kind)
        raise DialectError(f"Chat Completions has only function tools, not {kind}", path=path)
    function: JSONObject = {"name": tool.name}
    if tool.description:
        function["description"] = tool.description
    if tool.parameters_json_schema:
        function["parameters"] = loads_json(tool.parameters_json_schema, at(path, "parameters_json_schema"))
    return {"type": "function", "function": function}
