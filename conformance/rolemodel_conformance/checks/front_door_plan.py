"""A subscription's usage through the front door (spec 14.5, 14.8): back to its own user, and only theirs.

``fx-subscription`` is called with the client's own login (``authorization`` and
``x-conformance-account``); the suite's backend plays a ChatGPT plan on it and on ``fx-local``,
reporting both windows in Codex's ``x-codex-*`` headers. ``fx-local`` is called with the
router's own key (none), so the usage it reports is the operator's. With authentication on, the
suite sends the login as the bearer token and its router token in ``x-api-key``, as a Codex
user signed in with ChatGPT does.
"""

from __future__ import annotations

import httpx

from rolemodel_conformance.checks import check
from rolemodel_conformance.checks.execute_support import reply
from rolemodel_conformance.checks.front_door_support import TIMEOUT_S, base_url, verify
from rolemodel_conformance.context import CheckContext, NotObservable

ROLE = "x-conformance.subscription"
SUBSCRIPTION, OPERATORS = "fx-subscription", "fx-local"
PLAN = {"family": "codex", "short_capacity": 1e9, "long_capacity": 1e10, "short_used": 0.23, "long_used": 0.11}
SHARE_HEADER = "x-codex-primary-used-percent"
HTTP_OK = 200


def _codex_headers(headers: httpx.Headers) -> dict[str, str]:
    return {k: v for k, v in headers.items() if k.lower().startswith("x-codex-")}


def _ask(ctx: CheckContext, endpoint_id: str, login: dict[str, str]) -> httpx.Response:
    """A Chat Completions turn pinned to ``endpoint_id``, carrying the login (and the router token in x-api-key)."""
    headers = dict(login)
    if ctx.probe.connection.token:
        headers["x-api-key"] = ctx.probe.connection.token
    body = {
        "model": f"rolemodel/{ROLE}@{endpoint_id}",
        "messages": [{"role": "user", "content": f"How much of my plan is used? {ctx.canary()}"}],
    }
    with httpx.Client(verify=verify(ctx), timeout=TIMEOUT_S) as client:
        return client.post(base_url(ctx) + "/v1/chat/completions", json=body, headers=headers)


@check(
    "front-door",
    "A subscription's usage headers reach its own user, the operator's never do; a login and a token ride together",
    ("RM-HTTP-044", "RM-HTTP-073"),
)
def plan_usage_headers(ctx: CheckContext) -> None:
    backends = ctx.backends()
    backends.set_up({SUBSCRIPTION: {"subscription": PLAN}, OPERATORS: {"subscription": PLAN}})
    backends.script({SUBSCRIPTION: [reply("About a quarter.")], OPERATORS: [reply("Not yours to know.")]})
    account = ctx.canary().replace(" ", "-")
    login = {"authorization": f"Bearer sub-{account}", "x-conformance-account": account}
    own = _ask(ctx, SUBSCRIPTION, login)
    received = backends.received(SUBSCRIPTION)
    if own.status_code != HTTP_OK or not received:
        raise NotObservable(
            f"{SUBSCRIPTION} did not serve through the front door: HTTP {own.status_code} {own.text[:300]}"
        )
    if ctx.claims("ROUTER_CAPABILITY_AUTH") and ctx.probe.connection.token:
        sent = received[-1].get("headers")
        same = isinstance(sent, dict) and str(sent.get("authorization", "")) == login["authorization"]
        ctx.expect(
            "RM-HTTP-073",
            same,
            "with the login in Authorization and the router token in x-api-key, the request is served and "
            f"{SUBSCRIPTION} gets the login: it received {'the login' if same else 'another authorization'}",
        )
    shown = _codex_headers(own.headers)
    share = shown.get(SHARE_HEADER, "")
    ctx.expect(
        "RM-HTTP-044",
        share.replace(".", "", 1).isdigit() and abs(float(share) - 23) <= 1,
        f"the answer of {SUBSCRIPTION}, called with the client's login, carries its plan's {SHARE_HEADER} "
        f"(the backend reported 23%): got {shown or 'no x-codex-* header'}",
    )
    theirs = _ask(ctx, OPERATORS, login)
    if theirs.status_code != HTTP_OK:
        raise NotObservable(f"{OPERATORS} did not serve through the front door: HTTP {theirs.status_code}")
    ctx.expect(
        "RM-HTTP-044",
        not _codex_headers(theirs.headers),
        f"the answer of {OPERATORS}, called with the router's own key, carries none of its usage headers: "
        f"got {_codex_headers(theirs.headers)}",
    )
