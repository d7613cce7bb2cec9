"""Mutants of durability: a router that claims durable state and loses it on a restart.

The suite sees a restart only in the harness mode with ``{state}`` in the command
(the claim of durable state, spec 6.1), so these mutants are started by the suite
itself (``Mutant.durable``) with ``--state sqlite:///{state}/router.db``.
"""

from __future__ import annotations

from typing import Any

from tests.mutants.catalogue import Mutant, wrap


def state_in_memory() -> None:
    from rolemodel_router.server import app

    def make(original: Any) -> Any:
        def mutated(url: str, *rest: Any, **options: Any) -> Any:
            return original("memory:", *rest, **options)

        return mutated

    wrap(app, "open_store", make)


DURABILITY: dict[str, Mutant] = {
    "state_in_memory": Mutant(
        "state_in_memory",
        "--state names a SQLite file, but decisions and outcomes are kept in memory and lost on a restart",
        "RM-ROUTE-010",
        ("RM-ROUTE-010", "RM-OUT-008"),
        state_in_memory,
        durable=True,
    ),
}
