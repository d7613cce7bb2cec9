"""The ``rolemodel-conformance`` entry point: the suite, or one line naming the conformance extra."""

from __future__ import annotations

from collections.abc import Callable

from rolemodel.extras import run_with_extra


def _load() -> Callable[[], int]:
    from rolemodel_conformance.cli import main  # noqa: PLC0415 - a missing extra must be caught here

    return main


def main() -> int:
    return run_with_extra("rolemodel-conformance", "conformance", _load)
