"""Client credentials (spec 12.4): a subscription endpoint gets the client's own login, and nobody else does.

``fx-subscription`` lists ``authorization`` and ``x-conformance-account`` in its connection; the
role ``x-conformance.subscription`` tries it first and ``fx-local`` after it. The suite sends a
credential made fresh for the run (so that nothing else in the run can contain it by chance) as
``rolemodel-credential-*`` metadata, and reads back the headers each backend received.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from rolemodel.v1 import decision_pb2
from rolemodel_conformance.builders import route_request
from rolemodel_conformance.checks import check
from rolemodel_conformance.checks.execute_support import (
    Stream,
    describe_received,
    execute,
    expect_order,
    fault,
    messages,
    plan,
    reply,
    request,
    same_plan,
)
from rolemodel_conformance.checks.health import wait_until_healthy
from rolemodel_conformance.context import CheckContext, NotObservable

ROLE = "x-conformance.subscription"
SUBSCRIPTION, FALLBACK = "fx-subscription", "fx-local"
HEADERS = ("authorization", "x-conformance-account")
MISSING = "EXCLUSION_CODE_CLIENT_CREDENTIAL_MISSING"


def _credential(ctx: CheckContext) -> dict[str, str]:
    canary = ctx.canary().replace(" ", "-")
    return {"authorization": f"Bearer sub-token-{canary}", "x-conformance-account": f"acct-{canary}"}


def _headers(recorded: Mapping[str, Any]) -> dict[str, str]:
    headers = recorded.get("headers")
    return {str(k).lower(): str(v) for k, v in headers.items()} if isinstance(headers, dict) else {}


def _seen(ctx: CheckContext, streams: list[Stream]) -> str:
    """Everything the router sent the suite in this run so far, as text."""
    seen = [str(e) for s in streams for e in s.events]
    seen += [str(d) for d, _ in ctx.run.decisions]
    seen += [f"{r.message} {r.metadata}" for r in ctx.run.refusals]
    seen.append(str(ctx.probe.card()))
    return "\n".join(seen)


def _codes(decision: decision_pb2.Decision | None, endpoint_id: str) -> list[str]:
    """The names of the endpoint's exclusion codes in the decision."""
    if decision is None:
        return []
    names = decision_pb2.ExclusionCode.Name
    return [names(e.code) for c in decision.candidates if c.endpoint_id == endpoint_id for e in c.exclusions]


@check(
    "execute",
    "A subscription endpoint gets the client's credential, and its fallback and the client's view never do",
    ("RM-SEC-020", "RM-SEC-021", "RM-SEC-023"),
)
def client_credential(ctx: CheckContext) -> None:
    backends = ctx.backends()
    credential = _credential(ctx)
    call = request(ctx, ROLE, messages(ctx, "Plan the change."))
    expect_order(plan(ctx, call), [SUBSCRIPTION, FALLBACK])
    backends.script({SUBSCRIPTION: [reply("Planned on the subscription.")]})
    served = execute(ctx, call, credential=credential)
    same_plan(served, plan(ctx, call))
    received = backends.received(SUBSCRIPTION)
    if served.completed is None or not received:
        raise NotObservable(
            f"the subscription did not answer: {served.ending()}; it received {describe_received(received)}"
        )
    got = _headers(received[-1])
    ctx.expect(
        "RM-SEC-021",
        all(got.get(name) == credential[name] for name in HEADERS),
        f"{SUBSCRIPTION} is called with the client's {list(HEADERS)} exactly as sent: "
        f"it received {sorted(n for n in HEADERS if n in got)} with "
        f"{'matching' if all(got.get(n) == credential[n] for n in HEADERS) else 'other'} values",
    )

    backends.script({SUBSCRIPTION: [fault("rate_limited", retry_after=0.2)], FALLBACK: [reply("Planned locally.")]})
    again = request(ctx, ROLE, messages(ctx, "Plan the change again."))
    fallback = execute(ctx, again, credential=credential)
    local = backends.received(FALLBACK)
    if fallback.completed is None or fallback.completed.served_endpoint_id != FALLBACK or not local:
        raise NotObservable(f"the fallback did not serve after the subscription's 429: {fallback.ending()}")
    leaked = [name for name in HEADERS if credential[name] in str(_headers(local[-1]))]
    ctx.expect(
        "RM-SEC-020",
        not leaked,
        f"{FALLBACK}, a fallback that lists no client credential headers, gets none of the client's credential: "
        f"it received the values of {leaked}",
    )
    seen = _seen(ctx, [served, fallback])
    ctx.expect(
        "RM-SEC-023",
        not any(value.removeprefix("Bearer ") in seen for value in credential.values()),
        "the client's credential appears in no event, decision, error or card the suite received",
    )
    _settle(ctx, credential)


def _settle(ctx: CheckContext, credential: Mapping[str, str]) -> None:
    """Wait out the 429's Retry-After, then one success, so that fx-subscription drifts towards no cooldown.

    The shared ``settle`` cannot do it: its call carries no credential, so fx-subscription is excluded.
    """
    wait_until_healthy(ctx, SUBSCRIPTION)
    ctx.backends(reset=False).script({SUBSCRIPTION: [reply("Settled.")]})
    execute(ctx, request(ctx, ROLE, messages(ctx, "Settle."), pinned=SUBSCRIPTION), credential=credential)


@check(
    "execute",
    "Without the client's credential Execute excludes the subscription with its own code; Route does not",
    ("RM-SEC-022",),
)
def credential_missing(ctx: CheckContext) -> None:
    """The Execute half needs Execute; the Route half holds for every router."""
    if ctx.claims("ROUTER_CAPABILITY_EXECUTE"):
        backends = ctx.backends()
        backends.script({FALLBACK: [reply("Planned locally, no login came with the call.")]})
        partial = {"authorization": _credential(ctx)["authorization"]}
        stream = execute(ctx, request(ctx, ROLE, messages(ctx, "Plan it.")), credential=partial)
        codes = _codes(stream.decision, SUBSCRIPTION)
        ctx.expect(
            "RM-SEC-022",
            MISSING in codes,
            f"a call that carries authorization but not x-conformance-account: {SUBSCRIPTION} is excluded with "
            f"CLIENT_CREDENTIAL_MISSING; got {codes}",
        )
        ctx.expect(
            "RM-SEC-022",
            not backends.received(SUBSCRIPTION),
            f"{SUBSCRIPTION} is not called without the credential: it received "
            f"{describe_received(backends.received(SUBSCRIPTION))}",
        )
    call = request(ctx, ROLE, messages(ctx, "Plan it."))
    routed = ctx.probe.route(
        route_request(call.conversation, call.hints, dry_run=ctx.claims("ROUTER_CAPABILITY_DRY_RUN"))
    )
    ctx.expect(
        "RM-SEC-022",
        MISSING not in _codes(routed, SUBSCRIPTION),
        f"Route, where the client makes the call itself, does not exclude {SUBSCRIPTION} for a missing credential",
    )
