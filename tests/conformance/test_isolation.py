"""The suite is a black box: it imports nothing from the reference router, in its source or at run time."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import rolemodel_conformance

PACKAGE = Path(rolemodel_conformance.__file__).parent


def _imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(), str(path))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
    return names


def test_no_module_of_the_suite_imports_the_router() -> None:
    offenders = {
        str(path.relative_to(PACKAGE)): sorted(n for n in _imported_modules(path) if n.startswith("rolemodel_router"))
        for path in PACKAGE.rglob("*.py")
    }
    assert {k: v for k, v in offenders.items() if v} == {}


def test_loading_every_check_loads_no_router_module() -> None:
    code = (
        "import sys\n"
        "from rolemodel_conformance.checks import all_checks\n"
        "import rolemodel_conformance.cli, rolemodel_conformance.pytest_plugin\n"
        "assert len(all_checks()) > 50\n"
        "print(sorted(m for m in sys.modules if m.startswith('rolemodel_router')))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60)
    assert done.stdout.strip() == "[]"
