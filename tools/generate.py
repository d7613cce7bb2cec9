"""Regenerate every file derived from the proto and the registries.

The .proto files and spec/registry/*.yaml are the sources of truth. From them
this script writes the Python stubs, the catalog JSON Schema, the spec's field
tables and error table, the SDK's error-reason module, and the Responses
dialect's request-field table (from the codec's own table). All outputs are
committed; tests/test_generated_up_to_date.py regenerates them into a
temporary tree and fails on any difference.

Usage: python tools/generate.py [--out DIR]   (default: the repository)
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
from pathlib import Path

import grpc_tools
from grpc_tools import protoc

TOOLS = Path(__file__).resolve().parent
ROOT = TOOLS.parent
sys.path.insert(0, str(TOOLS))

from gen_errors import render_error_module, render_error_table  # noqa: E402
from gen_field_tables import render_field_tables  # noqa: E402
from gen_json_schema import render_catalog_schema  # noqa: E402
from gen_responses_fields import render_responses_fields  # noqa: E402
from proto_source import load_descriptor_set  # noqa: E402

PROTO_ROOT = ROOT / "proto"
PROTO_FILES = sorted(p.relative_to(PROTO_ROOT).as_posix() for p in (PROTO_ROOT / "rolemodel" / "v1").glob("*.proto"))

#: Every derived file, relative to the repository root.
GENERATED_STUB_DIR = "rolemodel/v1"
SCHEMA_PATH = "spec/schemas/catalog.schema.json"
FIELD_TABLES_PATH = "spec/reference/messages.md"
ERROR_TABLE_PATH = "spec/reference/errors.md"
ERROR_MODULE_PATH = "rolemodel/error_reasons.py"
RESPONSES_FIELDS_PATH = "spec/reference/responses-fields.md"


def _plugin(name: str) -> str:
    exe = Path(sys.executable).parent / name
    found = str(exe) if exe.exists() else shutil.which(name)
    if not found:
        raise SystemExit(f"{name} not found: install the dev extra (pip install -e '.[dev]')")
    return found


def _protoc(args: list[str]) -> None:
    include = str(Path(grpc_tools.__file__).parent / "_proto")
    code = protoc.main(["grpc_tools.protoc", f"-I{PROTO_ROOT}", f"-I{include}", *args, *PROTO_FILES])
    if code != 0:
        raise SystemExit(f"protoc failed with exit code {code}")


def generate_stubs(out: Path) -> None:
    """Python messages, gRPC stubs and their typing stubs for rolemodel.v1."""
    _protoc(
        [
            f"--plugin=protoc-gen-mypy={_plugin('protoc-gen-mypy')}",
            f"--plugin=protoc-gen-mypy_grpc={_plugin('protoc-gen-mypy_grpc')}",
            f"--python_out={out}",
            f"--grpc_python_out={out}",
            f"--mypy_out={out}",
            f"--mypy_grpc_out={out}",
        ]
    )
    (out / GENERATED_STUB_DIR / "__init__.py").write_text(
        '"""Generated from proto/rolemodel/v1 by tools/generate.py. Do not edit."""\n'
    )


def generate_docs(out: Path) -> None:
    """Schema, field tables and error artefacts, from descriptors and registries."""
    with tempfile.TemporaryDirectory() as tmp:
        descriptor_path = Path(tmp) / "rolemodel.binpb"
        _protoc([f"--descriptor_set_out={descriptor_path}", "--include_source_info", "--include_imports"])
        files = load_descriptor_set(descriptor_path)
    _write(out / SCHEMA_PATH, render_catalog_schema(files))
    _write(out / FIELD_TABLES_PATH, render_field_tables(files))
    errors_yaml = ROOT / "spec" / "registry" / "errors.yaml"
    _write(out / ERROR_TABLE_PATH, render_error_table(errors_yaml))
    _write(out / ERROR_MODULE_PATH, render_error_module(errors_yaml))
    _write(out / RESPONSES_FIELDS_PATH, render_responses_fields())


def _write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)


def generated_paths() -> list[str]:
    """Paths (relative to the root) that generate() owns, for the staleness test."""
    stubs = [f"{GENERATED_STUB_DIR}/__init__.py"]
    for proto in PROTO_FILES:
        stem = proto.removesuffix(".proto")
        stubs += [f"{stem}_pb2.py", f"{stem}_pb2.pyi", f"{stem}_pb2_grpc.py", f"{stem}_pb2_grpc.pyi"]
    return [*stubs, SCHEMA_PATH, FIELD_TABLES_PATH, ERROR_TABLE_PATH, ERROR_MODULE_PATH, RESPONSES_FIELDS_PATH]


def generate(out: Path) -> None:
    (out / GENERATED_STUB_DIR).mkdir(parents=True, exist_ok=True)
    generate_stubs(out)
    generate_docs(out)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, default=ROOT, help="root to write into (default: the repository)")
    args = parser.parse_args()
    generate(args.out)


if __name__ == "__main__":
    main()
