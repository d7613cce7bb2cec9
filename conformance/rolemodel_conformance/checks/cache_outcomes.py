"""Cache accounting after outcomes: the provider's report corrects the provisional guess (spec 9.2)."""

from __future__ import annotations

import time
from dataclasses import dataclass

from rolemodel.v1 import common_pb2, hints_pb2
from rolemodel_conformance.builders import Prompt, outcome, usage
from rolemodel_conformance.checks import check
from rolemodel_conformance.checks.cache import created_ms, near, pinned, view
from rolemodel_conformance.checks.helpers import probe_route, route
from rolemodel_conformance.context import CheckContext

REPORTED = "CACHE_STATE_SOURCE_REPORTED"
PROVISIONAL = "CACHE_STATE_SOURCE_PROVISIONAL"


@dataclass(frozen=True)
class Served:
    conversation: str
    prompt: Prompt
    decided_ms: int
    cached_prefix_tokens: int


def _served(
    ctx: CheckContext,
    endpoint_id: str,
    tokens: int,
    reported_input: int,
    *,
    output: int = 100,
    read: int = 0,
    write: int = 0,
    role: str = "code.edit",
) -> Served:
    """A pinned main turn and its SUCCESS outcome, reported a quarter second after the decision."""
    conversation = ctx.ids.conversation("reported")
    prompt = Prompt.of([tokens])
    decision = route(ctx, conversation, prompt, pinned(role, endpoint_id, expected_output_tokens=400))
    time.sleep(0.25)
    used = usage(reported_input, output, cache_read=read, cache_write=write)
    effects = ctx.probe.report(outcome(decision.decision_id, endpoint_id, ctx.ids.key(), used=used)).effects
    return Served(conversation, prompt, created_ms(decision), effects.cached_prefix_tokens)


@check("cache", "A served outcome holds or clears the entry as the provider reports", ("RM-CACHE-020", "RM-CACHE-021"))
def reported_entries(ctx: CheckContext) -> None:
    ctx.require_capability("ROUTER_CAPABILITY_CACHE_ACCOUNTING", "cache entries")
    ttl_ms = ctx.fixture.endpoints["fx-gpt5"].caching.ttl_seconds * 1000
    served = _served(ctx, "fx-gpt5", 3000, 3000, output=120)
    decided = served.decided_ms
    follow = served.prompt.extend([500, 50])
    got = view(probe_route(ctx, served.conversation, follow, pinned("code.edit", "fx-gpt5"), turn=1), "fx-gpt5")
    ctx.expect(
        "RM-CACHE-020",
        got.held == served.prompt.tokens and got.source == REPORTED,
        f"automatic caching, 3000 input tokens reported: held {got.held}, {got.source}",
    )
    ctx.expect(
        "RM-CACHE-021",
        got.matched == 3000 + 120 and near(got.expires_ms, decided + ttl_ms),
        f"reply tokens from the report (120): matched {got.matched}, expected 3120; expiry "
        f"{got.expires_ms - decided} ms after the decision, expected {ttl_ms}",
    )
    cases = (
        ("fx-gpt5", "automatic caching, 500 input tokens (below the minimum)", 500, 0, 0, False),
        ("fx-opus", "explicit caching with 3000 cache-write tokens", 3000, 0, 3000, True),
        ("fx-opus", "explicit caching without cache reads or writes", 3000, 0, 0, False),
    )
    for endpoint_id, what, reported, read, write, holds in cases:
        served = _served(ctx, endpoint_id, 3000, reported, read=read, write=write, role="chat")
        follow = served.prompt.extend([100, 50])
        got = view(probe_route(ctx, served.conversation, follow, pinned("chat", endpoint_id), turn=1), endpoint_id)
        effects_prefix = served.cached_prefix_tokens
        if holds:
            ok = got.held > 0 and got.source == REPORTED and got.cached > 0 and effects_prefix > 0
        else:
            ok = got.held == 0 and got.cached == 0 and effects_prefix == 0
        ctx.expect(
            "RM-CACHE-020",
            ok,
            f"{what}: held {got.held} ({got.source or 'no entry'}), cached {got.cached}, "
            f"effects.cached_prefix_tokens {effects_prefix}; expected the entry to be "
            f"{'held' if holds else 'cleared'}",
        )


@check("cache", "When a fallback served, the chosen endpoint's entry is restored", ("RM-CACHE-022",))
def fallback_served(ctx: CheckContext) -> None:
    ctx.require_capability("ROUTER_CAPABILITY_CACHE_ACCOUNTING", "cache entries")
    conversation = ctx.ids.conversation("fallback")
    first = Prompt.of([2000])
    d0 = route(ctx, conversation, first, pinned("code.edit", "fx-gpt5"))
    ctx.probe.report(outcome(d0.decision_id, "fx-gpt5", ctx.ids.key(), used=usage(2000, 100)))
    second = first.extend([100, 50])
    d1 = route(ctx, conversation, second, hints_pb2.RoutingHints(role="code.edit"), turn=1)
    if not d1.fallback_endpoint_ids:
        ctx.not_testable("RM-CACHE-022", "the decision has no fallback to serve")
        return
    chosen, fallback = d1.chosen_endpoint_id, d1.fallback_endpoint_ids[0]
    before = view(d1, chosen)
    ctx.probe.report(outcome(d1.decision_id, fallback, ctx.ids.key(), used=usage(2150, 80)))
    probe = probe_route(ctx, conversation, second.extend([80, 40]), hints_pb2.RoutingHints(role="code.edit"), turn=2)
    restored, applied = view(probe, chosen), view(probe, fallback)
    ctx.expect(
        "RM-CACHE-022",
        (restored.held, restored.source) == (before.held, before.source),
        f"chosen '{chosen}' restored to what it held before the decision: {before.held} {before.source or 'none'}; "
        f"got {restored.held} {restored.source or 'none'}",
    )
    ctx.expect(
        "RM-CACHE-022",
        applied.held == second.tokens and applied.source == REPORTED,
        f"fallback '{fallback}' takes the outcome: held {applied.held} {applied.source}, expected "
        f"{second.tokens} {REPORTED}",
    )


@check("cache", "A failed or cancelled outcome restores the served endpoint's entry", ("RM-CACHE-023",))
def failure_restores(ctx: CheckContext) -> None:
    ctx.require_capability("ROUTER_CAPABILITY_CACHE_ACCOUNTING", "cache entries")
    for endpoint_id, role, outcome_class in (
        ("fx-gpt5", "code.edit", common_pb2.OUTCOME_CLASS_CANCELLED),
        ("fx-short-ttl", "x-conformance.ttl", common_pb2.OUTCOME_CLASS_SERVER_ERROR),
    ):
        conversation = ctx.ids.conversation("restore")
        first = Prompt.of([2000])
        d0 = route(ctx, conversation, first, pinned(role, endpoint_id))
        ctx.probe.report(outcome(d0.decision_id, endpoint_id, ctx.ids.key(), used=usage(2000, 100)))
        second = first.extend([100, 50])
        d1 = route(ctx, conversation, second, pinned(role, endpoint_id), turn=1)
        ctx.probe.report(outcome(d1.decision_id, endpoint_id, ctx.ids.key(), outcome_class=outcome_class))
        got = view(
            probe_route(ctx, conversation, second.extend([60, 30]), pinned(role, endpoint_id), turn=2), endpoint_id
        )
        name = common_pb2.OutcomeClass.Name(outcome_class)
        ctx.expect(
            "RM-CACHE-023",
            (got.held, got.source) == (2000, REPORTED),
            f"{name} on '{endpoint_id}': the entry is back to the 2000 reported tokens; got {got.held} "
            f"{got.source or 'none'}",
        )
        if outcome_class != common_pb2.OUTCOME_CLASS_CANCELLED:
            d2 = route(ctx, conversation, second.extend([60, 30]), pinned(role, endpoint_id), turn=2)
            ctx.probe.report(outcome(d2.decision_id, endpoint_id, ctx.ids.key(), used=usage(2240, 10)))


@check("cache", "An outcome never overwrites what a later decision wrote", ("RM-CACHE-024",))
def later_decision_wins(ctx: CheckContext) -> None:
    ctx.require_capability("ROUTER_CAPABILITY_CACHE_ACCOUNTING", "cache entries")
    conversation = ctx.ids.conversation("later")
    first = Prompt.of([2000])
    d0 = route(ctx, conversation, first, pinned("code.edit", "fx-gpt5"))
    second = first.extend([100, 50])
    route(ctx, conversation, second, pinned("code.edit", "fx-gpt5"), turn=1)
    ctx.probe.report(outcome(d0.decision_id, "fx-gpt5", ctx.ids.key(), used=usage(2000, 100)))
    got = view(
        probe_route(ctx, conversation, second.extend([60, 30]), pinned("code.edit", "fx-gpt5"), turn=2), "fx-gpt5"
    )
    ctx.expect(
        "RM-CACHE-024",
        (got.held, got.source) == (second.tokens, PROVISIONAL),
        f"the later decision's provisional {second.tokens} tokens stay after the earlier outcome; got "
        f"{got.held} {got.source}",
    )


@check("cache", "An outcome with zero input tokens leaves the provisional entry", ("RM-CACHE-025",))
def zero_input_keeps(ctx: CheckContext) -> None:
    ctx.require_capability("ROUTER_CAPABILITY_CACHE_ACCOUNTING", "cache entries")
    conversation = ctx.ids.conversation("zero")
    first = Prompt.of([2500])
    d0 = route(ctx, conversation, first, pinned("code.edit", "fx-gpt5"))
    before = view(
        probe_route(ctx, conversation, first.extend([10, 10]), pinned("code.edit", "fx-gpt5"), turn=1), "fx-gpt5"
    )
    ctx.probe.report(outcome(d0.decision_id, "fx-gpt5", ctx.ids.key(), used=usage(0, 0)))
    after = view(
        probe_route(ctx, conversation, first.extend([10, 10]), pinned("code.edit", "fx-gpt5"), turn=1), "fx-gpt5"
    )
    ctx.expect(
        "RM-CACHE-025",
        after == before and after.source == PROVISIONAL,
        f"provisional entry unchanged by a zero-input outcome: before {before}, after {after}",
    )
