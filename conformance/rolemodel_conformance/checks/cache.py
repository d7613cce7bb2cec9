"""Cache state after decisions: provisional entries, separate entries, TTL expiry, refresh on hit (spec 7.3, 7.4).

State is read back through the next decision's candidates: ``cache`` shows
what each endpoint holds and ``cost.cached_tokens`` what it is worth for the
new prompt. Time-dependent steps wait real time on fx-short-ttl (3 s TTL).
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from rolemodel.v1 import decision_pb2, hints_pb2
from rolemodel_conformance.builders import Prompt, pin
from rolemodel_conformance.checks import check
from rolemodel_conformance.checks.helpers import probe_refreshes, probe_route, route
from rolemodel_conformance.context import CheckContext
from rolemodel_conformance.expectations import Held, cached_tokens, candidate, reason

D = decision_pb2
#: How far a recorded expiry may be from decision time + TTL, in ms (both come from one clock reading).
EXPIRY_SLACK_MS = 5
FIRST_TOKENS = 3000
#: How long before the expiry the last live probe is made.
PROBE_LEAD_S = 0.2


@dataclass(frozen=True)
class View:
    held: int
    matched: int
    cached: int
    source: str
    expires_ms: int
    expired: bool


def view(decision: D.Decision, endpoint_id: str) -> View:
    c = candidate(decision, endpoint_id)
    if c is None or not c.HasField("cache"):
        return View(0, 0, c.cost.cached_tokens if c else 0, "", 0, False)
    return View(
        c.cache.held_tokens,
        c.cache.matched_tokens,
        c.cost.cached_tokens,
        D.CacheStateSource.Name(c.cache.source),
        c.cache.expires_at.ToMilliseconds(),
        c.cache.expired,
    )


def created_ms(decision: D.Decision) -> int:
    return decision.created_at.ToMilliseconds()


def near(a: int, b: int, slack: int = EXPIRY_SLACK_MS) -> bool:
    return abs(a - b) <= slack


def expiry_after_probe(ctx: CheckContext, probe: D.Decision, seen: View, endpoint_id: str) -> int:
    """The entry's expiry once ``probe`` is done: moved by the probe itself when it is a refreshing read."""
    caching = ctx.fixture.endpoints[endpoint_id].caching
    if probe_refreshes(ctx) and caching.refresh_on_hit and seen.cached > 0:
        return created_ms(probe) + caching.ttl_seconds * 1000
    return seen.expires_ms


def pinned(role: str, endpoint_id: str, expected_output_tokens: int | None = None) -> hints_pb2.RoutingHints:
    return hints_pb2.RoutingHints(
        role=role, endpoint_choice=pin(endpoint_id), expected_output_tokens=expected_output_tokens
    )


def side(role: str, endpoint_id: str) -> hints_pb2.RoutingHints:
    routing = pinned(role, endpoint_id)
    routing.side_request.merge_back = False
    return routing


@check(
    "cache",
    "A main turn leaves a provisional entry; a too-short prompt leaves the entry alone",
    ("RM-CACHE-010", "RM-CACHE-001", "RM-ROUTE-042", "RM-CONV-005"),
)
def provisional_entry(ctx: CheckContext) -> None:
    ctx.require_capability("ROUTER_CAPABILITY_CACHE_ACCOUNTING", "what an endpoint holds")
    conversation = ctx.ids.conversation("provisional")
    first = Prompt.of([FIRST_TOKENS])
    d0 = route(ctx, conversation, first, pinned("code.edit", "fx-gpt5", expected_output_tokens=400))
    follow = first.extend([900, 100])
    probe = probe_route(ctx, conversation, follow, pinned("code.edit", "fx-gpt5"), turn=1)
    got = view(probe, "fx-gpt5")
    ttl_ms = ctx.fixture.endpoints["fx-gpt5"].caching.ttl_seconds * 1000
    ctx.expect(
        "RM-CACHE-010",
        got.held == FIRST_TOKENS
        and got.source == "CACHE_STATE_SOURCE_PROVISIONAL"
        and near(got.expires_ms, created_ms(d0) + ttl_ms),
        f"after a main turn of 3000 tokens on fx-gpt5: held {got.held}, {got.source}, expires "
        f"{got.expires_ms - created_ms(d0)} ms after the decision (TTL {ttl_ms} ms)",
    )
    matched, cached = cached_tokens(ctx.fixture, "fx-gpt5", follow, Held(first, 400))
    for requirement in ("RM-CACHE-010", "RM-CACHE-001"):
        ctx.expect(
            requirement,
            (got.matched, got.cached) == (matched, cached),
            f"the next prompt matches {got.matched} and caches {got.cached}; expected {matched} and "
            f"{cached} (reply_tokens = O = 400)",
        )
    warm = reason(probe, "CACHE_WARM")
    ctx.expect(
        "RM-ROUTE-042",
        warm is not None and str(cached) in warm.detail,
        f"CACHE_WARM naming {cached} cached tokens: {warm.detail if warm else 'absent'}",
    )
    expiry = expiry_after_probe(ctx, probe, got, "fx-gpt5")
    route(ctx, conversation, Prompt.of([500]), pinned("code.edit", "fx-gpt5"), turn=1)
    again = view(probe_route(ctx, conversation, follow, pinned("code.edit", "fx-gpt5"), turn=2), "fx-gpt5")
    ctx.expect(
        "RM-CACHE-010",
        (again.held, again.expires_ms) == (got.held, expiry),
        f"a 500-token turn (below min_cacheable_tokens) leaves the entry: held {again.held}, expiry moved by "
        f"{again.expires_ms - expiry} ms",
    )
    if ctx.wants("RM-CONV-005"):
        diverged = Prompt(first.digests + Prompt.of([900]).digests, (3000, 900)).extend([100])
        other = view(probe_route(ctx, conversation, diverged, pinned("code.edit", "fx-gpt5"), turn=2), "fx-gpt5")
        ctx.expect(
            "RM-CONV-005",
            other.matched == FIRST_TOKENS + min(900, 400),
            f"same first digest: matched {other.matched}, expected {3000 + 400}",
        )
        stranger = view(
            probe_route(ctx, conversation, Prompt.of([3000, 900, 100]), pinned("code.edit", "fx-gpt5"), turn=2),
            "fx-gpt5",
        )
        ctx.expect("RM-CONV-005", stranger.matched == 0, f"no equal digest: matched {stranger.matched}, expected 0")


@check("cache", "Each endpoint keeps its own entry when the conversation moves", ("RM-CACHE-002",))
def separate_entries(ctx: CheckContext) -> None:
    ctx.require_capability("ROUTER_CAPABILITY_CACHE_ACCOUNTING", "what an endpoint holds")
    conversation = ctx.ids.conversation("separate")
    first = Prompt.of([2000])
    route(ctx, conversation, first, pinned("code.edit", "fx-gpt5", expected_output_tokens=100))
    second = first.extend([100, 50])
    route(ctx, conversation, second, pinned("code.edit", "fx-mini", expected_output_tokens=100), turn=1)
    third = second.extend([100, 60])
    probe = probe_route(ctx, conversation, third, hints_pb2.RoutingHints(role="code.edit"), turn=2)
    for endpoint_id, held in (("fx-gpt5", Held(first, 100)), ("fx-mini", Held(second, 100))):
        want = cached_tokens(ctx.fixture, endpoint_id, third, held)
        got = view(probe, endpoint_id)
        ctx.expect(
            "RM-CACHE-002",
            (got.matched, got.cached) == want,
            f"'{endpoint_id}' after moving gpt5 -> mini: matched/cached {(got.matched, got.cached)}, expected {want}",
        )


@check(
    "cache",
    "Entries expire at decision time + TTL; reads without refresh do not extend them",
    ("RM-CACHE-003", "RM-CACHE-012"),
)
def ttl_expiry(ctx: CheckContext) -> None:
    ctx.require_capability("ROUTER_CAPABILITY_CACHE_ACCOUNTING", "cache expiry")
    conversation = ctx.ids.conversation("ttl")
    first = Prompt.of([2000])
    d0 = route(ctx, conversation, first, pinned("x-conformance.ttl", "fx-short-ttl"))
    expiry = created_ms(d0) + ctx.fixture.endpoints["fx-short-ttl"].caching.ttl_seconds * 1000
    follow = first.extend([100])
    time.sleep(0.8)
    if ctx.claims("ROUTER_CAPABILITY_SIDE_REQUESTS"):
        route(ctx, conversation, follow, side("x-conformance.ttl", "fx-short-ttl"), turn=1)
        after_read = view(
            probe_route(ctx, conversation, follow, pinned("x-conformance.ttl", "fx-short-ttl"), turn=1), "fx-short-ttl"
        )
        ctx.expect(
            "RM-CACHE-012",
            after_read.cached > 0 and after_read.expires_ms == expiry,
            f"a side request read fx-short-ttl (no refresh on hit): expiry moved by "
            f"{after_read.expires_ms - expiry} ms, cached {after_read.cached}",
        )
    else:
        ctx.not_testable("RM-CACHE-012", "a read without a store needs an isolated side request")
    for _ in range(2):
        delay = (expiry - time.time() * 1000) / 1000
        if delay > PROBE_LEAD_S:
            time.sleep(delay - PROBE_LEAD_S)
        probe = probe_route(ctx, conversation, follow, pinned("x-conformance.ttl", "fx-short-ttl"), turn=1)
        got, at = view(probe, "fx-short-ttl"), created_ms(probe)
        live = at < expiry
        ctx.expect(
            "RM-CACHE-003",
            (got.cached > 0) == live,
            f"decision {at - expiry:+d} ms from the expiry: cached {got.cached}, expected "
            f"{'a hit' if live else 'nothing'}",
        )
        time.sleep(0.45)
    final = view(
        probe_route(ctx, conversation, follow, pinned("x-conformance.ttl", "fx-short-ttl"), turn=1), "fx-short-ttl"
    )
    ctx.expect(
        "RM-CACHE-003",
        final.cached == 0 and (final.expired or final.held == 0),
        f"after the TTL: cached {final.cached}, expired flag {final.expired}",
    )


@check(
    "cache", "An isolated side request refreshes a hit on a refresh-on-hit endpoint, and only a hit", ("RM-CACHE-011",)
)
def side_request_refresh(ctx: CheckContext) -> None:
    ctx.require_capability("ROUTER_CAPABILITY_SIDE_REQUESTS", "a read that does not store a prefix")
    conversation = ctx.ids.conversation("refresh")
    first = Prompt.of([2000])
    d0 = route(ctx, conversation, first, pinned("code.edit", "fx-gpt5"))
    ttl_ms = ctx.fixture.endpoints["fx-gpt5"].caching.ttl_seconds * 1000
    time.sleep(0.3)
    hit = route(ctx, conversation, first.extend([50]), side("code.edit", "fx-gpt5"), turn=1)
    looked = probe_route(ctx, conversation, first.extend([60]), pinned("code.edit", "fx-gpt5"), turn=1)
    after = view(looked, "fx-gpt5")
    ctx.expect(
        "RM-CACHE-011",
        near(after.expires_ms, created_ms(hit) + ttl_ms),
        f"a side request hit at +{created_ms(hit) - created_ms(d0)} ms: expiry is "
        f"{after.expires_ms - created_ms(d0)} ms after the first decision, expected "
        f"{created_ms(hit) + ttl_ms - created_ms(d0)}",
    )
    time.sleep(0.3)
    route(ctx, conversation, Prompt.of([2000, 50]), side("code.edit", "fx-gpt5"), turn=1)
    expiry = expiry_after_probe(ctx, looked, after, "fx-gpt5")
    missed = view(probe_route(ctx, conversation, first.extend([70]), pinned("code.edit", "fx-gpt5"), turn=1), "fx-gpt5")
    ctx.expect(
        "RM-CACHE-011",
        missed.expires_ms == expiry,
        f"a side request that misses leaves the expiry: moved by {missed.expires_ms - expiry} ms",
    )
