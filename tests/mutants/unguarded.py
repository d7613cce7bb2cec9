"""Mutants of rules that had no mutant: each proves that the check of one more rule can fail.

* x-should-retry (RM-HTTP-061, a SHOULD): the header is renamed, so the clients never see it;
* a subscription's usage (RM-HTTP-044): the client's own plan's headers are dropped, or the
  operator's plan's headers reach the client;
* a login and a router token in one request (RM-HTTP-073): only the bearer is tried as the token;
* custom tools (RM-ELIG-008): they exclude no endpoint;
* compact candidates (RM-ROUTE-012): each omitted count is one short.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from tests.mutants.catalogue import Mutant, _decide_with, _decision_after, wrap
from tests.mutants.front_door import SERVE_FRONT_DOOR


def should_retry_renamed() -> None:
    from rolemodel_router.http import errors

    errors.SHOULD_RETRY_HEADER = "x-rolemodel-should-retry"


def own_plan_usage_dropped() -> None:
    from rolemodel_router.execute import backend_call

    wrap(backend_call, "is_usage_header", lambda original: lambda name: False)  # imported there by name


def operators_plan_usage_shown() -> None:
    from rolemodel_router.execute import executor

    def make(original: Any) -> Any:
        async def mutated(self: Any, endpoint_id: str) -> Any:
            attempt = await original(self, endpoint_id)
            attempt._plan_usage = self.credential.plan_usage  # whoever's key called the endpoint
            return attempt

        return mutated

    wrap(executor._Call, "_attempt", make)


def login_taken_for_token() -> None:
    from rolemodel_router.http import auth

    wrap(auth, "presented_tokens", lambda original: lambda headers: original(headers)[:1])


def custom_tools_ignored() -> None:
    _decide_with(lambda request: replace(request, custom_tools=frozenset()))


def omitted_count_short() -> None:
    def shorten(decision: Any, request: Any) -> None:
        for entry in decision.omitted_candidates:
            entry.endpoint_count = max(1, entry.endpoint_count - 1)

    _decision_after(shorten)


def _m(name: str, violation: str, expect: str, patch: Any, **more: Any) -> Mutant:
    return Mutant(name, violation, expect, (expect,), patch, **more)


UNGUARDED: dict[str, Mutant] = {
    m.name: m
    for m in (
        _m(
            "should_retry_renamed",
            "front-door errors carry no x-should-retry header",
            "RM-HTTP-061",
            should_retry_renamed,
            serve=SERVE_FRONT_DOOR,
        ),
        _m(
            "own_plan_usage_dropped",
            "a subscription's usage headers do not reach the client whose login called it",
            "RM-HTTP-044",
            own_plan_usage_dropped,
            serve=SERVE_FRONT_DOOR,
        ),
        _m(
            "operators_plan_usage_shown",
            "the usage headers of an endpoint called with the router's key reach the client",
            "RM-HTTP-044",
            operators_plan_usage_shown,
            serve=SERVE_FRONT_DOOR,
        ),
        _m(
            "login_taken_for_token",
            "with a login in Authorization and the router token in x-api-key, only the login is tried as a token",
            "RM-HTTP-073",
            login_taken_for_token,
            serve=SERVE_FRONT_DOOR,
            tokens=True,
        ),
        _m("custom_tools_ignored", "a custom tool excludes no endpoint", "RM-ELIG-008", custom_tools_ignored),
        _m(
            "omitted_count_short",
            "compact candidates count one endpoint too few under each omitted code",
            "RM-ROUTE-012",
            omitted_count_short,
        ),
    )
}
