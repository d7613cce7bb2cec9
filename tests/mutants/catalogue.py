"""Deliberately broken routers: the reference router with exactly one spec violation each.

Each mutant names the requirement it violates and the requirement globs a run
needs to see it (so the mutant tests stay fast). Patches wrap stable entry
points where they can (``decide``, ``apply_outcome``, the status builder, the
SDK's cost model) and say what they break in one sentence. A patch whose
target has gone away raises at start-up, so a refactoring of the router
cannot quietly turn a mutant into the reference router.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

Wrapper = Callable[[Any], Any]


def wrap(owner: object, name: str, make: Wrapper) -> None:
    """Replace ``owner.name`` with ``make(original)``; AttributeError if the router no longer has it."""
    original = getattr(owner, name)
    setattr(owner, name, make(original))


@dataclass(frozen=True)
class Mutant:
    name: str
    violation: str
    expect: str
    run: tuple[str, ...]
    patch: Callable[[], None]
    #: More options for ``rolemodel serve`` (``--http`` for a front-door mutant).
    serve: tuple[str, ...] = ()
    #: Whether the suite must start it (harness mode) on a state directory, to restart it (durability mutants).
    durable: bool = False
    #: Whether it serves with two tokens, the suite's and a chat-only one (tenancy mutants, spec 12.5).
    tokens: bool = False

    def apply(self) -> None:
        self.patch()


def _decide_with(change_request: Callable[[Any], Any]) -> None:
    from rolemodel_router.engine import decide

    wrap(
        decide,
        "decide",
        lambda original: (
            lambda index, snapshot, request, *rest: original(index, snapshot, change_request(request), *rest)
        ),
    )


def _decision_after(change: Callable[[Any, Any], None]) -> None:
    """Let ``change(decision, request)`` edit every decision before it is recorded and answered."""
    from rolemodel_router.engine import decide

    def make(original: Any) -> Any:
        def mutated(index: Any, snapshot: Any, request: Any, *rest: Any) -> Any:
            plan = original(index, snapshot, request, *rest)
            change(plan.decision, request)
            return plan

        return mutated

    wrap(decide, "decide", make)


def ignores_pin() -> None:
    _decide_with(lambda request: replace(request, pinned=""))


def ignores_tool_loop() -> None:
    _decide_with(lambda request: replace(request, tool_call_pending=False))


def ignores_affinity_threshold() -> None:
    def zero(request: Any) -> Any:
        affinity = replace(request.role.affinity, min_saving_picos=0, min_saving_ratio=0.0)
        return replace(request, role=replace(request.role, affinity=affinity))

    _decide_with(zero)


def dry_run_records() -> None:
    from rolemodel.v1 import decision_pb2
    from rolemodel_router.engine import decide

    def make(original: Any) -> Any:
        def mutated(index: Any, snapshot: Any, request: Any, *rest: Any) -> Any:
            if not request.dry_run:
                return original(index, snapshot, request, *rest)
            plan = original(index, snapshot, replace(request, dry_run=False), *rest)
            plan.decision.dry_run = True
            plan.decision.reasons.add(code=decision_pb2.REASON_CODE_DRY_RUN, detail="dry run: nothing was recorded")
            return plan

        return mutated

    wrap(decide, "decide", make)


def drops_trigger() -> None:
    from rolemodel.v1 import decision_pb2

    def change(decision: Any, request: Any) -> None:
        for reason in decision.reasons:
            if reason.code == decision_pb2.REASON_CODE_ESCALATED:
                del reason.attributes["triggering_decision_id"]

    _decision_after(change)


def shuffles_candidates() -> None:
    def change(decision: Any, request: Any) -> None:
        ordered = list(decision.candidates)
        del decision.candidates[:]
        decision.candidates.extend(reversed(ordered))

    _decision_after(change)


def cost_without_cache() -> None:
    from rolemodel import cost

    wrap(
        cost,
        "amortized_cost",
        lambda original: lambda economics, **kw: original(economics, **{**kw, "cached_tokens": 0}),
    )


def explicit_cache_looks_back_without_limit() -> None:
    from rolemodel import explicit_cache

    wrap(
        explicit_cache,
        "read_tokens",
        lambda original: lambda held, breakpoints: max((h.tokens for h in held), default=0) if breakpoints else 0,
    )


def estimate_off_by_one() -> None:
    from rolemodel_router.engine import conversation_input

    wrap(conversation_input, "estimate_message_tokens", lambda original: lambda message: original(message) + 1)


def admits_over_quota() -> None:
    from rolemodel_router.engine import eligibility

    wrap(eligibility, "admits", lambda original: lambda quota, window, need: True)


def ignores_budget() -> None:
    from rolemodel_router.engine import eligibility

    wrap(eligibility, "turn_budget", lambda original: lambda index, request: 0)


def ignores_deny_rules() -> None:
    from rolemodel_router.engine import eligibility

    wrap(eligibility, "matching_deny_rules", lambda original: lambda index, request: [])


def fixed_share_threshold() -> None:
    from rolemodel_router.engine import share

    def make(original: Any) -> Any:
        def fixed(state: Any, target_share: float, top_min_difficulty: float | None) -> float:
            return top_min_difficulty if top_min_difficulty is not None else 1.0 - target_share

        return fixed

    wrap(share, "threshold", make)


def side_request_moves_conversation() -> None:
    from rolemodel_router.engine import provisional

    def make(original: Any) -> Any:
        def mutated(ctx: Any, chosen: Any) -> Any:
            if ctx.request.isolated:
                ctx = replace(ctx, request=replace(ctx.request, merge_back=True))
            return original(ctx, chosen)

        return mutated

    wrap(provisional, "_conversation", make)


def ttl_never_expires() -> None:
    from rolemodel_router.state import model

    wrap(model.CacheEntry, "live", lambda original: lambda self, now_ms: True)


def _outcome_with(change: Callable[[Any, Any, Any], Any]) -> None:
    """Let ``change(plan, snapshot, outcome)`` return the plan a served outcome applies."""
    from rolemodel_router.engine import outcome

    def make(original: Any) -> Any:
        def mutated(index: Any, snapshot: Any, report: Any, now_ms: int) -> Any:
            return change(original(index, snapshot, report, now_ms), snapshot, report)

        return mutated

    wrap(outcome, "apply_outcome", make)


def keeps_provisional_cache() -> None:
    def change(plan: Any, snapshot: Any, report: Any) -> Any:
        if plan.conversation is None:
            return plan
        return replace(plan, conversation=replace(plan.conversation, cache=dict(snapshot.conversation.cache)))

    _outcome_with(change)


def fallback_not_restored() -> None:
    def change(plan: Any, snapshot: Any, report: Any) -> Any:
        record = snapshot.record
        if plan.conversation is None or record is None or report.served_endpoint_id == record.chosen_endpoint_id:
            return plan
        cache = dict(plan.conversation.cache)
        before = snapshot.conversation.cache.get(record.chosen_endpoint_id)
        if before is not None:
            cache[record.chosen_endpoint_id] = before
        return replace(plan, conversation=replace(plan.conversation, cache=cache))

    _outcome_with(change)


def double_counts_replays() -> None:
    from rolemodel_router.engine import outcome

    def make(original: Any) -> Any:
        def mutated(index: Any, snapshot: Any, report: Any, now_ms: int) -> Any:
            previous, record = snapshot.previous_report, snapshot.record
            if previous is not None and record is not None and previous.fingerprint == outcome.fingerprint(report):
                fresh = replace(snapshot, previous_report=None, record=replace(record, outcome_key=""))
                return original(index, fresh, report, now_ms)
            return original(index, snapshot, report, now_ms)

        return mutated

    wrap(outcome, "apply_outcome", make)


def never_deescalates() -> None:
    from rolemodel_router.engine import outcome

    def make(original: Any) -> Any:
        def mutated(conv: Any, record: Any, report: Any, index: Any) -> Any:
            before = conv.escalation.get(record.role)
            after = original(conv, record, report, index)
            if before is not None and after.level < before.level:
                return replace(before, successes=before.successes + 1)
            return after

        return mutated

    wrap(outcome, "_escalation", make)


def drops_error_info() -> None:
    from rolemodel_router.server import service

    def make(original: Any) -> Any:
        def bare(*args: Any, **kwargs: Any) -> Any:
            rich = original(*args, **kwargs)
            return replace(rich, trailing_metadata=())

        return bare

    wrap(service, "build_status", make)


def wrong_code_for_no_eligible() -> None:
    import grpc

    from rolemodel_router.server import service

    def make(original: Any) -> Any:
        def mutated(reason: Any, *args: Any, **kwargs: Any) -> Any:
            rich = original(reason, *args, **kwargs)
            if str(reason) == "NO_ELIGIBLE_ENDPOINT":
                return replace(rich, code=grpc.StatusCode.INVALID_ARGUMENT)
            return rich

        return mutated

    wrap(service, "build_status", make)


def accepts_unknown_version() -> None:
    from rolemodel_router.server import interceptors

    wrap(interceptors, "is_supported", lambda original: lambda text, *rest: True)


def ignores_deadlines() -> None:
    import asyncio

    from rolemodel_router.core import RouterCore
    from rolemodel_router.server import service

    def make(original: Any) -> Any:
        async def route(self: Any, request: Any, context: Any) -> Any:
            return await asyncio.shield(asyncio.ensure_future(original(self, request, context)))

        return route

    wrap(RouterCore, "commit_deadline", lambda original: lambda self, remaining_s: lambda: None)
    wrap(service.RouterServicer, "Route", make)


def retries_after_first_token() -> None:
    from rolemodel_router.execute import backend_call

    wrap(
        backend_call,
        "from_exception",
        lambda original: (
            lambda error, *, responded, after_first_token: original(error, responded=responded, after_first_token=False)
        ),
    )


def _plan_step(name: str, replacement: Callable[..., Any]) -> None:
    from rolemodel_router.handoff import plan

    wrap(plan, name, lambda original: replacement)


def sends_foreign_signature() -> None:
    _plan_step("transform_reasoning", lambda message, *rest: message)


def trusts_unlabelled_signatures() -> None:
    from rolemodel_router.handoff import reasoning

    wrap(
        reasoning,
        "is_foreign",
        lambda original: lambda block, family: bool(block.provider) and block.provider != family,
    )


def keeps_tool_ids() -> None:
    _plan_step("remap_tool_ids", lambda message, *rest: message)


def no_cache_breakpoints() -> None:
    _plan_step("place_breakpoints", lambda *args: None)


def forgets_execute_outcome() -> None:
    from rolemodel.v1 import outcome_pb2
    from rolemodel_router.execute import executor

    async def report(self: Any, outcome: Any) -> Any:
        self.outcome_reported = True
        return outcome_pb2.OutcomeEffects(served_endpoint_id=outcome.served_endpoint_id)

    wrap(executor._Call, "_report", lambda original: report)


def falls_back_after_rejection() -> None:
    from rolemodel_router.execute import backend_call

    wrap(
        backend_call,
        "from_status",
        lambda original: lambda error, headers: replace(original(error, headers), retryable=True),
    )


def ignores_billed_attempts() -> None:
    from rolemodel_router.execute import backend_call

    def make(original: Any) -> Any:
        def unbilled(error: Any, *, responded: bool, after_first_token: bool) -> Any:
            return replace(original(error, responded=responded, after_first_token=after_first_token), billed=False)

        return unbilled

    wrap(backend_call, "from_exception", make)


def same_handoff_for_every_attempt() -> None:
    from rolemodel_router.execute import executor

    def make(original: Any) -> Any:
        first: dict[int, Any] = {}

        def mutated(messages: Any, target: Any, *rest: Any) -> Any:
            return original(messages, first.setdefault(id(messages), target), *rest)

        return mutated

    wrap(executor, "apply_handoff", make)


def ignores_prefill() -> None:
    from rolemodel import latency

    def make(original: Any) -> Any:
        return lambda **fields: original(**{**fields, "prefill_tokens": 0})

    wrap(latency, "estimate", make)


def prefill_ignores_depth() -> None:
    from rolemodel import latency

    def make(original: Any) -> Any:
        return lambda **fields: original(**{**fields, "half_speed_depth_tokens": 0})

    wrap(latency, "estimate", make)


def forgets_evictions() -> None:
    from rolemodel import cache_capacity

    def make(original: Any) -> Any:
        return lambda residents, key: original(residents, key) or cache_capacity.Resident(key, 0, 0, 0)

    wrap(cache_capacity, "find", make)


def keeps_failed_admissions() -> None:
    from rolemodel_router.engine import outcome

    wrap(outcome, "residents_after_outcome", lambda original: lambda *args: {})


MUTANTS: dict[str, Mutant] = {
    m.name: m
    for m in (
        Mutant(
            "ignores_pin",
            "a pin is dropped before deciding",
            "RM-ELIG-005",
            ("RM-ELIG-00*", "RM-HINT-021"),
            ignores_pin,
        ),
        Mutant("ignores_tool_loop", "a pending tool call is ignored", "RM-AFF-001", ("RM-AFF-*",), ignores_tool_loop),
        Mutant(
            "ignores_affinity_threshold",
            "any saving switches endpoints",
            "RM-AFF-003",
            ("RM-AFF-*",),
            ignores_affinity_threshold,
        ),
        Mutant(
            "dry_run_records",
            "a dry run is recorded like a real decision",
            "RM-DRY-001",
            ("RM-DRY-*",),
            dry_run_records,
        ),
        Mutant("drops_trigger", "ESCALATED loses triggering_decision_id", "RM-ESC-002", ("RM-ESC-*",), drops_trigger),
        Mutant(
            "shuffles_candidates",
            "candidates leave catalog order",
            "RM-ROUTE-002",
            ("RM-ROUTE-00*",),
            shuffles_candidates,
        ),
        Mutant(
            "cost_without_cache",
            "estimates ignore what the endpoint holds",
            "RM-COST-002",
            ("RM-COST-*", "RM-CACHE-001"),
            cost_without_cache,
        ),
        Mutant(
            "estimate_off_by_one",
            "the token estimate counts one token too many per message",
            "RM-CONV-013",
            ("RM-CONV-01*",),
            estimate_off_by_one,
        ),
        Mutant(
            "admits_over_quota",
            "an exhausted quota still admits",
            "RM-QUOTA-001",
            ("RM-QUOTA-001", "RM-QUOTA-003"),
            admits_over_quota,
        ),
        Mutant("ignores_budget", "the turn budget is never applied", "RM-ELIG-004", ("RM-ELIG-004",), ignores_budget),
        Mutant("ignores_deny_rules", "deny rules never match", "RM-ELIG-001", ("RM-ELIG-00*",), ignores_deny_rules),
        Mutant(
            "fixed_share_threshold",
            "the premium threshold never moves from min_difficulty",
            "RM-SHARE-001",
            ("RM-SHARE-*",),
            fixed_share_threshold,
        ),
        Mutant(
            "side_request_moves_conversation",
            "an isolated side request becomes the current turn",
            "RM-SIDE-002",
            ("RM-SIDE-002",),
            side_request_moves_conversation,
        ),
        Mutant("ttl_never_expires", "cache entries live forever", "RM-CACHE-003", ("RM-CACHE-003",), ttl_never_expires),
        Mutant(
            "explicit_cache_looks_back_without_limit",
            "an explicit cache reads a held prefix however far it lies before the breakpoints",
            "RM-CACHE-004",
            ("RM-CACHE-004",),
            explicit_cache_looks_back_without_limit,
        ),
        Mutant(
            "keeps_provisional_cache",
            "outcomes never correct the cache",
            "RM-CACHE-020",
            ("RM-CACHE-02*",),
            keeps_provisional_cache,
        ),
        Mutant(
            "fallback_not_restored",
            "the chosen endpoint keeps its guess when a fallback served",
            "RM-CACHE-022",
            ("RM-CACHE-022",),
            fallback_not_restored,
        ),
        Mutant(
            "double_counts_replays",
            "a replayed outcome is applied again",
            "RM-OUT-005",
            ("RM-OUT-00*",),
            double_counts_replays,
        ),
        Mutant(
            "never_deescalates",
            "successes never lower the escalation level",
            "RM-ESC-001",
            ("RM-ESC-*",),
            never_deescalates,
        ),
        Mutant(
            "drops_error_info",
            "errors lose their ErrorInfo and BadRequest",
            "RM-ERR-001",
            ("RM-ERR-00*",),
            drops_error_info,
        ),
        Mutant(
            "wrong_code_for_no_eligible",
            "NO_ELIGIBLE_ENDPOINT travels as INVALID_ARGUMENT",
            "RM-ERR-002",
            ("RM-ERR-002", "RM-ELIG-003"),
            wrong_code_for_no_eligible,
        ),
        Mutant(
            "accepts_unknown_version",
            "any rolemodel-version is accepted",
            "RM-VER-003",
            ("RM-VER-*",),
            accepts_unknown_version,
        ),
        Mutant(
            "ignores_deadlines",
            "effects are applied after the deadline passed",
            "RM-ERR-020",
            ("RM-ERR-020",),
            ignores_deadlines,
        ),
        Mutant(
            "retries_after_first_token",
            "a stream that breaks after its first token is retried on the next fallback",
            "RM-EXEC-011",
            ("RM-EXEC-011",),
            retries_after_first_token,
        ),
        Mutant(
            "sends_foreign_signature",
            "reasoning crosses providers with its signature",
            "RM-HANDOFF-002",
            ("RM-HANDOFF-00*",),
            sends_foreign_signature,
        ),
        Mutant(
            "trusts_unlabelled_signatures",
            "a signed block without a provider counts as the target's own",
            "RM-HANDOFF-006",
            ("RM-HANDOFF-006",),
            trusts_unlabelled_signatures,
        ),
        Mutant(
            "keeps_tool_ids",
            "tool-call ids are never remapped",
            "RM-HANDOFF-020",
            ("RM-HANDOFF-02*",),
            keeps_tool_ids,
        ),
        Mutant(
            "no_cache_breakpoints",
            "explicit caching gets no breakpoints",
            "RM-HANDOFF-040",
            ("RM-HANDOFF-04*",),
            no_cache_breakpoints,
        ),
        Mutant(
            "forgets_execute_outcome",
            "Execute never records the outcome of what it executed",
            "RM-EXEC-003",
            ("RM-EXEC-003",),
            forgets_execute_outcome,
        ),
        Mutant(
            "falls_back_after_rejection",
            "a request the endpoint rejects is sent to the next fallback",
            "RM-EXEC-015",
            ("RM-EXEC-015",),
            falls_back_after_rejection,
        ),
        Mutant(
            "ignores_billed_attempts",
            "an attempt that may have been billed costs nothing against the budget",
            "RM-EXEC-017",
            ("RM-EXEC-017",),
            ignores_billed_attempts,
        ),
        Mutant(
            "same_handoff_for_every_attempt",
            "every attempt is sent the first endpoint's handoff",
            "RM-EXEC-006",
            ("RM-EXEC-006",),
            same_handoff_for_every_attempt,
        ),
        Mutant(
            "ignores_prefill",
            "the expected time to first token leaves out the uncached prompt",
            "RM-ROUTE-033",
            ("RM-ROUTE-033",),
            ignores_prefill,
        ),
        Mutant(
            "prefill_ignores_depth",
            "prefill runs at one speed however deep the context, despite a declared half-speed depth",
            "RM-ROUTE-036",
            ("RM-ROUTE-036",),
            prefill_ignores_depth,
        ),
        Mutant(
            "forgets_evictions",
            "a conversation evicted from a full server is assumed still resident",
            "RM-CACHE-030",
            ("RM-CACHE-03*",),
            forgets_evictions,
        ),
        Mutant(
            "keeps_failed_admissions",
            "an outcome never changes the residents, whoever served",
            "RM-CACHE-034",
            ("RM-CACHE-034", "RM-CACHE-035"),
            keeps_failed_admissions,
        ),
    )
}
