"""The JSON script format, for running the backend as a separate process or scripting it over HTTP.

::

    {
      "api_key": "optional; when set, requests must carry it",
      "models": {
        "gpt-small": {
          "cache": "openai" | "anthropic" | "none" | {"mode": "automatic", "min_tokens": 1024,
                     "granularity": 128, "ttl_seconds": 300, "refresh_on_hit": true, "includes_output": false},
          "context_window_tokens": 128000,
          "subscription": {"family": "codex" | "anthropic", "short_capacity": 200000,
                           "long_capacity": 2000000, "short_used": 0.2, "long_used": 0.1},
          "script": [
            {"text": "Hello"},
            {"tool_calls": [{"name": "read_file", "arguments": {"path": "a.py"}}]},
            {"fault": "rate_limited", "retry_after": 1},
            {"fault": "server_error", "status": 503},
            {"fault": "context_overflow"},
            {"fault": "rejected", "status": 422},
            {"fault": "hang"},
            {"fault": "cut", "after_deltas": 3, "reply": {"text": "..."}},
            {"fault": "invalid_json", "after_deltas": 2},
            {"fault": "stream_error", "after_deltas": 2, "status": 529}
          ],
          "default": {"text": "ok"}
        }
      }
    }

Reply objects take the fields of :class:`Reply`; unknown keys are errors, so that a typo in a
script fails loudly instead of scripting something else.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rolemodel_router.backends.scripted.cache_rules import CacheMode, CacheRules
from rolemodel_router.backends.scripted.script import Fault, FaultKind, Reply, Step, ToolCall
from rolemodel_router.backends.scripted.state import BackendState
from rolemodel_router.backends.scripted.subscription import Subscription


class ScriptError(ValueError):
    """A script document that does not follow the format; the message names the place."""


_PRESETS = {"openai": CacheRules.openai, "anthropic": CacheRules.anthropic, "none": CacheRules}
_REPLY_FIELDS = {
    "text": str,
    "reasoning": str,
    "signature": str,
    "finish_reason": str,
    "stop_sequence": str,
    "output_tokens": int,
    "chunk_chars": int,
    "first_token_delay": float,
    "delta_delay": float,
}


def _object(value: object, where: str) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise ScriptError(f"{where}: expected an object")
    return value


def _check_keys(obj: Mapping[str, Any], allowed: set[str], where: str) -> None:
    unknown = set(obj) - allowed
    if unknown:
        raise ScriptError(f"{where}: unknown keys {sorted(unknown)}; allowed are {sorted(allowed)}")


def _typed(value: object, kind: type, where: str) -> Any:
    if kind is float and isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    if not isinstance(value, kind) or isinstance(value, bool) != (kind is bool):
        raise ScriptError(f"{where}: expected {kind.__name__}, got {value!r}")
    return value


def parse_reply(value: object, where: str) -> Reply:
    obj = _object(value, where)
    _check_keys(obj, {*_REPLY_FIELDS, "tool_calls"}, where)
    fields = {key: _typed(obj[key], kind, f"{where}.{key}") for key, kind in _REPLY_FIELDS.items() if key in obj}
    calls = []
    for i, item in enumerate(obj.get("tool_calls", [])):
        call = _object(item, f"{where}.tool_calls[{i}]")
        _check_keys(call, {"name", "arguments", "id"}, f"{where}.tool_calls[{i}]")
        arguments = call.get("arguments", {})
        if not isinstance(arguments, str | Mapping):
            raise ScriptError(f"{where}.tool_calls[{i}].arguments: expected an object or JSON text")
        calls.append(
            ToolCall(
                name=_typed(call.get("name"), str, f"{where}.tool_calls[{i}].name"),
                arguments=arguments,
                id=_typed(call.get("id", ""), str, f"{where}.tool_calls[{i}].id"),
            )
        )
    return Reply(tool_calls=tuple(calls), **fields)


def parse_step(value: object, where: str) -> Step:
    obj = _object(value, where)
    if "fault" not in obj:
        return parse_reply(obj, where)
    _check_keys(obj, {"fault", "retry_after", "status", "after_deltas", "reply"}, where)
    try:
        kind = FaultKind(obj["fault"])
    except ValueError:
        raise ScriptError(
            f"{where}.fault: unknown fault {obj['fault']!r}; use one of {[k.value for k in FaultKind]}"
        ) from None
    after = obj.get("after_deltas")
    after = None if after is None else _typed(after, int, f"{where}.after_deltas")
    reply = parse_reply(obj["reply"], f"{where}.reply") if "reply" in obj else None
    extra = {"reply": reply} if reply is not None else {}
    if kind == FaultKind.RATE_LIMITED:
        return Fault.rate_limited(_typed(obj.get("retry_after", 1.0), float, f"{where}.retry_after"))
    if kind == FaultKind.SERVER_ERROR:
        try:
            return Fault.server_error(_typed(obj.get("status", 500), int, f"{where}.status"))
        except ValueError as exc:
            raise ScriptError(f"{where}.status: {exc}") from None
    if kind == FaultKind.CONTEXT_OVERFLOW:
        return Fault.context_overflow()
    if kind == FaultKind.REJECTED:
        try:
            return Fault.rejected(_typed(obj.get("status", 400), int, f"{where}.status"))
        except ValueError as exc:
            raise ScriptError(f"{where}.status: {exc}") from None
    if kind == FaultKind.HANG:
        return Fault.hang(after, **extra)
    if kind == FaultKind.CUT:
        return Fault.cut(1 if after is None else after, **extra)
    if kind == FaultKind.STREAM_ERROR:
        try:
            status = _typed(obj.get("status", 529), int, f"{where}.status")
            return Fault.stream_error(1 if after is None else after, status, **extra)
        except ValueError as exc:
            raise ScriptError(f"{where}.status: {exc}") from None
    return Fault.invalid_json(after, **extra)


def parse_cache(value: object, where: str) -> CacheRules:
    if isinstance(value, str):
        if value not in _PRESETS:
            raise ScriptError(f"{where}: unknown preset {value!r}; use one of {sorted(_PRESETS)}")
        return _PRESETS[value]()
    obj = _object(value, where)
    kinds = {
        "min_tokens": int,
        "granularity": int,
        "ttl_seconds": float,
        "refresh_on_hit": bool,
        "includes_output": bool,
    }
    _check_keys(obj, {"mode", *kinds}, where)
    try:
        mode = CacheMode(obj.get("mode", "none"))
        fields = {key: _typed(obj[key], kind, f"{where}.{key}") for key, kind in kinds.items() if key in obj}
        return CacheRules(mode=mode, **fields)
    except ValueError as exc:
        raise ScriptError(f"{where}: {exc}") from None


@dataclass(frozen=True)
class _ModelDocument:
    name: str
    cache: CacheRules | None
    context_window_tokens: int | None
    default: Step | None
    steps: list[Step]
    subscription: Subscription | None


def _parse_model(name: str, value: object) -> _ModelDocument:
    where = f"script.models.{name}"
    obj = _object(value, where)
    _check_keys(obj, {"cache", "context_window_tokens", "script", "default", "subscription"}, where)
    window = obj.get("context_window_tokens")
    steps = obj.get("script", [])
    if not isinstance(steps, list):
        raise ScriptError(f"{where}.script: expected an array")
    return _ModelDocument(
        name=name,
        cache=parse_cache(obj["cache"], f"{where}.cache") if "cache" in obj else None,
        context_window_tokens=None if window is None else _typed(window, int, f"{where}.context_window_tokens"),
        default=parse_step(obj["default"], f"{where}.default") if "default" in obj else None,
        steps=[parse_step(step, f"{where}.script[{i}]") for i, step in enumerate(steps)],
        subscription=parse_subscription(obj["subscription"], f"{where}.subscription")
        if "subscription" in obj
        else None,
    )


def parse_subscription(value: object, where: str) -> Subscription:
    """A simulated subscription (spec 9.8): its header family, capacities and the share already used."""
    obj = _object(value, where)
    _check_keys(obj, {"family", "short_capacity", "long_capacity", "short_used", "long_used"}, where)
    try:
        return Subscription(
            family=_typed(obj.get("family"), str, f"{where}.family"),
            short_capacity=_typed(obj.get("short_capacity"), float, f"{where}.short_capacity"),
            long_capacity=_typed(obj.get("long_capacity"), float, f"{where}.long_capacity"),
            short_used=_typed(obj.get("short_used", 0.0), float, f"{where}.short_used"),
            long_used=_typed(obj.get("long_used", 0.0), float, f"{where}.long_used"),
        )
    except ValueError as exc:
        raise ScriptError(f"{where}: {exc}") from None


def apply_document(state: BackendState, document: object) -> None:
    """Configure and script ``state`` from a parsed script document; steps are appended.

    The whole document is checked before anything changes, so a bad document changes nothing.
    """
    root = _object(document, "script")
    _check_keys(root, {"api_key", "models"}, "script")
    api_key = None if root.get("api_key") is None else _typed(root["api_key"], str, "script.api_key")
    models = [_parse_model(name, value) for name, value in _object(root.get("models", {}), "script.models").items()]
    if api_key is not None:
        state.api_key = api_key
    for model in models:
        state.configure(
            model.name,
            cache=model.cache,
            context_window_tokens=model.context_window_tokens,
            default=model.default,
            subscription=model.subscription,
        )
        state.script(model.name, model.steps)


def load_file(state: BackendState, path: Path) -> None:
    """Apply the script document in ``path``; raises :class:`ScriptError` for bad JSON or a bad document."""
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except ValueError as exc:
        raise ScriptError(f"{path}: not valid JSON ({exc})") from None
    apply_document(state, document)
