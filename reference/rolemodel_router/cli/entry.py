"""The ``rolemodel`` entry point: the CLI, or one line naming the router extra when it is not installed."""

from __future__ import annotations

from collections.abc import Callable

from rolemodel.extras import run_with_extra


def _load() -> Callable[[], int]:
    from rolemodel_router.cli.main import main  # noqa: PLC0415 - a missing extra must be caught here

    return main


def main() -> int:
    return run_with_extra("rolemodel", "router", _load)
