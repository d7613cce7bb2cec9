"""OpenAI Responses request bodies (``POST /v1/responses``) to canonical requests and back.

Decoding follows :data:`.fields.REQUEST_FIELDS` field by field: a field outside that table, or a
value the router cannot honour, raises :class:`DialectError` naming it, so nothing a client
sends is dropped in silence.

Encoding writes the body the router sends to a Responses endpoint: always ``store: false``
(the router keeps no responses at the provider either), ``include: ["reasoning.encrypted_content"]``
when the endpoint reasons, so that reasoning can be replayed on the next turn, and every
canonical parameter the API has. It cannot carry stop sequences (the API has none) or a seed:
a stop sequence raises :class:`DialectError`, a seed is left out.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

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
    req_str,
)
from rolemodel.dialects.openai_responses.fields import RULES
from rolemodel.dialects.openai_responses.items import decode_input, encode_input
from rolemodel.dialects.openai_responses.tools import (
    decode_tool_choice,
    decode_tools,
    encode_tool_choice,
    encode_tools,
)
from rolemodel.v1 import conversation_pb2, router_service_pb2

r = router_service_pb2
ENCRYPTED_REASONING = "reasoning.encrypted_content"
_EFFORTS = {
    "none": r.REASONING_EFFORT_NONE,
    "minimal": r.REASONING_EFFORT_MINIMAL,
    "low": r.REASONING_EFFORT_LOW,
    "medium": r.REASONING_EFFORT_MEDIUM,
    "high": r.REASONING_EFFORT_HIGH,
    "xhigh": r.REASONING_EFFORT_XHIGH,
}
_SUMMARIES = {
    "auto": r.REASONING_SUMMARY_AUTO,
    "concise": r.REASONING_SUMMARY_CONCISE,
    "detailed": r.REASONING_SUMMARY_DETAILED,
}
_VERBOSITY = {"low": r.VERBOSITY_LOW, "medium": r.VERBOSITY_MEDIUM, "high": r.VERBOSITY_HIGH}


def _name_of(table: Mapping[str, int], value: int) -> str | None:
    return next((name for name, v in table.items() if v == value), None)


def decode_request(body: Mapping[str, Any]) -> CanonicalRequest:
    """The canonical request for a request body; raises :class:`DialectError` naming any field it refuses."""
    body = as_object(body, "")
    for key in body:
        rule = RULES.get(key)
        if rule is None:
            raise DialectError("is not supported by this router", path=key)
        if rule.treatment == Treatment.REFUSED and body[key] is not None:
            raise DialectError(f"is not supported: {rule.how}", path=key)
    messages = []
    instructions = opt_str(body, "instructions", "")
    if instructions:
        messages.append(
            conversation_pb2.Message(
                role=conversation_pb2.MESSAGE_ROLE_SYSTEM,
                parts=[conversation_pb2.ContentPart(text=conversation_pb2.TextPart(text=instructions))],
            )
        )
    if body.get("input") is None:
        raise DialectError("is required", path="input")
    messages.extend(decode_input(body.get("input")))
    request = CanonicalRequest(
        model=req_str(body, "model", ""),
        messages=messages,
        tools=decode_tools(body["tools"]) if body.get("tools") is not None else [],
        stream=bool(opt_bool(body, "stream", "")),
    )
    _decode_params(body, request.params)
    _check_flags(body)
    return request


def _decode_params(body: Mapping[str, Any], params: router_service_pb2.GenerationParams) -> None:
    params.max_output_tokens = opt_int(body, "max_output_tokens", "") or 0
    for key in ("temperature", "top_p"):
        value = opt_number(body, key, "")
        if value is not None:
            setattr(params, key, value)
    if body.get("tool_choice") is not None:
        params.tool_choice.CopyFrom(decode_tool_choice(body["tool_choice"]))
    parallel = opt_bool(body, "parallel_tool_calls", "")
    if parallel is not None:
        params.parallel_tool_calls = parallel
    reasoning = opt_object(body, "reasoning", "")
    if reasoning is not None:
        effort = opt_str(reasoning, "effort", "reasoning")
        if effort is not None:
            params.reasoning.effort = _lookup(_EFFORTS, effort, "reasoning.effort")
        summary = opt_str(reasoning, "summary", "reasoning") or opt_str(reasoning, "generate_summary", "reasoning")
        if summary is not None:
            params.reasoning.summary = _lookup(_SUMMARIES, summary, "reasoning.summary")
    _decode_text(body, params)
    params.prompt_cache_key = opt_str(body, "prompt_cache_key", "") or ""
    params.service_tier = opt_str(body, "service_tier", "") or ""
    for key in ("metadata", "client_metadata"):
        values = opt_object(body, key, "") or {}
        target = getattr(params, key)
        for name, value in values.items():
            if not isinstance(value, str):
                raise DialectError("expected a string", path=at(key, name))
            target[name] = value


def _decode_text(body: Mapping[str, Any], params: router_service_pb2.GenerationParams) -> None:
    text = opt_object(body, "text", "")
    if text is None:
        return
    verbosity = opt_str(text, "verbosity", "text")
    if verbosity is not None:
        params.verbosity = _lookup(_VERBOSITY, verbosity, "text.verbosity")
    fmt = opt_object(text, "format", "text")
    if fmt is None:
        return
    kind = req_str(fmt, "type", "text.format")
    if kind == "json_schema":
        schema = fmt.get("schema")
        if schema is None:
            raise DialectError("is required", path="text.format.schema")
        params.response_json_schema = dumps_compact(schema)
    elif kind != "text":
        raise DialectError(f"output format {kind!r} is not supported (use json_schema)", path="text.format.type")


def _check_flags(body: Mapping[str, Any]) -> None:
    """The mapped fields that the router accepts only in one setting."""
    include = opt_list(body, "include", "") or []
    for i, value in enumerate(include):
        if value != ENCRYPTED_REASONING:
            raise DialectError(f"only {ENCRYPTED_REASONING!r} can be included", path=at("include", i))
    if opt_bool(body, "store", "") is None and body.get("store") is not None:
        raise DialectError("expected a boolean", path="store")
    options = opt_object(body, "stream_options", "")
    if options is not None and opt_bool(options, "include_obfuscation", "stream_options"):
        raise DialectError(
            "is not supported: the router adds no obfuscation", path="stream_options.include_obfuscation"
        )
    truncation = opt_str(body, "truncation", "")
    if truncation not in (None, "disabled"):
        raise DialectError("only 'disabled' is supported: the role's compaction policy decides", path="truncation")
    if opt_bool(body, "background", ""):
        raise DialectError("is not supported: the router keeps no responses to poll", path="background")


def includes_encrypted_reasoning(body: Mapping[str, Any]) -> bool:
    """Whether the client asked for reasoning's encrypted content (``include``)."""
    include = body.get("include")
    return isinstance(include, list) and ENCRYPTED_REASONING in include


def _lookup(table: Mapping[str, int], value: str, path: str) -> Any:
    if value not in table:
        raise DialectError(f"unknown value {value!r}; expected one of {', '.join(table)}", path=path)
    return table[value]


def encode_request(request: CanonicalRequest, *, include_reasoning: bool = False) -> JSONObject:
    """A request body for a Responses endpoint; raises :class:`DialectError` for what it cannot carry."""
    params = request.params
    if params.stop:
        raise DialectError("the Responses API has no stop sequences", path="params.stop")
    body: JSONObject = {"model": request.model, "input": encode_input(request.messages), "store": False}
    if request.tools:
        body["tools"] = encode_tools(list(request.tools))
    body.update(_encode_params(params))
    if include_reasoning:
        body["include"] = [ENCRYPTED_REASONING]
    if request.stream:
        body["stream"] = True
    return body


def _encode_params(params: router_service_pb2.GenerationParams) -> JSONObject:
    """The body fields of the generation parameters; unset ones are left out (the endpoint's default)."""
    schema = params.response_json_schema
    text = _present(
        {
            "format": {
                "type": "json_schema",
                "name": "response",
                "schema": loads_json(schema, "params.response_json_schema"),
            }
            if schema
            else None,
            "verbosity": _name_of(_VERBOSITY, params.verbosity),
        }
    )
    reasoning = _present(
        {
            "effort": _name_of(_EFFORTS, params.reasoning.effort),
            "summary": _name_of(_SUMMARIES, params.reasoning.summary),
        }
    )
    return _present(
        {
            "tool_choice": encode_tool_choice(params.tool_choice),
            "parallel_tool_calls": params.parallel_tool_calls if params.HasField("parallel_tool_calls") else None,
            "reasoning": reasoning,
            "max_output_tokens": params.max_output_tokens or None,
            "temperature": params.temperature if params.HasField("temperature") else None,
            "top_p": params.top_p if params.HasField("top_p") else None,
            "text": text,
            "prompt_cache_key": params.prompt_cache_key,
            "service_tier": params.service_tier,
            "metadata": dict(params.metadata),
            "client_metadata": dict(params.client_metadata),
        }
    )


def _present(fields: JSONObject) -> JSONObject:
    """``fields`` without the unset ones (None, empty strings and empty objects); false stays."""
    return {key: value for key, value in fields.items() if value is not None and value not in ("", {})}
