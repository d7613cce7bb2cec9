"""Render the error table and the SDK's error-reason module from errors.yaml."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

GRPC_CODES = {
    "OK", "CANCELLED", "UNKNOWN", "INVALID_ARGUMENT", "DEADLINE_EXCEEDED", "NOT_FOUND",
    "ALREADY_EXISTS", "PERMISSION_DENIED", "RESOURCE_EXHAUSTED", "FAILED_PRECONDITION",
    "ABORTED", "OUT_OF_RANGE", "UNIMPLEMENTED", "INTERNAL", "UNAVAILABLE", "DATA_LOSS",
    "UNAUTHENTICATED",
}  # fmt: skip


def load_errors(path: Path) -> tuple[str, list[dict[str, Any]]]:
    data = yaml.safe_load(path.read_text())
    entries = data["errors"]
    for entry in entries:
        if entry["code"] not in GRPC_CODES:
            raise ValueError(f"{entry['reason']}: unknown gRPC code {entry['code']}")
    return data["domain"], entries


def render_error_table(path: Path) -> str:
    domain, entries = load_errors(path)
    out = [
        "# Error reasons (rolemodel.v1)",
        "",
        "<!-- Generated from spec/registry/errors.yaml by tools/generate.py. Do not edit. -->",
        "",
        f"Every error carries a `google.rpc.ErrorInfo` with domain `{domain}` and one of these reasons.",
        "",
        "| Reason | gRPC code | Retryable | BadRequest | Metadata | Meaning |",
        "|---|---|---|---|---|---|",
    ]
    for e in entries:
        metadata = ", ".join(f"`{m}`" for m in e["metadata"]) or "none"
        out.append(
            f"| `{e['reason']}` | `{e['code']}` | {'yes' if e['retryable'] else 'no'} | "
            f"{'yes' if e['bad_request'] else 'no'} | {metadata} | {e['meaning']} |"
        )
    return "\n".join(out) + "\n"


def render_error_module(path: Path) -> str:
    domain, entries = load_errors(path)
    lines = [
        '"""Error reasons of rolemodel.v1.',
        "",
        "Generated from spec/registry/errors.yaml by tools/generate.py. Do not edit.",
        '"""',
        "",
        "from __future__ import annotations",
        "",
        "import enum",
        "from dataclasses import dataclass",
        "",
        "import grpc",
        "",
        f'ERROR_DOMAIN = "{domain}"',
        "",
        "",
        "class ErrorReason(enum.StrEnum):",
        '    """The `reason` of a rolemodel.v1 ErrorInfo."""',
        "",
    ]
    lines += [f'    {e["reason"]} = "{e["reason"]}"' for e in entries]
    lines += [
        "",
        "",
        "@dataclass(frozen=True)",
        "class ErrorSpec:",
        '    """What the registry says about one reason."""',
        "",
        "    code: grpc.StatusCode",
        "    retryable: bool",
        "    bad_request: bool",
        "    metadata_keys: tuple[str, ...]",
        "",
        "",
        "ERROR_SPECS: dict[ErrorReason, ErrorSpec] = {",
    ]
    for e in entries:
        keys = "".join(f'"{k}", ' for k in e["metadata"]).rstrip(", ")
        keys_tuple = f"({keys},)" if len(e["metadata"]) == 1 else f"({keys})"
        lines.append(
            f"    ErrorReason.{e['reason']}: ErrorSpec("
            f"grpc.StatusCode.{e['code']}, {e['retryable']}, {e['bad_request']}, {keys_tuple}),"
        )
    lines.append("}")
    return "\n".join(lines) + "\n"
