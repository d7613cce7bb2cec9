"""An install without the extra a program needs says in one line which extra to install.

The extras' modules are hidden from a fresh interpreter (``sys.modules[name] = None`` makes their import
fail as it fails when the package is not installed), then the console-script entry point runs.
"""

from __future__ import annotations

import re
import sys

import pytest

from rolemodel.extras import EXIT_MISSING_EXTRA
from tests.cli.cli_process import run

ROUTER_EXTRA = (
    "yaml", "redis", "prometheus_client", "opentelemetry", "jsonschema", "grpc_health", "grpc_reflection",
    "rich", "starlette", "uvicorn", "httpx",
)  # fmt: skip
CONFORMANCE_EXTRA = ("yaml", "jsonschema", "grpc_health", "rich", "starlette", "uvicorn")
SDK_ONLY = ROUTER_EXTRA
CONFORMANCE_ONLY = tuple(sorted(set(ROUTER_EXTRA) - set(CONFORMANCE_EXTRA)))


def _entry(entry: str, hidden: tuple[str, ...], *args: str) -> list[str]:
    module, _, function = entry.partition(":")
    code = (
        f"import sys\nfor name in {hidden!r}:\n    sys.modules[name] = None\n"
        f"sys.argv = ['prog', *{args!r}]\nfrom {module} import {function}\nsys.exit({function}())\n"
    )
    return [sys.executable, "-c", code]


@pytest.mark.parametrize(
    ("entry", "program", "extra", "hidden"),
    [
        ("rolemodel_router.cli.entry:main", "rolemodel", "router", SDK_ONLY),
        ("rolemodel_router.cli.entry:main", "rolemodel", "router", CONFORMANCE_ONLY),
        ("rolemodel_conformance.entry:main", "rolemodel-conformance", "conformance", SDK_ONLY),
    ],
    ids=["rolemodel-with-the-sdk-alone", "rolemodel-with-the-conformance-extra", "suite-with-the-sdk-alone"],
)
def test_a_missing_extra_is_named_in_one_line(entry: str, program: str, extra: str, hidden: tuple[str, ...]) -> None:
    done = run(_entry(entry, hidden, "--help"))
    assert done.code == EXIT_MISSING_EXTRA
    line = done.one_line()
    assert re.fullmatch(
        rf"{program}: the {extra} extra is not installed \(no module named '(\w+)'\); "
        rf"install it with: pip install 'rolemodel-protocol\[{extra}\]'",
        line,
    ), line
    assert re.findall(r"no module named '(\w+)'", line)[0] in hidden


def test_the_suite_runs_with_its_own_extra_alone() -> None:
    done = run(_entry("rolemodel_conformance.entry:main", CONFORMANCE_ONLY, "--help"))
    assert done.code == 0, done.stderr
    assert "usage: rolemodel-conformance" in done.stdout


def test_the_entry_points_are_the_guarded_ones() -> None:
    from importlib.metadata import entry_points

    scripts = {e.name: e.value for e in entry_points(group="console_scripts") if e.name.startswith("rolemodel")}
    assert scripts == {
        "rolemodel": "rolemodel_router.cli.entry:main",
        "rolemodel-conformance": "rolemodel_conformance.entry:main",
    }
