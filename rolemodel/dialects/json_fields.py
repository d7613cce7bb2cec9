"""Typed access to untrusted JSON, with errors that say where the problem is.

Decoders use these helpers instead of indexing dicts directly, so that a malformed payload
becomes a :class:`DialectError` with a path and never a ``KeyError`` or ``TypeError`` from deep
inside a codec. JSON ``null`` is treated like an absent key, because providers send both.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from rolemodel.dialects.errors import DialectError

#: A JSON object as ``json.loads`` returns it.
JSONObject = dict[str, Any]


#: The largest count a dialect field may hold: the canonical form keeps counts in 32 bits.
MAX_COUNT = (1 << 32) - 1


def at(path: str, key: str | int) -> str:
    """The path of a child: ``at("messages", 2)`` is ``messages[2]``."""
    if isinstance(key, int):
        return f"{path}[{key}]"
    return f"{path}.{key}" if path else key


def as_object(value: object, path: str) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise DialectError(f"expected an object, got {_kind(value)}", path=path)
    return value


def as_list(value: object, path: str) -> list[Any]:
    if not isinstance(value, list):
        raise DialectError(f"expected an array, got {_kind(value)}", path=path)
    return value


def opt_object(obj: Mapping[str, Any], key: str, path: str) -> Mapping[str, Any] | None:
    value = obj.get(key)
    return None if value is None else as_object(value, at(path, key))


def opt_list(obj: Mapping[str, Any], key: str, path: str) -> list[Any] | None:
    value = obj.get(key)
    return None if value is None else as_list(value, at(path, key))


def opt_str_list(obj: Mapping[str, Any], key: str, path: str) -> list[str] | None:
    items = opt_list(obj, key, path)
    if items is None:
        return None
    for i, item in enumerate(items):
        if not isinstance(item, str):
            raise DialectError(f"expected a string, got {_kind(item)}", path=at(at(path, key), i))
    return list(items)


def opt_str(obj: Mapping[str, Any], key: str, path: str) -> str | None:
    value = obj.get(key)
    if value is None:
        return None
    if not isinstance(value, str):
        raise DialectError(f"expected a string, got {_kind(value)}", path=at(path, key))
    return value


def req_str(obj: Mapping[str, Any], key: str, path: str) -> str:
    value = opt_str(obj, key, path)
    if value is None:
        raise DialectError("is required", path=at(path, key))
    return value


def opt_int(obj: Mapping[str, Any], key: str, path: str) -> int | None:
    value = obj.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise DialectError(f"expected a non-negative integer, got {value!r}", path=at(path, key))
    if value > MAX_COUNT:
        # Every count the dialects carry (tokens, indices) is a 32-bit field of the canonical form.
        raise DialectError(f"expected an integer up to {MAX_COUNT}, got {value}", path=at(path, key))
    return value


def opt_number(obj: Mapping[str, Any], key: str, path: str) -> float | None:
    value = obj.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise DialectError(f"expected a number, got {_kind(value)}", path=at(path, key))
    return float(value)


def opt_bool(obj: Mapping[str, Any], key: str, path: str) -> bool | None:
    value = obj.get(key)
    if value is None:
        return None
    if not isinstance(value, bool):
        raise DialectError(f"expected a boolean, got {_kind(value)}", path=at(path, key))
    return value


def dumps_compact(value: object) -> str:
    """The JSON text the codecs store for a JSON value they receive as a value.

    Anthropic carries tool arguments and schemas as JSON values, while the canonical form keeps
    JSON text. This is the one text the codecs produce for a value: compact separators, keys in
    the order received, non-ASCII as raw UTF-8. Using one form keeps digests stable across turns.
    """
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def loads_json(text: str | bytes, path: str) -> Any:
    """Parse JSON text or raise :class:`DialectError` naming ``path``."""
    try:
        return json.loads(text)
    except (ValueError, RecursionError) as exc:
        raise DialectError(f"is not valid JSON ({exc})", path=path) from None


def loads_object(text: str | bytes, path: str) -> Mapping[str, Any]:
    return as_object(loads_json(text, path), path)


def _kind(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "an array"
    if isinstance(value, Mapping):
        return "an object"
    return type(value).__name__
