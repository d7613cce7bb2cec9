"""OpenAI Chat Completions request bodies to canonical requests and back.

Every top-level field is treated as :data:`.fields.REQUEST_FIELDS` says; a field outside that
table, and a refused one (``n`` above 1, ``logprobs``, ``json_object`` output, ...), raise
:class:`DialectError` naming it. ``stream_options.include_usage`` is read with
:func:`stream_include_usage`. The schema's ``name`` and ``strict`` flag and a tool's ``strict`` flag
have no canonical place.

Encoding writes ``tool_choice``, ``parallel_tool_calls``, ``top_p``, ``seed`` and the fields passed
through from this dialect when set; the reasoning effort as ``reasoning_effort`` only to an
endpoint that reasons (``reasoning``: others reject the field), where a thinking budget without an
effort (from the Messages dialect) becomes the effort of :func:`effort_for_budget`. It leaves out
what Chat Completions servers do not share (the canonical verbosity, prompt cache key, service tier and
metadata of other dialects);
tools other than functions (custom, hosted, namespace tools) raise :class:`DialectError`. Encoding
names the schema ``response`` and leaves ``strict`` off, because strict mode rejects schemas that
do not meet its extra rules.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal

from rolemodel.dialects.canonical import CanonicalRequest
from rolemodel.dialects.errors import DialectError
from rolemodel.dialects.field_rules import Treatment
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
from rolemodel.dialects.openai_chat.fields import PASSTHROUGH_PREFIX, RULES
from rolemodel.dialects.openai_chat.messages import decode_messages, encode_messages
from rolemodel.v1 import conversation_pb2, router_service_pb2

MaxTokensField = Literal["max_completion_tokens", "max_tokens"]


def decode_request(body: Mapping[str, Any], *, reasoning_provider: str = "") -> CanonicalRequest:
    """The canonical request for a request body; raises :class:`DialectError` when it is malformed.

    ``reasoning_provider`` names the provider family whose ``reasoning_content`` the messages
    carry (it has no signature, so only the caller knows).
    """
    body = as_object(body, "")
    for key in body:
        rule = RULES.get(key)
        if rule is None:
            raise DialectError("is not supported by this router", path=key)
        if rule.treatment == Treatment.REFUSED and body[key] is not None:
            raise DialectError(f"is not supported: {rule.how}", path=key)
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
    _decode_more_params(body, params)
    return request


_EFFORTS = {
    "none": router_service_pb2.REASONING_EFFORT_NONE,
    "minimal": router_service_pb2.REASONING_EFFORT_MINIMAL,
    "low": router_service_pb2.REASONING_EFFORT_LOW,
    "medium": router_service_pb2.REASONING_EFFORT_MEDIUM,
    "high": router_service_pb2.REASONING_EFFORT_HIGH,
    "xhigh": router_service_pb2.REASONING_EFFORT_XHIGH,
}
_EFFORT_NAMES = {v: k for k, v in _EFFORTS.items()}
_CHOICES = {
    "auto": router_service_pb2.TOOL_CHOICE_MODE_AUTO,
    "none": router_service_pb2.TOOL_CHOICE_MODE_NONE,
    "required": router_service_pb2.TOOL_CHOICE_MODE_REQUIRED,
}
#: The fields passed through, derived from the table so that a new row cannot be forgotten here.
_PASSED_FIELDS = tuple(name for name, rule in RULES.items() if rule.treatment == Treatment.PASSED_THROUGH)
#: Thinking budgets (tokens) up to which an effort is enough, smallest first.
_BUDGET_EFFORTS = (
    (4096, router_service_pb2.REASONING_EFFORT_LOW),
    (16384, router_service_pb2.REASONING_EFFORT_MEDIUM),
)


def effort_for_budget(budget_tokens: int) -> router_service_pb2.ReasoningEffort.ValueType:
    """The effort of a thinking budget: low up to 4,096 tokens, medium up to 16,384, high above."""
    for limit, effort in _BUDGET_EFFORTS:
        if budget_tokens <= limit:
            return effort
    return router_service_pb2.REASONING_EFFORT_HIGH


def _decode_more_params(body: Mapping[str, Any], params: router_service_pb2.GenerationParams) -> None:
    """Sampling, tool choice, reasoning effort, the one-choice and no-logprobs checks, and passthrough."""
    top_p = opt_number(body, "top_p", "")
    if top_p is not None:
        params.top_p = top_p
    seed = body.get("seed")
    if seed is not None:
        if isinstance(seed, bool) or not isinstance(seed, int):
            raise DialectError("expected an integer", path="seed")
        params.seed = seed
    parallel = opt_bool(body, "parallel_tool_calls", "")
    if parallel is not None:
        params.parallel_tool_calls = parallel
    if body.get("tool_choice") is not None:
        params.tool_choice.CopyFrom(_decode_tool_choice(body["tool_choice"]))
    effort = opt_str(body, "reasoning_effort", "")
    if effort is not None:
        if effort not in _EFFORTS:
            raise DialectError(f"unknown value {effort!r}", path="reasoning_effort")
        params.reasoning.effort = _EFFORTS[effort]
    count = opt_int(body, "n", "")
    if count is not None and count != 1:
        raise DialectError("only one choice (n: 1) is supported", path="n")
    if opt_bool(body, "logprobs", ""):
        raise DialectError("is not supported: log probabilities are not carried", path="logprobs")
    params.prompt_cache_key = opt_str(body, "prompt_cache_key", "") or ""
    for name in _PASSED_FIELDS:
        if body.get(name) is not None:
            params.passthrough[PASSTHROUGH_PREFIX + name] = dumps_compact(body[name])


def _decode_tool_choice(choice: object) -> router_service_pb2.ToolChoice:
    if isinstance(choice, str):
        if choice not in _CHOICES:
            raise DialectError(f"unknown tool_choice {choice!r}", path="tool_choice")
        return router_service_pb2.ToolChoice(mode=_CHOICES[choice])
    function = opt_object(as_object(choice, "tool_choice"), "function", "tool_choice")
    if function is None:
        raise DialectError("is required", path="tool_choice.function")
    name = req_str(function, "name", "tool_choice.function")
    return router_service_pb2.ToolChoice(mode=router_service_pb2.TOOL_CHOICE_MODE_NAMED, name=name)


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
    kind = None if response_format is None else response_format.get("type")
    if kind == "json_object":
        raise DialectError(
            "is not supported: ask for a json_schema, which every dialect can carry", path="response_format.type"
        )
    if response_format is None or kind != "json_schema":
        return ""
    spec = opt_object(response_format, "json_schema", "response_format") or {}
    schema = spec.get("schema")
    return "" if schema is None else dumps_compact(schema)


def encode_request(
    request: CanonicalRequest,
    *,
    max_tokens_field: MaxTokensField = "max_completion_tokens",
    include_usage: bool = True,
    reasoning: bool = True,
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
    body.update(_encode_reasoning_and_passthrough(params, reasoning=reasoning))
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


def _encode_reasoning_and_passthrough(params: router_service_pb2.GenerationParams, *, reasoning: bool) -> JSONObject:
    body: JSONObject = {}
    effort = params.reasoning.effort
    if not effort and params.reasoning.budget_tokens:
        effort = effort_for_budget(params.reasoning.budget_tokens)
    if reasoning and effort:
        body["reasoning_effort"] = _EFFORT_NAMES[effort]
    for name in _PASSED_FIELDS:
        text = params.passthrough.get(PASSTHROUGH_PREFIX + name)
        if text is not None:
            body[name] = loads_json(text, f"params.passthrough[{PASSTHROUGH_PREFIX}{name}]")
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
