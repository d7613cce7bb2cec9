"""Mutants of tenancy (issue 17, spec 12.5): principals that share state, tokens that pin beyond their roles.

Each runs with two tokens, the suite's and a chat-only one (``Mutant.tokens``), and says in one
sentence what it breaks.
"""

from __future__ import annotations

from typing import Any

from tests.mutants.catalogue import Mutant, wrap


def one_namespace_for_everyone() -> None:
    from rolemodel_router import core

    wrap(core, "scoped", lambda original: lambda client_id, principal=None: client_id)
    wrap(core, "owns", lambda original: lambda key, principal=None: True)


def decisions_of_any_principal() -> None:
    from rolemodel_router import core

    wrap(core, "owns", lambda original: lambda key, principal=None: True)


def pins_beyond_the_roles() -> None:
    from rolemodel_router import core

    def make(original: Any) -> Any:
        return lambda *args, **kwargs: None

    wrap(core, "check_pin", make)


def reported_failures_cool_down() -> None:
    from rolemodel_router import core

    wrap(core, "_without_cooldown", lambda original: lambda after, before: after)


TENANCY: dict[str, Mutant] = {
    m.name: m
    for m in (
        Mutant(
            "one_namespace_for_everyone",
            "conversation ids and keys are global: one principal's failures escalate another's conversation",
            "RM-AUTH-010",
            ("RM-AUTH-01*",),
            one_namespace_for_everyone,
            tokens=True,
        ),
        Mutant(
            "decisions_of_any_principal",
            "any principal may report the outcome of another's decision",
            "RM-AUTH-011",
            ("RM-AUTH-01*",),
            decisions_of_any_principal,
            tokens=True,
        ),
        Mutant(
            "pins_beyond_the_roles",
            "a chat-only token may pin an endpoint that only other roles use",
            "RM-AUTH-005",
            ("RM-AUTH-005",),
            pins_beyond_the_roles,
            tokens=True,
        ),
        Mutant(
            "reported_failures_cool_down",
            "with tokens on, failures any client reports put an endpoint into a cooldown for everyone",
            "RM-AUTH-013",
            ("RM-AUTH-013", "RM-OUT-02*"),
            reported_failures_cool_down,
            tokens=True,
        ),
    )
}
