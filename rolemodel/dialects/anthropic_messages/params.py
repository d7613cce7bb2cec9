"""Generation parameters of the Messages API: thinking, effort, tool choice, sampling and passthrough.

Decoding fills ``GenerationParams`` per :data:`.fields.REQUEST_FIELDS`: what every dialect can
express becomes a canonical field (the thinking budget, adaptive thinking, the effort, the tool
choice), and what only Anthropic understands goes into ``passthrough`` under this dialect's
prefix, as JSON text. Encoding does the reverse and writes the passthrough entries back as they
came, so that a request that reaches an Anthropic endpoint carries exactly what the client sent.

``reasoning`` on encode says whether the endpoint reasons (``CAPABILITY_REASONING``): an endpoint
that does not gets no ``thinking`` and no ``effort``, which it would reject.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from rolemodel.dialects.anthropic_messages.fields import PASSTHROUGH_PREFIX
from rolemodel.dialects.errors import DialectError
from rolemodel.dialects.json_fields import JSONObject, as_object, at, dumps_compact, opt_bool, opt_int, opt_str, req_str
from rolemodel.v1 import router_service_pb2 as r

_EFFORTS = {
    "low": r.REASONING_EFFORT_LOW,
    "medium": r.REASONING_EFFORT_MEDIUM,
    "high": r.REASONING_EFFORT_HIGH,
    "xhigh": r.REASONING_EFFORT_XHIGH,
    "max": r.REASONING_EFFORT_XHIGH,
}
_EFFORT_NAMES = {
    r.REASONING_EFFORT_MINIMAL: "low",
    r.REASONING_EFFORT_LOW: "low",
    r.REASONING_EFFORT_MEDIUM: "medium",
    r.REASONING_EFFORT_HIGH: "high",
    r.REASONING_EFFORT_XHIGH: "xhigh",
}
_CHOICES = {"auto": r.TOOL_CHOICE_MODE_AUTO, "any": r.TOOL_CHOICE_MODE_REQUIRED, "none": r.TOOL_CHOICE_MODE_NONE}
_CHOICE_NAMES = {mode: name for name, mode in _CHOICES.items()}
#: Fields passed through whole, by name.
_PASSED_FIELDS = ("top_k", "service_tier", "context_management", "speed", "inference_geo")
#: Parts of mapped fields that only Anthropic knows, passed through under these names.
THINKING_DISPLAY = "thinking.display"
EXACT_EFFORT = "output_config.effort"


def _keep(params: r.GenerationParams, name: str, value: object) -> None:
    params.passthrough[PASSTHROUGH_PREFIX + name] = dumps_compact(value)


def decode_params(body: Mapping[str, Any], params: r.GenerationParams) -> None:
    """The parameters other than the output limit, stop sequences, temperature and output format."""
    top_p = body.get("top_p")
    if top_p is not None:
        if isinstance(top_p, bool) or not isinstance(top_p, int | float):
            raise DialectError("expected a number", path="top_p")
        params.top_p = float(top_p)
    if body.get("tool_choice") is not None:
        _decode_tool_choice(as_object(body["tool_choice"], "tool_choice"), params)
    if body.get("thinking") is not None:
        _decode_thinking(as_object(body["thinking"], "thinking"), params)
    if body.get("output_config") is not None:
        _decode_effort(as_object(body["output_config"], "output_config"), params)
    if body.get("metadata") is not None:
        _decode_metadata(as_object(body["metadata"], "metadata"), params)
    for name in _PASSED_FIELDS:
        if body.get(name) is not None:
            _keep(params, name, body[name])


def _decode_effort(output_config: Mapping[str, Any], params: r.GenerationParams) -> None:
    effort = opt_str(output_config, "effort", "output_config")
    if effort is None:
        return
    if effort not in _EFFORTS:
        raise DialectError(f"unknown effort {effort!r}", path="output_config.effort")
    params.reasoning.effort = _EFFORTS[effort]
    if effort == "max":
        _keep(params, EXACT_EFFORT, effort)


def _decode_metadata(metadata: Mapping[str, Any], params: r.GenerationParams) -> None:
    for key, value in metadata.items():
        if key != "user_id":
            raise DialectError("only user_id is supported", path=at("metadata", key))
        if value is not None:
            params.metadata["user_id"] = req_str(metadata, "user_id", "metadata")


def _decode_tool_choice(choice: Mapping[str, Any], params: r.GenerationParams) -> None:
    kind = req_str(choice, "type", "tool_choice")
    if kind == "tool":
        params.tool_choice.mode = r.TOOL_CHOICE_MODE_NAMED
        params.tool_choice.name = req_str(choice, "name", "tool_choice")
    elif kind in _CHOICES:
        params.tool_choice.mode = _CHOICES[kind]
    else:
        raise DialectError(f"unknown tool_choice type {kind!r}", path="tool_choice.type")
    if opt_bool(choice, "disable_parallel_tool_use", "tool_choice"):
        params.parallel_tool_calls = False


def _decode_thinking(thinking: Mapping[str, Any], params: r.GenerationParams) -> None:
    kind = req_str(thinking, "type", "thinking")
    if kind == "enabled":
        budget = opt_int(thinking, "budget_tokens", "thinking")
        if not budget:
            raise DialectError("is required", path="thinking.budget_tokens")
        params.reasoning.budget_tokens = budget
    elif kind == "adaptive":
        params.reasoning.adaptive = True
    elif kind == "disabled":
        params.reasoning.effort = r.REASONING_EFFORT_NONE
    else:
        raise DialectError(f"unknown thinking type {kind!r}", path="thinking.type")
    display = opt_str(thinking, "display", "thinking")
    if display is not None:
        _keep(params, THINKING_DISPLAY, display)


def passed(params: r.GenerationParams, name: str) -> Any:
    """A passthrough value of this dialect, decoded, or None."""
    text = params.passthrough.get(PASSTHROUGH_PREFIX + name)
    return None if text is None else json.loads(text)


def encode_params(params: r.GenerationParams, body: JSONObject, *, has_tools: bool, reasoning: bool) -> None:
    """Writes the parameters into ``body`` (which may already hold ``output_config.format``)."""
    if params.HasField("top_p"):
        body["top_p"] = params.top_p
    choice = _encode_tool_choice(params, has_tools)
    if choice is not None:
        body["tool_choice"] = choice
    if reasoning:
        thinking = _encode_thinking(params.reasoning)
        if thinking is not None:
            display = passed(params, THINKING_DISPLAY)
            if display is not None and thinking["type"] != "disabled":
                thinking["display"] = display
            body["thinking"] = thinking
        effort = passed(params, EXACT_EFFORT) or _EFFORT_NAMES.get(params.reasoning.effort)
        if effort is not None:
            body.setdefault("output_config", {})["effort"] = effort
    if "user_id" in params.metadata:
        body["metadata"] = {"user_id": params.metadata["user_id"]}
    for name in _PASSED_FIELDS:
        value = passed(params, name)
        if value is not None:
            body[name] = value


def _encode_tool_choice(params: r.GenerationParams, has_tools: bool) -> JSONObject | None:
    choice = params.tool_choice
    out: JSONObject | None = None
    if choice.mode == r.TOOL_CHOICE_MODE_NAMED:
        out = {"type": "tool", "name": choice.name}
    elif choice.mode in _CHOICE_NAMES:
        out = {"type": _CHOICE_NAMES[choice.mode]}
    if params.HasField("parallel_tool_calls") and not params.parallel_tool_calls and has_tools:
        out = out or {"type": "auto"}
        if out["type"] != "none":
            out["disable_parallel_tool_use"] = True
    return out


def _encode_thinking(reasoning: r.ReasoningConfig) -> JSONObject | None:
    if reasoning.effort == r.REASONING_EFFORT_NONE:
        return {"type": "disabled"}
    if reasoning.adaptive:
        return {"type": "adaptive"}
    if reasoning.budget_tokens:
        return {"type": "enabled", "budget_tokens": reasoning.budget_tokens}
    return None
