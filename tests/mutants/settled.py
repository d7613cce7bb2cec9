"""Mutants of rules the spec once left open and now settles: each reads the settled rule the other way.

* what may have been billed (spec 10.2): an error status counted as billed;
* a client's deadline against its cancellation (spec 10.2): every abandoned call
  recorded as cancelled, or every one as timed out;
* who ends a stream at its deadline (spec 10.2): the router waits past it, so the client's
  library ends the call with a status of its own, without ErrorInfo;
* the order of a decision's reasons (spec 6.9, the reason registry's stages);
* how a breakpoint's TTL is written to Anthropic (spec 8.5).
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from tests.mutants.catalogue import Mutant, _decision_after, wrap

#: A tolerance so large (or so negative) that every abandoned call falls on one side of it.
FOREVER_S = 1e9


def error_status_billed() -> None:
    from rolemodel_router.execute import backend_call

    wrap(
        backend_call,
        "from_status",
        lambda original: lambda error, headers: replace(original(error, headers), billed=True),
    )


def abandoned_always_cancelled() -> None:
    from rolemodel_router.execute import executor

    executor.DEADLINE_TOLERANCE_S = -FOREVER_S


def abandoned_always_timeout() -> None:
    from rolemodel_router.execute import executor

    executor.DEADLINE_TOLERANCE_S = FOREVER_S


def deadline_left_to_the_client() -> None:
    from rolemodel_router.execute import deadline

    deadline.DEADLINE_MARGIN_S = -1.0


def reasons_reversed() -> None:
    def reverse(decision: Any, request: Any) -> None:
        kept = list(decision.reasons)
        del decision.reasons[:]
        decision.reasons.extend(reversed(kept))

    _decision_after(reverse)


def anthropic_breakpoints_one_hour() -> None:
    from rolemodel.dialects.anthropic_messages import blocks

    wrap(blocks, "encode_cache_control", lambda original: lambda breakpoint_: {"type": "ephemeral", "ttl": "1h"})


def _m(name: str, violation: str, expect: str, patch: Any) -> Mutant:
    return Mutant(name, violation, expect, (expect,), patch)


SETTLED: dict[str, Mutant] = {
    m.name: m
    for m in (
        _m(
            "error_status_billed",
            "a 500 answer counts against the turn budget as if it may have been billed",
            "RM-EXEC-010",
            error_status_billed,
        ),
        _m(
            "abandoned_always_cancelled",
            "a call past its deadline is recorded as cancelled",
            "RM-EXEC-013",
            abandoned_always_cancelled,
        ),
        _m(
            "abandoned_always_timeout",
            "a call the client cancelled is recorded as timed out",
            "RM-EXEC-013",
            abandoned_always_timeout,
        ),
        _m(
            "deadline_left_to_the_client",
            "a stream that runs into its deadline is ended by the client's library, not by the router",
            "RM-EXEC-018",
            deadline_left_to_the_client,
        ),
        _m("reasons_reversed", "a decision's reasons come last step first", "RM-ROUTE-005", reasons_reversed),
        _m(
            "anthropic_breakpoints_one_hour",
            "every breakpoint is written to Anthropic with ttl 1h, whatever its ttl_seconds",
            "RM-EXEC-006",
            anthropic_breakpoints_one_hour,
        ),
    )
}
