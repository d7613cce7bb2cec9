"""Mutants of the ``attempt_started`` event (spec 10.1, issue 19): attempts announced or named wrongly.

The failure the event exists to end is a client told that the decision's choice serves when a
fallback does. Two routers send the event, so RM-EXEC-008 binds them, and get it wrong; the third
announces right, but its HTTP front door names the decision's choice whatever was attempted
(RM-HTTP-043), as the front door did before the event existed.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator
from contextlib import aclosing
from typing import Any

from tests.mutants.catalogue import Mutant, wrap
from tests.mutants.front_door import SERVE_FRONT_DOOR


def _rewrite_announcements(change: Any) -> None:
    """Let ``change(call, event)`` edit every ``attempt_started`` event a call sends."""
    from rolemodel_router.execute import executor

    def make(original: Any) -> Any:
        async def mutated(self: Any) -> AsyncGenerator[Any, None]:
            async with aclosing(original(self)) as batches:
                async for batch in batches:
                    for event in batch:
                        if event.HasField("attempt_started"):
                            change(self, event.attempt_started)
                    yield batch

        return mutated

    wrap(executor._Call, "_attempts", make)


def names_the_chosen_endpoint() -> None:
    def change(call: Any, started: Any) -> None:
        started.endpoint_id = call.decision.chosen_endpoint_id

    _rewrite_announcements(change)


def numbers_every_attempt_one() -> None:
    def change(call: Any, started: Any) -> None:
        started.attempt = 1

    _rewrite_announcements(change)


def front_door_names_the_choice() -> None:
    from rolemodel_router.http import response_headers

    def make(original: Any) -> Any:
        return lambda decision, endpoint_id, role_source: original(decision, decision.chosen_endpoint_id, role_source)

    wrap(response_headers, "decision_headers", make)


ATTEMPTS: dict[str, Mutant] = {
    m.name: m
    for m in (
        Mutant(
            "names_the_chosen_endpoint",
            "every attempt_started names the decision's chosen endpoint, also when a fallback is called",
            "RM-EXEC-008",
            ("RM-EXEC-008",),
            names_the_chosen_endpoint,
        ),
        Mutant(
            "numbers_every_attempt_one",
            "every attempt_started says it is the first attempt",
            "RM-EXEC-008",
            ("RM-EXEC-008",),
            numbers_every_attempt_one,
        ),
        Mutant(
            "front_door_names_the_choice",
            "x-rolemodel-endpoint names the decision's chosen endpoint, whichever endpoint was attempted",
            "RM-HTTP-043",
            ("RM-HTTP-043",),
            front_door_names_the_choice,
            serve=SERVE_FRONT_DOOR,
        ),
    )
}
