"""Local servers: prefill-aware latency, cache capacity, reported speeds (spec 6.6.1, 7.7, 9.5).

Three fixture endpoints model local servers with two slots and a declared
prefill speed. The latency check rebuilds each candidate's expected time
from the fixture and the card's observed speeds. The capacity check plays
three conversations on fx-pool-slots, which no other check touches: two
fresh conversations fill both slots whatever an earlier run left, so every
later eviction follows from the spec alone. The speed check reports an
outcome with the server's measured speeds on fx-pool-small and reads the
card before and after.
"""

from __future__ import annotations

import math
import time

import grpc

from rolemodel.v1 import card_pb2, common_pb2, decision_pb2, hints_pb2
from rolemodel_conformance.builders import Prompt, outcome, pin, usage
from rolemodel_conformance.checks import check
from rolemodel_conformance.checks.helpers import expect_refusal, route
from rolemodel_conformance.context import CheckContext, NotObservable
from rolemodel_conformance.expectations import candidate, reason

D = decision_pb2
DECAY = 0.2
POOL_ROLE = "x-conformance.pool"
SLOTS_ROLE = "x-conformance.slots"
SLOTS = "fx-pool-slots"
SMALL = "fx-pool-small"
BIG = "fx-pool-big"
#: Routes of one scenario are this far apart, so that "least recently used" never rests on a tie.
STEP_S = 0.01
TOLERANCE_MS = 1e-6
#: O without an output hint (spec 6.2).
DEFAULT_OUTPUT = 1024


def _status(ctx: CheckContext, endpoint_id: str) -> card_pb2.EndpointStatus:
    for profile in ctx.probe.card().endpoints:
        if profile.endpoint.id == endpoint_id:
            return profile.status
    raise NotObservable(f"the card does not list {endpoint_id}")


def _close(a: float, b: float) -> bool:
    return math.isclose(a, b, rel_tol=1e-9, abs_tol=TOLERANCE_MS)


def _latency_problems(ctx: CheckContext, c: D.Candidate) -> list[str]:
    """Differences between a candidate's latency estimate and spec 6.6.1 on the fixture and the card."""
    declared = ctx.fixture.endpoints[c.endpoint_id].latency
    status = _status(ctx, c.endpoint_id)
    est = c.latency
    prefill = status.observed_prefill_tokens_per_second or declared.prefill_tokens_per_second
    decode = status.observed_output_tokens_per_second or declared.output_tokens_per_second
    problems = []
    if est.prefill_tokens != c.cost.uncached_tokens:
        problems.append(f"prefill_tokens {est.prefill_tokens}, the cost's uncached tokens are {c.cost.uncached_tokens}")
    if not _close(est.prefill_tokens_per_second, prefill):
        problems.append(f"prefill speed {est.prefill_tokens_per_second}, expected {prefill}")
    if est.base_source == common_pb2.VALUE_SOURCE_DECLARED and not _close(est.base_ms, declared.ttft_ms):
        problems.append(f"declared base {est.base_ms} ms, the fixture says {declared.ttft_ms}")
    half = _half_speed_depth(ctx, c.endpoint_id)
    want_ttft = est.base_ms + _prefill_ms(est.prefill_tokens, prefill, _depth(ctx, c), half)
    if not _close(est.ttft_ms, want_ttft):
        problems.append(f"ttft {est.ttft_ms} ms, expected {want_ttft}")
    want_output = 1000.0 * c.cost.output_tokens / decode
    if not _close(est.output_ms, want_output):
        problems.append(f"output {est.output_ms} ms, expected {want_output}")
    want_eviction = _prefill_ms(c.cache.evicts_tokens, prefill, 0, half)
    if not _close(est.eviction_ms, want_eviction):
        problems.append(f"eviction {est.eviction_ms} ms, expected {want_eviction}")
    if not _close(est.total_ms, est.ttft_ms + est.output_ms + est.eviction_ms):
        problems.append(f"total {est.total_ms} ms is not ttft + output + eviction")
    parts = {p.metric: p for p in c.score.components}
    latency_part = parts.get(D.SCORE_METRIC_LATENCY)
    if latency_part is None or not _close(latency_part.raw_value, est.total_ms):
        problems.append("the latency component's raw value is not the estimate's total")
    return problems


def _half_speed_depth(ctx: CheckContext, endpoint_id: str) -> int:
    """H_e of spec 6.6.1: the observed half-speed depth on the card, else the declared one."""
    observed = _status(ctx, endpoint_id).observed_prefill_half_speed_depth_tokens
    return observed or ctx.fixture.endpoints[endpoint_id].latency.prefill_half_speed_depth_tokens


def _depth(ctx: CheckContext, c: D.Candidate) -> int:
    """C_e of spec 6.6.1: the cost's cached tokens when the endpoint has a half-speed depth, else 0."""
    return c.cost.cached_tokens if _half_speed_depth(ctx, c.endpoint_id) else 0


def _prefill_ms(tokens: int, speed: float, depth: int, half: int) -> float:
    """pre_e(n, c) of spec 6.6.1."""
    factor = 1.0 + (depth + tokens / 2.0) / half if half else 1.0
    return 1000.0 * tokens / speed * factor


def _depth_problems(ctx: CheckContext, c: D.Candidate) -> list[str]:
    """RM-ROUTE-036: the depth and the half-speed depth a candidate's latency reports."""
    half = _half_speed_depth(ctx, c.endpoint_id)
    est, depth = c.latency, _depth(ctx, c)
    problems = []
    if est.prefill_half_speed_depth_tokens != half:
        problems.append(f"prefill_half_speed_depth_tokens {est.prefill_half_speed_depth_tokens}, declared {half}")
    if est.prefill_depth_tokens != depth:
        problems.append(f"prefill_depth_tokens {est.prefill_depth_tokens}, the cost's cached tokens are {depth}")
    return problems


def _source_problems(ctx: CheckContext, c: D.Candidate) -> list[str]:
    observed = _status(ctx, c.endpoint_id).observed_prefill_tokens_per_second > 0
    want = common_pb2.VALUE_SOURCE_OBSERVED if observed else common_pb2.VALUE_SOURCE_DECLARED
    if c.latency.prefill_source != want:
        got = common_pb2.ValueSource.Name(c.latency.prefill_source)
        return [f"prefill source {got}, expected {common_pb2.ValueSource.Name(want)}"]
    return []


@check(
    "scoring",
    "Expected time counts the uncached prompt at the prefill speed, with its sources and an explanation",
    ("RM-ROUTE-033", "RM-ROUTE-034", "RM-ROUTE-035", "RM-ROUTE-036"),
)
def prefill_aware_latency(ctx: CheckContext) -> None:
    conversation_id = ctx.ids.conversation("prefill")
    decision = route(ctx, conversation_id, Prompt.of([3000, 1000]), hints_pb2.RoutingHints(role=POOL_ROLE))
    for endpoint_id in (SMALL, BIG):
        c = candidate(decision, endpoint_id)
        if c is None or not c.HasField("score"):
            ctx.failed("RM-ROUTE-033", f"{endpoint_id} is admissible for {POOL_ROLE} but has no score")
            continue
        if not c.HasField("latency"):
            ctx.failed("RM-ROUTE-033", f"{endpoint_id} declares its latency but its candidate has no `latency`")
            continue
        problems = _latency_problems(ctx, c)
        ctx.expect("RM-ROUTE-033", not problems, f"{endpoint_id}: " + ("; ".join(problems) or "as spec 6.6.1 says"))
        if endpoint_id == BIG:  # the fixture's endpoint with a half-speed depth
            depth = _depth_problems(ctx, c) + problems
            ctx.expect("RM-ROUTE-036", not depth, f"{endpoint_id}: " + ("; ".join(depth) or "prefill slowed by depth"))
        sources = _source_problems(ctx, c)
        ctx.expect("RM-ROUTE-034", not sources, f"{endpoint_id}: " + ("; ".join(sources) or "speeds and sources"))
    chosen = candidate(decision, decision.chosen_endpoint_id)
    explained = reason(decision, "PREFILL_TIME")
    want = str(chosen.latency.prefill_tokens) if chosen is not None else "?"
    ctx.expect(
        "RM-ROUTE-035",
        explained is not None and explained.attributes.get("prefill_tokens") == want,
        f"PREFILL_TIME with prefill_tokens={want}: "
        + (f"got {dict(explained.attributes)} ({explained.detail})" if explained else "no such reason"),
    )


def _slots_route(ctx: CheckContext, conversation_id: str, prompt: Prompt, turn: int) -> D.Candidate:
    time.sleep(STEP_S)
    decision = route(ctx, conversation_id, prompt, hints_pb2.RoutingHints(role=SLOTS_ROLE), turn=turn)
    c = candidate(decision, SLOTS)
    if decision.chosen_endpoint_id != SLOTS or c is None or not c.HasField("cache"):
        raise NotObservable(f"{SLOTS_ROLE} did not choose {SLOTS} with a cache view")
    evicted = reason(decision, "CACHE_EVICTION")
    if c.cache.evicts_sequences:
        ctx.expect(
            "RM-CACHE-033",
            evicted is not None
            and evicted.attributes.get("evicted_sequences") == str(c.cache.evicts_sequences)
            and evicted.attributes.get("evicted_tokens") == str(c.cache.evicts_tokens),
            f"an admission that evicts {c.cache.evicts_sequences} conversation(s) ({c.cache.evicts_tokens} tokens)"
            + (f" explained: {evicted.detail}" if evicted else " has no CACHE_EVICTION reason"),
        )
    else:
        ctx.expect("RM-CACHE-033", evicted is None, "CACHE_EVICTION on an admission that evicts nobody")
    return c


@check(
    "cache",
    "Three conversations on a two-slot server: evictions predicted least recently used first, slots kept",
    ("RM-CACHE-030", "RM-CACHE-031", "RM-CACHE-032", "RM-CACHE-033"),
)
def two_slot_evictions(ctx: CheckContext) -> None:
    output = min(DEFAULT_OUTPUT, ctx.fixture.endpoints[SLOTS].max_output_tokens)
    a_id, b_id, c_id = (ctx.ids.conversation(n) for n in ("slot-a", "slot-b", "slot-c"))
    a1, b1, c1 = Prompt.of([2000]), Prompt.of([1500]), Prompt.of([900])
    _slots_route(ctx, a_id, a1, 0)
    b_first = _slots_route(ctx, b_id, b1, 0)  # now A and B hold both slots, whatever an earlier run left
    a2 = a1.extend([200])
    a_second = _slots_route(ctx, a_id, a2, 1)
    a_slot, b_slot = a_second.cache.slot, b_first.cache.slot
    ctx.expect(
        "RM-CACHE-032",
        a_second.cache.HasField("slot") and a_slot != b_slot and {a_slot, b_slot} <= {0, 1},
        f"A and B hold slots {a_slot} and {b_slot} of two",
    )
    ctx.expect(
        "RM-CACHE-030",
        not a_second.cache.evicted and a_second.cost.cached_tokens > 0,
        f"A's second turn, still resident: evicted={a_second.cache.evicted}, cached {a_second.cost.cached_tokens}",
    )
    c_first = _slots_route(ctx, c_id, c1, 0)
    want_tokens = b1.tokens + output
    ctx.expect(
        "RM-CACHE-032",
        c_first.cache.evicts_sequences == 1
        and c_first.cache.evicts_tokens == want_tokens
        and c_first.cache.slot == b_slot,
        f"C on a full server evicts B, the least recently used (1 conversation, {want_tokens} tokens, slot {b_slot}):"
        f" got {c_first.cache.evicts_sequences}, {c_first.cache.evicts_tokens} tokens, slot {c_first.cache.slot}",
    )
    a_third = _slots_route(ctx, a_id, a2.extend([100]), 2)
    ctx.expect(
        "RM-CACHE-031",
        not a_third.cache.evicted and a_third.cache.slot == a_slot and a_third.cache.evicts_sequences == 0,
        f"A kept slot {a_slot} through C's admission: evicted={a_third.cache.evicted}, slot {a_third.cache.slot}",
    )
    b_second = _slots_route(ctx, b_id, b1.extend([100]), 1)
    ctx.expect(
        "RM-CACHE-030",
        b_second.cache.evicted and b_second.cost.cached_tokens == 0,
        f"B comes back after C evicted it: evicted={b_second.cache.evicted}, cached {b_second.cost.cached_tokens}",
    )
    ctx.expect(
        "RM-CACHE-031",
        b_second.cache.evicts_sequences == 1 and b_second.cache.slot == b_slot,
        f"B evicts C (used before A's third turn) and takes slot {b_slot} again:"
        f" evicts {b_second.cache.evicts_sequences}, slot {b_second.cache.slot}",
    )


def _time_switch(ctx: CheckContext, role: str, first: str) -> None:
    """Turn 1 pinned to ``first``; turn 2 free: switching between the free pool must save time (RM-AFF-006)."""
    conversation_id = ctx.ids.conversation("pool-affinity")
    prompt = Prompt.of([3000])
    route(ctx, conversation_id, prompt, hints_pb2.RoutingHints(role=role, endpoint_choice=pin(first)))
    decision = route(ctx, conversation_id, prompt.extend([300, 100]), hints_pb2.RoutingHints(role=role), turn=1)
    scored = [c for c in decision.candidates if c.HasField("score") and c.HasField("latency")]
    current = candidate(decision, first)
    if current is None or len(scored) < 2 or not current.HasField("latency"):  # noqa: PLR2004
        raise NotObservable(f"{role} did not score both pool endpoints with a latency")
    best = max(scored, key=lambda c: (round(c.score.total, 9), -c.cost.amortized_picos))
    if best.endpoint_id == first:
        raise NotObservable(f"{first} is also the strategy's best under {role}; no affinity rule applies")
    saving = current.latency.total_ms - best.latency.total_ms
    switch = saving > 0  # the fixture's min_saving_ratio is 0
    want, name = (best.endpoint_id, "AFFINITY_SWITCHED_SAVING") if switch else (first, "AFFINITY_KEPT")
    said = reason(decision, name)
    ctx.expect(
        "RM-AFF-006",
        decision.chosen_endpoint_id == want
        and said is not None
        and said.attributes.get("saving_ms") == str(round(saving)),
        f"from {first} ({current.latency.total_ms:.0f} ms) with best {best.endpoint_id} "
        f"({best.latency.total_ms:.0f} ms): expected {want} with {name} saving_ms={round(saving)}, "
        f"got {decision.chosen_endpoint_id}" + (f" with {dict(said.attributes)}" if said else f" without {name}"),
    )


@check(
    "affinity",
    "Between free servers with a capacity, a switch must save time",
    ("RM-AFF-006",),
)
def pool_of_two(ctx: CheckContext) -> None:
    _time_switch(ctx, POOL_ROLE, "fx-pool-big")
    _time_switch(ctx, "x-conformance.pool-quality", SMALL)


@check(
    "side-requests",
    "An isolated side request between free servers with a capacity goes where time is least",
    ("RM-SIDE-006",),
)
def pool_side_request(ctx: CheckContext) -> None:
    side = hints_pb2.RoutingHints(role=POOL_ROLE, side_request=hints_pb2.SideRequest(merge_back=False))
    decision = route(ctx, ctx.ids.conversation("pool-side"), Prompt.of([600]), side)
    timed = sorted(
        (c for c in decision.candidates if c.eligible and c.HasField("latency")),
        key=lambda c: (c.latency.total_ms, c.rank or 1 << 30),
    )
    said = reason(decision, "SIDE_REQUEST_ISOLATED")
    ctx.expect(
        "RM-SIDE-006",
        bool(timed)
        and decision.chosen_endpoint_id == timed[0].endpoint_id
        and said is not None
        and "least" in said.detail,
        "an isolated side request goes to the least total time: "
        + ", ".join(f"{c.endpoint_id} {c.latency.total_ms:.0f} ms" for c in timed)
        + f"; chose {decision.chosen_endpoint_id}"
        + (f" ({said.detail})" if said else ""),
    )


def _pool_route(ctx: CheckContext, conversation_id: str, prompt: Prompt, turn: int = 0) -> D.Decision:
    time.sleep(STEP_S)
    return route(ctx, conversation_id, prompt, hints_pb2.RoutingHints(role=POOL_ROLE), turn=turn)


def _on_small_with_fallback(ctx: CheckContext, conversation_id: str, prompt: Prompt) -> D.Decision:
    """A first turn that fx-pool-small takes, evicting one of its two residents, with fx-pool-big as a fallback."""
    decision = _pool_route(ctx, conversation_id, prompt)
    small = candidate(decision, SMALL)
    if decision.chosen_endpoint_id != SMALL or BIG not in decision.fallback_endpoint_ids or small is None:
        raise NotObservable(f"{POOL_ROLE} did not choose {SMALL} with {BIG} as a fallback")
    if small.cache.evicts_sequences != 1:
        raise NotObservable(f"{SMALL} was not full after two fresh conversations")
    return decision


@check(
    "cache",
    "An outcome that shows the chosen server never took the prompt takes the admission back; a fallback holds it",
    ("RM-CACHE-034", "RM-CACHE-035"),
)
def admission_follows_the_outcome(ctx: CheckContext) -> None:
    x_id, y_id, w_id, z_id = (ctx.ids.conversation(n) for n in ("held-x", "held-y", "failed-w", "moved-z"))
    x1, y1, w1, z1 = (Prompt.of([n]) for n in (2000, 1800, 1600, 1400))
    for conversation_id, prompt in ((x_id, x1), (y_id, y1)):
        if _pool_route(ctx, conversation_id, prompt).chosen_endpoint_id != SMALL:
            raise NotObservable(f"{POOL_ROLE} did not choose {SMALL} for a fresh conversation")
    failed = _on_small_with_fallback(ctx, w_id, w1)  # evicts X, the least recently used
    ctx.probe.report(
        outcome(failed.decision_id, SMALL, ctx.ids.key(), outcome_class=common_pb2.OUTCOME_CLASS_SERVER_ERROR)
    )
    x2 = candidate(_pool_route(ctx, x_id, x1.extend([100]), turn=1), SMALL)
    ctx.expect(
        "RM-CACHE-034",
        x2 is not None and not x2.cache.evicted,
        f"X, evicted by an admission whose call failed with no input tokens, is {SMALL}'s resident again:"
        f" evicted={x2.cache.evicted if x2 else '?'}",
    )
    moved = _on_small_with_fallback(ctx, z_id, z1)  # evicts Y, now the least recently used
    ctx.probe.report(outcome(moved.decision_id, BIG, ctx.ids.key(), used=usage(z1.tokens, 100), ttft_ms=900))
    y2 = candidate(_pool_route(ctx, y_id, y1.extend([100]), turn=1), SMALL)
    ctx.expect(
        "RM-CACHE-034",
        y2 is not None and not y2.cache.evicted,
        f"Y, evicted by an admission the fallback {BIG} served instead, is {SMALL}'s resident again:"
        f" evicted={y2.cache.evicted if y2 else '?'}",
    )
    z2 = candidate(_pool_route(ctx, z_id, z1.extend([100]), turn=1), BIG)
    ctx.expect(
        "RM-CACHE-035",
        z2 is not None and not z2.cache.evicted and z2.cache.HasField("slot") and z2.cost.cached_tokens > 0,
        f"Z, served by the fallback {BIG}, is its resident: "
        + (
            f"evicted={z2.cache.evicted}, slot set={z2.cache.HasField('slot')}, cached {z2.cost.cached_tokens}"
            if z2
            else "no candidate"
        ),
    )


def _decayed(previous: float, sample: float) -> float:
    return previous + DECAY * (sample - previous) if previous > 0 else sample


@check(
    "outcomes",
    "Speeds an outcome reports feed the observed profile; impossible speeds are refused",
    ("RM-OUT-023", "RM-OUT-024", "RM-OUT-025", "RM-OUT-026"),
)
def reported_speeds(ctx: CheckContext) -> None:
    routing = hints_pb2.RoutingHints(role=POOL_ROLE, endpoint_choice=pin(SMALL))
    decision = route(ctx, ctx.ids.conversation("speeds"), Prompt.of([4000]), routing)
    bad = outcome(decision.decision_id, SMALL, ctx.ids.key(), used=usage(4000, 100), ttft_ms=1500)
    bad.prefill_tokens_per_second = -5.0
    expect_refusal(
        ctx,
        "RM-OUT-024",
        "an outcome with a negative prefill speed",
        lambda: ctx.probe.report(bad),
        grpc.StatusCode.INVALID_ARGUMENT,
        "REQUEST_INVALID",
        fields=("outcome.prefill_tokens_per_second",),
    )
    before = _status(ctx, SMALL)
    good = outcome(decision.decision_id, SMALL, ctx.ids.key(), used=usage(4000, 100), ttft_ms=1500)
    good.prefill_tokens_per_second, good.output_tokens_per_second = 3000.0, 70.0
    ctx.probe.report(good)
    after = _status(ctx, SMALL)
    sample = max(0.0, 1500 - 1000.0 * 4000 / 3000.0)
    want = (
        _decayed(before.observed_prefill_tokens_per_second, 3000.0),
        _decayed(before.observed_output_tokens_per_second, 70.0),
        _decayed(before.observed_base_latency_ms, sample),
    )
    got = (
        after.observed_prefill_tokens_per_second,
        after.observed_output_tokens_per_second,
        after.observed_base_latency_ms,
    )
    ctx.expect(
        "RM-OUT-023",
        all(math.isclose(g, w, rel_tol=1e-9, abs_tol=1e-6) for g, w in zip(got, want, strict=True)),
        f"prefill speed, output speed and base latency after the report: expected {want}, got {got}",
    )
    _start_speed(ctx)
    _depth_fit(ctx)


def _start_speed(ctx: CheckContext) -> None:
    """RM-OUT-025 on fx-pool-big (half-speed depth 100,000): 4,000 cold tokens measured at 400 / 1.02 tokens/s.

    The middle token sits at 2,000, so the start speed is 400 / 1.02 * (1 + 2,000 / 100,000) = 400, the
    declared speed, and the base latency sample 10,400 - 10,200 = 200 ms, the declared one: the
    report teaches the router nothing new that other checks on fx-pool-big could notice.
    """
    routing = hints_pb2.RoutingHints(role=POOL_ROLE, endpoint_choice=pin(BIG))
    decision = route(ctx, ctx.ids.conversation("start-speed"), Prompt.of([4000]), routing)
    before = _status(ctx, BIG).observed_prefill_tokens_per_second
    report = outcome(decision.decision_id, BIG, ctx.ids.key(), used=usage(4000, 100), ttft_ms=10_400)
    report.prefill_tokens_per_second = 400.0 / 1.02
    ctx.probe.report(report)
    after = _status(ctx, BIG).observed_prefill_tokens_per_second
    want = _decayed(before, 400.0)
    ctx.expect(
        "RM-OUT-025",
        math.isclose(after, want, rel_tol=1e-9),
        f"a speed of {400.0 / 1.02:.3f} measured over 4,000 cold tokens is a start speed of 400: observed speed "
        f"expected {want}, got {after}",
    )


def _depth_fit(ctx: CheckContext) -> None:
    """RM-OUT-026 on fx-pool-big: two outcomes on the line of its declaration (400 tokens/s, half speed 100,000 deep).

    4,000 cold tokens at 400 / 1.02 tokens/s (middle token at 2,000) and 2,000 tokens after 60,000
    cached at 400 / 1.61 (middle token at 61,000): every point lies on t = 2.5 + 2.5e-5 * m ms per
    token, as does the one _start_speed reported, so the fit gives 100,000 whatever the decay
    weights, and the start speed and base latency stay the declared ones for the other checks.
    """
    routing = hints_pb2.RoutingHints(role=POOL_ROLE, endpoint_choice=pin(BIG))
    for cached, new, factor in ((0, 4000, 1.02), (60_000, 2000, 1.61)):
        decision = route(ctx, ctx.ids.conversation("depth-fit"), Prompt.of([4000]), routing)
        speed = 400.0 / factor
        ttft = round(200 + 1000.0 * new / speed)
        used = usage(cached + new, 100, cache_read=cached)
        report = outcome(decision.decision_id, BIG, ctx.ids.key(), used=used, ttft_ms=ttft)
        report.prefill_tokens_per_second = speed
        ctx.probe.report(report)
    got = _status(ctx, BIG).observed_prefill_half_speed_depth_tokens
    want = ctx.fixture.endpoints[BIG].latency.prefill_half_speed_depth_tokens
    ctx.expect(
        "RM-OUT-026",
        got == want,
        f"prefill speeds at depths 2,000 and 61,000 on the line of a 100,000-token half-speed depth: "
        f"observed_prefill_half_speed_depth_tokens expected {want}, got {got}",
    )
