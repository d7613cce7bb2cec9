"""The rules every decision record must satisfy on its own (spec 6.1, 6.5, 6.9, 7.2, 7.5).

``record_problems`` looks at one decision and the request that produced it,
and says which requirement each problem breaks. It uses the fixture for what
a record cannot prove about itself: the catalog order, the ladder tiers, the
prices behind each cost part, and the quotas that bear on the role.
"""

from __future__ import annotations

import itertools

from rolemodel import cost
from rolemodel.v1 import catalog_pb2, common_pb2, decision_pb2, router_service_pb2
from rolemodel_conformance.context import CheckContext
from rolemodel_conformance.expectations import reason, reason_name
from rolemodel_conformance.registry import reason_stages

D = decision_pb2
COMPACTING = (catalog_pb2.COMPACTION_STRATEGY_TAIL_WINDOW, catalog_pb2.COMPACTION_STRATEGY_SUMMARY)
Problem = tuple[str, str]
MAX_ID = 64


def _identity(decision: D.Decision, seen: set[str], name: str) -> list[Problem]:
    problems = []
    if not decision.decision_id or len(decision.decision_id) > MAX_ID:
        problems.append(
            ("RM-ROUTE-001", f"{name}: decision id {decision.decision_id!r} is empty or over 64 characters")
        )
    if decision.decision_id in seen:
        problems.append(("RM-ROUTE-001", f"{name}: decision id {decision.decision_id!r} was used before"))
    seen.add(decision.decision_id)
    return problems


def _compact_listing(
    ctx: CheckContext, decision: D.Decision, request: router_service_pb2.RouteRequest, name: str
) -> list[Problem]:
    """RM-ROUTE-012: a subsequence of the catalog that keeps what bears on the request, the rest counted."""
    ids = [c.endpoint_id for c in decision.candidates]
    order = ctx.fixture.endpoint_order
    problems = []
    if ids != [e for e in order if e in set(ids)] or len(set(ids)) != len(ids):
        problems.append(("RM-ROUTE-012", f"{name}: compact candidates {ids} are not in catalog order"))
    must = {decision.chosen_endpoint_id, *decision.fallback_endpoint_ids, decision.policy.current_endpoint_id}
    must.add(request.hints.endpoint_choice.pinned_endpoint_id)
    if decision.role in ctx.fixture.roles:
        must |= {e for rung in ctx.fixture.roles[decision.role].ladder for e in rung.endpoint_ids}
    missing = sorted((must - {""}) - set(ids))
    if missing:
        problems.append(("RM-ROUTE-012", f"{name}: a compact decision leaves out {missing}"))
    counts = [(o.code, o.endpoint_count) for o in decision.omitted_candidates]
    codes = [code for code, _ in counts]
    if len(set(codes)) != len(codes) or any(not code or count < 1 for code, count in counts):
        problems.append(("RM-ROUTE-012", f"{name}: omitted_candidates {counts} repeat a code or count nothing"))
    if len(ids) + sum(count for _, count in counts) != len(order):
        problems.append(
            ("RM-ROUTE-012", f"{name}: {len(ids)} listed and {sum(n for _, n in counts)} counted, not {len(order)}")
        )
    return problems


def _candidates(
    ctx: CheckContext, decision: D.Decision, request: router_service_pb2.RouteRequest, name: str
) -> list[Problem]:
    problems = []
    ids = [c.endpoint_id for c in decision.candidates]
    if request.compact_candidates:
        problems += _compact_listing(ctx, decision, request, name)
    elif ids != ctx.fixture.endpoint_order or decision.omitted_candidates:
        problems.append(("RM-ROUTE-002", f"{name}: candidates {ids} are not the catalog's endpoints in order"))
    for c in decision.candidates:
        tier = ctx.fixture.tier_of(decision.role, c.endpoint_id) if decision.role in ctx.fixture.roles else None
        got = c.tier if c.HasField("tier") else None
        if got != tier:
            problems.append(("RM-ROUTE-002", f"{name}: '{c.endpoint_id}' has tier {got}, the ladder says {tier}"))
        if c.eligible == bool(c.exclusions):
            problems.append(
                ("RM-ROUTE-002", f"{name}: '{c.endpoint_id}' eligible={c.eligible} with {len(c.exclusions)} exclusions")
            )
        if any(not e.code or not e.detail.strip() for e in c.exclusions):
            problems.append(("RM-ROUTE-002", f"{name}: '{c.endpoint_id}' has an exclusion without code or detail"))
        if c.eligible and not c.HasField("cost"):
            problems.append(("RM-ROUTE-003", f"{name}: eligible '{c.endpoint_id}' has no cost estimate"))
    return problems


def _ranks(decision: D.Decision, name: str) -> list[Problem]:
    problems = []
    by_id = {c.endpoint_id: c for c in decision.candidates}
    chosen = by_id.get(decision.chosen_endpoint_id)
    fallbacks = list(decision.fallback_endpoint_ids)
    if chosen is None or not chosen.eligible or decision.chosen_endpoint_id in fallbacks:
        problems.append(
            (
                "RM-ROUTE-006",
                f"{name}: chosen '{decision.chosen_endpoint_id}' is not an eligible candidate outside the fallbacks",
            )
        )
    if len(set(fallbacks)) != len(fallbacks) or any(not (by_id.get(f) and by_id[f].eligible) for f in fallbacks):
        problems.append(("RM-ROUTE-007", f"{name}: fallbacks {fallbacks} repeat or include an ineligible endpoint"))
    # A pin or a tool loop chooses without ranking, so only a ranked choice and its fallbacks must be scored.
    unranked = {reason_name(r.code) for r in decision.reasons} & {"PINNED", "TOOL_LOOP_PINNED"}
    ranked = fallbacks if unranked else [decision.chosen_endpoint_id, *fallbacks]
    for served in [decision.chosen_endpoint_id, *fallbacks]:
        c = by_id.get(served)
        if c is not None and c.exclusions:
            problems.append(("RM-ELIG-001", f"{name}: '{served}' is used although excluded"))
        if c is not None and served in ranked and not (c.HasField("score") and c.score.components):
            problems.append(("RM-ROUTE-004", f"{name}: '{served}' was ranked without a scored record"))
    want = {decision.chosen_endpoint_id: 1, **{f: i for i, f in enumerate(fallbacks, start=2)}}
    problems += [
        ("RM-ROUTE-008", f"{name}: '{c.endpoint_id}' has rank {c.rank}, expected {want.get(c.endpoint_id, 0)}")
        for c in decision.candidates
        if c.rank != want.get(c.endpoint_id, 0)
    ]
    problems += [
        ("RM-ROUTE-004", f"{name}: '{c.endpoint_id}' has a malformed score component")
        for c in decision.candidates
        if any(
            not p.metric or not p.source or not 0.0 <= p.normalized <= 1.0 or p.weight < 0 for p in c.score.components
        )
    ]
    return problems


def _completeness(
    ctx: CheckContext, decision: D.Decision, request: router_service_pb2.RouteRequest, name: str
) -> list[Problem]:
    problems = []
    if not decision.HasField("handoff") or not decision.reasons or not decision.HasField("policy"):
        problems.append(("RM-ROUTE-005", f"{name}: the handoff plan, the reasons or the policy snapshot is missing"))
    if decision.policy.catalog_name != ctx.fixture.name or decision.policy.catalog_digest != ctx.card.catalog_digest:
        problems.append(
            (
                "RM-ROUTE-005",
                f"{name}: the policy names catalog {decision.policy.catalog_name!r} "
                f"{decision.policy.catalog_digest[:12]!r}, not the card's",
            )
        )
    if not decision.difficulty.source or not decision.prompt_tokens_source:
        problems.append(("RM-ROUTE-005", f"{name}: the difficulty or the prompt tokens have no source"))
    if ctx.claims("ROUTER_CAPABILITY_QUOTA") and decision.role in ctx.fixture.roles:
        ladder = {e for rung in ctx.fixture.roles[decision.role].ladder for e in rung.endpoint_ids}
        ladder.add(request.hints.endpoint_choice.pinned_endpoint_id)
        wanted = {q.id for q in ctx.fixture.catalog.policies.quotas if q.endpoint_id in ladder}
        listed = {s.quota_id for s in decision.quota_states}
        if not wanted <= listed:
            problems.append(("RM-ROUTE-005", f"{name}: quota states {sorted(listed)} lack {sorted(wanted - listed)}"))
    problems += _reason_order(decision, name)
    problems += [
        ("RM-ROUTE-043", f"{name}: reason {reason_name(r.code)} has no readable detail")
        for r in decision.reasons
        if not r.code or not r.detail.strip()
    ]
    return problems


def _reason_order(decision: D.Decision, name: str) -> list[Problem]:
    """RM-ROUTE-005: the reasons in the order their rules applied, which is the order of the stages of spec 6.9."""
    stages = reason_stages()
    named = [D.ReasonCode.Name(r.code) for r in decision.reasons if r.code in D.ReasonCode.values()]
    seen = [(code, stages[code]) for code in named if code in stages]
    for (before, early), (after, late) in itertools.pairwise(seen):
        if late < early:
            return [("RM-ROUTE-005", f"{name}: {after} (stage {late}) follows {before} (stage {early})")]
    return []


def _tiers_and_handoff(decision: D.Decision, name: str, chosen_tier: int | None) -> list[Problem]:
    problems = []
    policy = decision.policy
    names = {reason_name(r.code) for r in decision.reasons}
    if chosen_tier is not None and chosen_tier < policy.required_tier and not names & {"DOWNGRADED", "PINNED"}:
        problems.append(
            ("RM-ROUTE-023", f"{name}: tier {chosen_tier} below the required {policy.required_tier} without DOWNGRADED")
        )
    current = policy.current_endpoint_id
    want = (
        D.HANDOFF_ACTION_START
        if not current
        else D.HANDOFF_ACTION_CONTINUE
        if current == decision.chosen_endpoint_id
        else D.HANDOFF_ACTION_SWITCH
    )
    plan = decision.handoff
    if plan.action != want or plan.from_endpoint_id != current or plan.to_endpoint_id != decision.chosen_endpoint_id:
        problems.append(
            (
                "RM-ROUTE-040",
                f"{name}: handoff {D.HandoffAction.Name(plan.action)} {plan.from_endpoint_id!r}->"
                f"{plan.to_endpoint_id!r}, current {current!r}, chosen "
                f"'{decision.chosen_endpoint_id}'",
            )
        )
    return problems


def _compacts(ctx: CheckContext, role: str) -> bool:
    """Whether the role compacts a prompt over a window (spec 8.6), so a candidate may be priced for fewer tokens."""
    policy = ctx.fixture.roles[role].handoff if role in ctx.fixture.roles else None
    return policy is not None and policy.compaction in COMPACTING


def _write_picos(econ: cost.EndpointEconomics, written: int, got: int) -> int:
    """The write cost a decision may show: the TTL price for all ``written`` tokens, or for explicit caching
    any split between the 1-hour and the 5-minute price (7.2.1; the audit cannot see the breakpoints), in which
    case ``got`` itself when it is one."""
    short, long = econ.write_price(long_ttl=False), econ.write_price(long_ttl=True)
    if econ.explicit and long != short:
        extra = got - written * short
        if extra % (long - short) == 0 and 0 <= extra // (long - short) <= written:
            return got
    return written * econ.cache_write


def _costs(ctx: CheckContext, decision: D.Decision, name: str) -> list[Problem]:
    problems = []
    compacts = _compacts(ctx, decision.role)
    for c in decision.candidates:
        if not c.HasField("cost"):
            continue
        e, econ = c.cost, ctx.fixture.economics(c.endpoint_id)
        # A compacted prompt is priced as sent; its size is the compaction checks' business (RM-HANDOFF-050).
        prompt_ok = e.prompt_tokens == decision.prompt_tokens or (compacts and e.prompt_tokens < decision.prompt_tokens)
        parts = (
            e.cached_tokens * econ.cache_read,
            (e.uncached_tokens - e.cache_write_tokens) * econ.input,
            _write_picos(econ, e.cache_write_tokens, e.cache_write_picos),
            e.output_tokens * econ.output,
        )
        got = (e.cache_read_picos, e.uncached_input_picos, e.cache_write_picos, e.output_picos)
        if (
            not prompt_ok
            or e.uncached_tokens != e.prompt_tokens - e.cached_tokens
            or got != parts
            or e.total_picos != sum(got)
        ):
            problems.append(
                (
                    "RM-COST-002",
                    f"{name}: '{c.endpoint_id}' cost parts {got} total {e.total_picos} for "
                    f"P={e.prompt_tokens} C={e.cached_tokens} W={e.cache_write_tokens} "
                    f"O={e.output_tokens}; prices give {parts}",
                )
            )
        if e.amortized_picos != e.total_picos + (e.horizon_turns - 1) * e.steady_turn_picos or e.horizon_turns < 1:
            problems.append(
                (
                    "RM-COST-010",
                    f"{name}: '{c.endpoint_id}' amortised {e.amortized_picos} is not "
                    f"{e.total_picos} + ({e.horizon_turns} - 1) x {e.steady_turn_picos}",
                )
            )
    chosen = next((c for c in decision.candidates if c.endpoint_id == decision.chosen_endpoint_id), None)
    if chosen is not None and chosen.HasField("cost"):
        plan, e = decision.handoff, chosen.cost
        if (plan.cached_prefix_tokens, plan.uncached_tokens, plan.cache_write_tokens) != (
            e.cached_tokens,
            e.uncached_tokens,
            e.cache_write_tokens,
        ):
            problems.append(("RM-ROUTE-041", f"{name}: handoff tokens differ from the chosen endpoint's estimate"))
        warm = reason(decision, "CACHE_WARM")
        if e.cached_tokens and (warm is None or str(e.cached_tokens) not in warm.detail):
            problems.append(("RM-ROUTE-042", f"{name}: {e.cached_tokens} cached tokens without CACHE_WARM naming them"))
        if not e.cached_tokens and warm is not None:
            problems.append(("RM-ROUTE-042", f"{name}: CACHE_WARM on a chosen endpoint with no cached tokens"))
    return problems


def _main_turn_flags(decision: D.Decision, request: router_service_pb2.RouteRequest, name: str) -> list[Problem]:
    if request.hints.HasField("side_request") or (not decision.side_request and decision.merge_back):
        return []
    return [
        (
            "RM-ROUTE-011",
            f"{name}: a main turn's decision has side_request {decision.side_request}, merge_back "
            f"{decision.merge_back}; expected false and true",
        )
    ]


def record_problems(
    ctx: CheckContext, decision: D.Decision, request: router_service_pb2.RouteRequest, seen: set[str]
) -> list[Problem]:
    """Every problem of one decision, as (requirement id, description)."""
    name = f"decision {decision.decision_id[:16]} ({decision.role})"
    chosen_tier = (
        ctx.fixture.tier_of(decision.role, decision.chosen_endpoint_id) if decision.role in ctx.fixture.roles else None
    )
    return [
        *_identity(decision, seen, name),
        *_candidates(ctx, decision, request, name),
        *_ranks(decision, name),
        *_completeness(ctx, decision, request, name),
        *_tiers_and_handoff(decision, name, chosen_tier),
        *_costs(ctx, decision, name),
        *_main_turn_flags(decision, request, name),
    ]


__all__ = ["common_pb2", "record_problems"]
