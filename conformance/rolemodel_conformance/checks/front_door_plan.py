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
#: A header the client sends that no endpoint lists in client_credential_headers (spec 14.8).
PRIVATE_HEADER = "x-conformance-private"
HTTP_OK, HTTP_UNAUTHORIZED = 200, 401


def _codex_headers(headers: httpx.Headers) -> dict[str, str]:
    return {k: v for k, v in headers.items() if k.lower().startswith("x-codex-")}


def _ask(ctx: CheckContext, endpoint_id: str, login: dict[str, str]) -> httpx.Response:
    """A Chat Completions turn pinned to ``endpoint_id``, carrying the login (and the router token in x-api-key)."""
    headers = {**login, PRIVATE_HEADER: "not for the endpoint"}
    if ctx.probe.connection.token:
        headers["x-api-key"] = ctx.probe.connection.token
    body = {
        "model": f"rolemodel/{ROLE}@{endpoint_id}",
        "messages": [{"role": "user", "content": f"How much of my plan is used? {ctx.canary()}"}],
    }
    with httpx.Client(verify=verify(ctx), timeout=TIMEOUT_S) as client:
        return client.post(base_url(ctx) + "/v1/chat/completions", json=body, headers=headers)


def _forwarded_headers(ctx: CheckContext, sent: object, login: dict[str, str]) -> None:
    """RM-HTTP-072: the endpoint's listed headers pass as the client's credential; nothing else the client sent."""
    headers = {str(k).lower(): str(v) for k, v in sent.items()} if isinstance(sent, dict) else {}
    token = ctx.probe.connection.token
    problems = [f"{name} did not arrive" for name, value in login.items() if headers.get(name) != value]
    if PRIVATE_HEADER in headers:
        problems.append(f"{PRIVATE_HEADER}, which no endpoint lists, was forwarded")
    if token and any(token in value for value in headers.values()):
        problems.append("the router's own token was forwarded")
    ctx.expect(
        "RM-HTTP-072",
        not problems,
        f"{SUBSCRIPTION} receives the headers it lists in client_credential_headers and nothing else of the "
        f"client's: {'; '.join(problems) or 'yes'}",
    )


@check(
    "front-door",
    "A subscription's usage headers reach its own user, the operator's never do; a login and a token ride together",
    ("RM-HTTP-044", "RM-HTTP-072", "RM-HTTP-073"),
)
def plan_usage_headers(ctx: CheckContext) -> None:
    backends = ctx.backends()
    backends.set_up({SUBSCRIPTION: {"subscription": PLAN}, OPERATORS: {"subscription": PLAN}})
    backends.script({SUBSCRIPTION: [reply("About a quarter.")], OPERATORS: [reply("Not yours to know.")]})
    account = ctx.canary().replace(" ", "-")
    login = {"authorization": f"Bearer sub-{account}", "x-conformance-account": account}
    own = _ask(ctx, SUBSCRIPTION, login)
    received = backends.received(SUBSCRIPTION)
    with_token = ctx.claims("ROUTER_CAPABILITY_AUTH") and bool(ctx.probe.connection.token)
    if with_token and own.status_code == HTTP_UNAUTHORIZED:
        ctx.failed(
            "RM-HTTP-073",
            "the login in Authorization and the router token in x-api-key were refused as a failed token: "
            f"HTTP {own.status_code} {own.text[:200]}",
        )
    if own.status_code != HTTP_OK or not received:
        raise NotObservable(
            f"{SUBSCRIPTION} did not serve through the front door: HTTP {own.status_code} {own.text[:300]}"
        )
    if with_token:
        sent = received[-1].get("headers")
        same = isinstance(sent, dict) and str(sent.get("authorization", "")) == login["authorization"]
        ctx.expect(
            "RM-HTTP-073",
            same,
            "with the login in Authorization and the router token in x-api-key, the request is served and "
            f"{SUBSCRIPTION} gets the login: it received {'the login' if same else 'another authorization'}",
        )
    _forwarded_headers(ctx, received[-1].get("headers"), login)
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
