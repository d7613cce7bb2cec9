"""The SDK imports nothing from the router or the conformance suite, and nothing heavy."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
ALLOWED_THIRD_PARTY = {"grpc", "google"}


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text())
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module.split(".")[0])
    return names


def test_sdk_sources_import_only_the_standard_library_grpc_and_protobuf() -> None:
    stdlib = set(sys.stdlib_module_names)
    for path in (ROOT / "rolemodel").rglob("*.py"):
        foreign = _imports(path) - stdlib - ALLOWED_THIRD_PARTY - {"rolemodel", "__future__"}
        assert foreign == set(), f"{path.relative_to(ROOT)} imports {foreign}"


def test_importing_the_sdk_loads_neither_the_router_nor_the_suite() -> None:
    code = (
        "import sys, rolemodel, rolemodel.cost, rolemodel.digest, rolemodel.tokens, rolemodel.errors;"
        "heavy=('rolemodel_router','rolemodel_conformance','yaml','jsonschema');"
        "bad=[m for m in sys.modules if m.split('.')[0] in heavy];"
        "print(bad); sys.exit(1 if bad else 0)"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stdout + result.stderr
