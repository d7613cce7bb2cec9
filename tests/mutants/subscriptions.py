"""Mutants of subscriptions (issue 12): a client's login that leaks, usage reports that are dropped.

Each patches the reference router in its own process, like the other rounds, and says in one
sentence what it breaks.
"""

from __future__ import annotations

from typing import Any

from tests.mutants.catalogue import Mutant, wrap


def credential_to_every_endpoint() -> None:
    from rolemodel_router.execute import executor

    def make(original: Any) -> Any:
        async def mutated(self: Any, endpoint_id: str) -> Any:
            attempt = await original(self, endpoint_id)
            attempt._headers.update(self.credential._values)
            return attempt

        return mutated

    wrap(executor._Call, "_attempt", make)


def usage_reports_dropped() -> None:
    from rolemodel_router.engine import usage_windows

    wrap(usage_windows, "after_outcome", lambda original: lambda *args, **kwargs: {})


SUBSCRIPTIONS: dict[str, Mutant] = {
    m.name: m
    for m in (
        Mutant(
            "credential_to_every_endpoint",
            "the client's credential goes to every endpoint it calls, fallbacks included",
            "RM-SEC-020",
            ("RM-SEC-02*",),
            credential_to_every_endpoint,
        ),
        Mutant(
            "usage_reports_dropped",
            "the usage windows an outcome reports are never recorded",
            "RM-QUOTA-010",
            ("RM-QUOTA-01*", "RM-SHARE-003", "RM-OUT-012"),
            usage_reports_dropped,
        ),
    )
}
