"""Derive the catalog file's JSON Schema from the rolemodel.v1 descriptors.

The catalog file is rolemodel.v1.Catalog in the proto3 JSON mapping, with
the proto field names (snake_case). Constraints come from the proto comments:
"Required." makes a field required, "in [a, b]" bounds a number, and prices or
amounts described as decimal strings get the decimal pattern.
"""

from __future__ import annotations

import json
import re
from typing import Any

from proto_source import PACKAGE, FieldInfo, ProtoModel

SCHEMA_ID = "https://rolemodel.dev/schemas/v1/catalog.schema.json"
DECIMAL_PATTERN = r"^(0|[1-9][0-9]*)(\.[0-9]{1,6})?$"
ID_PATTERN = r"^[a-z0-9][a-z0-9._:/-]{0,127}$"
ROLE_PATTERN = r"^([a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)*|x-[a-z0-9-]+\.[a-z0-9._-]+)$"
CURRENCY_PATTERN = r"^[A-Z]{3}$"

# Patterns that a comment cannot state compactly, keyed by "Message.field".
FIELD_PATTERNS = {
    "Endpoint.id": ID_PATTERN,
    "Role.name": ROLE_PATTERN,
    "EndpointPricing.currency": CURRENCY_PATTERN,
}

_RANGE = re.compile(r"in \[(-?[0-9.]+), (-?[0-9.]+)\]")
_INT_LIMITS = {"uint32": (0, 2**32 - 1), "int32": (-(2**31), 2**31 - 1)}


def _scalar_schema(fld: FieldInfo, model: ProtoModel, owner: str) -> dict[str, Any]:
    t = fld.type_name
    if fld.is_enum:
        names = [v.name for v in model.enums[t].values if v.number != 0]
        return {"type": "string", "enum": names}
    if fld.is_message:
        if t == "google.protobuf.Timestamp":
            return {"type": "string", "format": "date-time"}
        return {"$ref": f"#/$defs/{t.removeprefix(PACKAGE + '.')}"}
    if t == "string":
        schema: dict[str, Any] = {"type": "string"}
        pattern = FIELD_PATTERNS.get(f"{owner}.{fld.name}")
        if pattern is None and (fld.name.endswith("_per_mtok") or "decimal string" in fld.comment.lower()):
            pattern = DECIMAL_PATTERN
        if pattern:
            schema["pattern"] = pattern
        return schema
    if t == "bool":
        return {"type": "boolean"}
    if t == "bytes":
        return {"type": "string", "contentEncoding": "base64"}
    if t in _INT_LIMITS:
        low, high = _INT_LIMITS[t]
        return {"type": "integer", "minimum": low, "maximum": high}
    if t in ("int64", "uint64"):
        # The proto3 JSON mapping allows 64-bit integers as numbers or strings.
        minimum = 0 if t == "uint64" else -(2**63)
        return {
            "oneOf": [
                {"type": "integer", "minimum": minimum},
                {"type": "string", "pattern": r"^-?[0-9]+$" if t == "int64" else r"^[0-9]+$"},
            ]
        }
    if t in ("double", "float"):
        schema = {"type": "number"}
        match = _RANGE.search(fld.comment)
        if match:
            schema["minimum"] = float(match.group(1))
            schema["maximum"] = float(match.group(2))
        return schema
    raise ValueError(f"no JSON Schema mapping for {t}")


def _field_schema(fld: FieldInfo, model: ProtoModel, owner: str) -> dict[str, Any]:
    if fld.map_entry is not None:
        _key, value = fld.map_entry
        value_schema = _scalar_schema(value, model, owner)
        match = _RANGE.search(fld.comment)
        if match and value_schema.get("type") == "number":
            value_schema["minimum"] = float(match.group(1))
            value_schema["maximum"] = float(match.group(2))
        schema: dict[str, Any] = {"type": "object", "additionalProperties": value_schema}
    elif fld.repeated:
        schema = {"type": "array", "items": _scalar_schema(fld, model, owner)}
    else:
        schema = _scalar_schema(fld, model, owner)
    if fld.comment:
        schema = {"description": fld.comment, **schema}
    return schema


def _reachable(model: ProtoModel, root: str) -> list[str]:
    seen: list[str] = []
    stack = [root]
    while stack:
        name = stack.pop()
        if name in seen or name not in model.messages:
            continue
        seen.append(name)
        for fld in model.messages[name].fields:
            targets = [fld.type_name] if fld.is_message else []
            if fld.map_entry is not None and fld.map_entry[1].is_message:
                targets.append(fld.map_entry[1].type_name)
            stack.extend(reversed(targets))
    return seen


def _message_schema(name: str, model: ProtoModel) -> dict[str, Any]:
    msg = model.messages[name]
    short = name.removeprefix(PACKAGE + ".")
    properties = {f.name: _field_schema(f, model, short) for f in msg.fields}
    required = [f.name for f in msg.fields if f.comment.startswith("Required.")]
    schema: dict[str, Any] = {
        "type": "object",
        "description": msg.comment,
        "properties": properties,
        "additionalProperties": False,
    }
    if required:
        schema["required"] = required
    return schema


def render_catalog_schema(model: ProtoModel) -> str:
    root = f"{PACKAGE}.Catalog"
    names = _reachable(model, root)
    defs = {n.removeprefix(PACKAGE + "."): _message_schema(n, model) for n in names if n != root}
    schema = {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": SCHEMA_ID,
        "title": "rolemodel.v1.Catalog",
        "$comment": "Generated from proto/rolemodel/v1 by tools/generate.py. Do not edit.",
        **_message_schema(root, model),
        "$defs": dict(sorted(defs.items())),
    }
    return json.dumps(schema, indent=2, ensure_ascii=False) + "\n"
