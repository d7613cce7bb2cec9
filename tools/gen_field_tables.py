"""Render the spec's message reference from the rolemodel.v1 descriptors.

The prose chapters refer to these tables instead of restating fields, so the
spec cannot drift from the wire format.
"""

from __future__ import annotations

from proto_source import PACKAGE, FieldInfo, ProtoModel


def _short(name: str) -> str:
    return name.removeprefix(PACKAGE + ".")


def _link(name: str, model: ProtoModel) -> str:
    short = _short(name)
    if name in model.messages or name in model.enums:
        return f"[`{short}`](#{short.lower()})"
    return f"`{short}`"


def _type_cell(fld: FieldInfo, model: ProtoModel) -> str:
    if fld.map_entry is not None:
        key, value = fld.map_entry
        value_type = _link(value.type_name, model) if (value.is_message or value.is_enum) else f"`{value.type_name}`"
        return f"map<`{key.type_name}`, {value_type}>"
    base = _link(fld.type_name, model) if (fld.is_message or fld.is_enum) else f"`{fld.type_name}`"
    if fld.repeated:
        return f"repeated {base}"
    if fld.optional:
        return f"optional {base}"
    if fld.oneof:
        return f"{base} (oneof `{fld.oneof}`)"
    return base


def _escape(text: str) -> str:
    return text.replace("|", "\\|")


def render_field_tables(model: ProtoModel) -> str:
    out = [
        "# Message reference (rolemodel.v1)",
        "",
        "<!-- Generated from proto/rolemodel/v1 by tools/generate.py. Do not edit. -->",
        "",
        "This reference is rendered from the `.proto` files, which are the normative data model.",
        "Comments in the proto are the field descriptions below.",
        "",
    ]
    for file in model.file_order:
        out += [f"## `{file}`", ""]
        for svc in (s for s in model.services.values() if s.file == file):
            out += [
                f"### {_short(svc.full_name)}",
                "",
                svc.comment,
                "",
                "| RPC | Request | Response | Description |",
                "|---|---|---|---|",
            ]
            for m in svc.methods:
                response = ("stream " if m.server_streaming else "") + _link(m.output_type, model)
                out.append(f"| `{m.name}` | {_link(m.input_type, model)} | {response} | {_escape(m.comment)} |")
            out.append("")
        for msg in (m for m in model.messages.values() if m.file == file):
            out += [f"### {_short(msg.full_name)}", ""]
            if msg.comment:
                out += [msg.comment, ""]
            if not msg.fields:
                out += ["No fields.", ""]
                continue
            out += ["| Field | No. | Type | Description |", "|---|---|---|---|"]
            out += [f"| `{f.name}` | {f.number} | {_type_cell(f, model)} | {_escape(f.comment)} |" for f in msg.fields]
            out.append("")
        for enum in (e for e in model.enums.values() if e.file == file):
            out += [f"### {_short(enum.full_name)}", ""]
            if enum.comment:
                out += [enum.comment, ""]
            out += ["| Value | No. | Description |", "|---|---|---|"]
            out += [f"| `{v.name}` | {v.number} | {_escape(v.comment)} |" for v in enum.values]
            out.append("")
    return "\n".join(out).rstrip() + "\n"
