"""Apply an outcome report (spec chapter 9), as a pure function.

The provider's report is the truth about what happened: it replaces the
provisional cache entry, reconciles the quota reservation, moves the
escalation level, and feeds the observed profile. Every rule that protects
against stale or repeated reports lives here too: idempotency keys, a second
report under a new key, and outcomes that arrive after a later decision.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import replace

from rolemodel import cost
from rolemodel.error_reasons import ErrorReason
from rolemodel.pacing import UsageWindowState
from rolemodel.v1 import catalog_pb2, common_pb2, decision_pb2, outcome_pb2, router_service_pb2
from rolemodel_router.engine import usage_windows
from rolemodel_router.engine.capacity_outcome import residents_after_outcome
from rolemodel_router.engine.catalog_index import CatalogIndex
from rolemodel_router.engine.errors import RouterError, Violations
from rolemodel_router.engine.health import observe
from rolemodel_router.engine.limits import MAX_DECISION_ID, Limits
from rolemodel_router.engine.plans import OutcomePlan, OutcomeSnapshot
from rolemodel_router.engine.quota import Window, empty_window, quota_state
from rolemodel_router.engine.route_input import FAILURE_CLASSES
from rolemodel_router.state.model import (
    CACHE_PROVISIONAL,
    CACHE_REPORTED,
    CacheEntry,
    CachePoint,
    ConversationState,
    DecisionRecord,
    EndpointHealth,
    EscalationState,
    OutcomeRecord,
    QuotaEvent,
)

OC = common_pb2
SERVED_CLASSES = frozenset({OC.OUTCOME_CLASS_SUCCESS, OC.OUTCOME_CLASS_TASK_FAILED, OC.OUTCOME_CLASS_QUALITY_REJECTED})
_KNOWN_CLASSES = frozenset(OC.OutcomeClass.values()) - {OC.OUTCOME_CLASS_UNSPECIFIED}
_KNOWN_WINDOWS = frozenset({catalog_pb2.USAGE_WINDOW_SHORT, catalog_pb2.USAGE_WINDOW_LONG})
MAX_KEY = 128
MAX_DETAIL_BYTES = 1024
#: The fastest speed an outcome may report: far beyond any server, so that a typo cannot poison the profile.
MAX_TOKENS_PER_SECOND = 1e9
#: Turns of failure history kept per conversation.
FAILED_TURNS_KEPT = 8
#: A client's judgement of an answer that Execute already recorded as served.
VERDICT_CLASSES = frozenset({OC.OUTCOME_CLASS_TASK_FAILED, OC.OUTCOME_CLASS_QUALITY_REJECTED})


def validate(outcome: outcome_pb2.Outcome, index: CatalogIndex, limits: Limits) -> None:
    """Field rules of RM-OUT-004 and unknown endpoints (RM-OUT-003); raises RouterError."""
    v = Violations()
    if not outcome.decision_id:
        v.add("outcome.decision_id", "required")
    elif len(outcome.decision_id) > MAX_DECISION_ID:
        v.add("outcome.decision_id", f"longer than {MAX_DECISION_ID} characters")
    if not outcome.served_endpoint_id:
        v.add("outcome.served_endpoint_id", "required")
    elif len(outcome.served_endpoint_id.encode()) > limits.max_string_bytes:
        v.add("outcome.served_endpoint_id", f"longer than {limits.max_string_bytes} bytes")
    elif outcome.served_endpoint_id not in index.endpoints:
        v.unknown_endpoint("outcome.served_endpoint_id", outcome.served_endpoint_id)
    if outcome.outcome_class not in _KNOWN_CLASSES:
        v.add("outcome.outcome_class", "required, and one of the OutcomeClass values")
    if not 1 <= len(outcome.idempotency_key) <= MAX_KEY:
        v.add("outcome.idempotency_key", f"required, 1 to {MAX_KEY} characters")
    usage = outcome.usage
    if usage.cache_read_tokens + usage.cache_write_tokens > usage.input_tokens:
        v.add("outcome.usage", "cache_read_tokens plus cache_write_tokens exceed input_tokens")
    if usage.cache_write_long_ttl_tokens > usage.cache_write_tokens:
        v.add("outcome.usage.cache_write_long_ttl_tokens", "exceeds cache_write_tokens")
    if len(outcome.detail.encode()) > MAX_DETAIL_BYTES:
        v.add("outcome.detail", f"longer than {MAX_DETAIL_BYTES} bytes")
    _validate_usage_windows(v, outcome)
    for name in ("prefill_tokens_per_second", "output_tokens_per_second"):
        speed = getattr(outcome, name)
        if not (math.isfinite(speed) and 0.0 <= speed <= MAX_TOKENS_PER_SECOND):
            v.add(f"outcome.{name}", f"a speed in tokens per second, 0 (unknown) to {MAX_TOKENS_PER_SECOND:g}")
    v.raise_if_any()


def _validate_usage_windows(v: Violations, outcome: outcome_pb2.Outcome) -> None:
    """Spec 9.8: each report names its window once, with a finite share and a reset time."""
    seen: set[int] = set()
    for i, report in enumerate(outcome.usage_windows):
        path = f"outcome.usage_windows[{i}]"
        if report.window not in _KNOWN_WINDOWS:
            v.add(f"{path}.window", "required, USAGE_WINDOW_SHORT or USAGE_WINDOW_LONG")
        elif report.window in seen:
            v.add(f"{path}.window", "reported twice")
        seen.add(report.window)
        if not (math.isfinite(report.used_share) and report.used_share >= 0):
            v.add(f"{path}.used_share", "must be a finite share of at least 0")
        if not report.HasField("resets_at") or report.resets_at.seconds <= 0:
            v.add(f"{path}.resets_at", "required")


def fingerprint(outcome: outcome_pb2.Outcome) -> bytes:
    return outcome.SerializeToString(deterministic=True)


def _reported_entry(
    index: CatalogIndex, record: DecisionRecord, served: str, outcome: outcome_pb2.Outcome, current: CacheEntry | None
) -> CacheEntry | None:
    """What the served endpoint holds after a served call (RM-CACHE-020, -021, -025).

    ``current`` is the served endpoint's entry now; when this decision wrote it, an explicit cache
    keeps the points the decision predicted (7.2.1), since the provider reports token totals only.
    """
    econ = index.endpoints[served].economics
    usage = outcome.usage
    if not econ.caches:
        return None
    expires = record.created_at_ms + econ.ttl_seconds * 1000
    ours = current if current is not None and current.decision_id == record.decision_id else None
    if usage.input_tokens == 0 and ours is not None and ours.points:
        return ours
    if usage.input_tokens == 0:
        if record.prompt_tokens < econ.min_cacheable_tokens:
            return None
        return CacheEntry(
            record.prompt_digests, record.prompt_tokens, record.output_tokens, expires,
            CACHE_PROVISIONAL, record.decision_id, record.created_at_ms,
        )  # fmt: skip
    if econ.mode == catalog_pb2.CACHE_MODE_EXPLICIT:
        holds = usage.cache_read_tokens + usage.cache_write_tokens > 0
    else:
        holds = usage.input_tokens >= econ.min_cacheable_tokens
    if not holds:
        return None
    if record.compacted:
        # Only the leading system messages are known to be shared with the next full prompt.
        return CacheEntry(
            record.prompt_digests, record.prompt_tokens, 0, expires,
            CACHE_REPORTED, record.decision_id, record.created_at_ms,
        )  # fmt: skip
    if econ.explicit:
        # The provider holds what it read and wrote: the tokens up to its last written breakpoint.
        points = ours.points if ours is not None and ours.points else _whole_prompt(record)
        return CacheEntry(
            record.prompt_digests, usage.cache_read_tokens + usage.cache_write_tokens, usage.output_tokens, expires,
            CACHE_REPORTED, record.decision_id, record.created_at_ms, points,
        )  # fmt: skip
    return CacheEntry(
        record.prompt_digests, usage.input_tokens, usage.output_tokens, expires,
        CACHE_REPORTED, record.decision_id, record.created_at_ms,
    )  # fmt: skip


def _whole_prompt(record: DecisionRecord) -> tuple[CachePoint, ...]:
    """One point at the end of the prompt: what an explicit cache holds when the router knows no breakpoints."""
    if not record.prompt_digests:
        return ()
    return (CachePoint(len(record.prompt_digests), 0, record.prompt_digests[-1]),)


def _ours_or_older(entry: CacheEntry | None, record: DecisionRecord) -> bool:
    """Whether an outcome of ``record`` may change this entry (RM-CACHE-024)."""
    return entry is None or entry.decision_id == record.decision_id or entry.written_at_ms < record.created_at_ms


def _cache(
    index: CatalogIndex, conv: ConversationState, record: DecisionRecord, outcome: outcome_pb2.Outcome
) -> dict[str, CacheEntry]:
    cache = dict(conv.cache)
    chosen, served = record.chosen_endpoint_id, outcome.served_endpoint_id
    served_ok = outcome.outcome_class in SERVED_CLASSES
    current_chosen = cache.get(chosen)
    if (
        (served != chosen or not served_ok)
        and current_chosen is not None
        and current_chosen.decision_id == record.decision_id
    ):
        if record.previous_entry is None:
            del cache[chosen]
        else:
            cache[chosen] = record.previous_entry
    if served_ok and _ours_or_older(cache.get(served), record):
        entry = _reported_entry(index, record, served, outcome, cache.get(served))
        if entry is None:
            cache.pop(served, None)
        else:
            cache[served] = entry
    return cache


def _escalation(
    conv: ConversationState, record: DecisionRecord, outcome: outcome_pb2.Outcome, index: CatalogIndex
) -> EscalationState:
    role = index.roles.get(record.role)
    state = conv.escalation.get(record.role, EscalationState())
    if role is None or not record.main_turn:
        return state
    policy = role.role.escalation
    if not index.applies_escalation:
        # Escalation withheld: the level stays where it is; consecutive successes are still counted.
        if outcome.outcome_class in role.escalate_on:
            return replace(state, successes=0)
        if outcome.outcome_class == OC.OUTCOME_CLASS_SUCCESS:
            return replace(state, successes=state.successes + 1)
        return state
    if outcome.outcome_class in role.escalate_on:
        ceiling = min(policy.max_level, role.top_tier)
        return EscalationState(min(state.level + 1, ceiling), 0, record.decision_id)
    if outcome.outcome_class == OC.OUTCOME_CLASS_SUCCESS:
        successes = state.successes + 1
        if policy.deescalate_after and successes >= policy.deescalate_after and state.level > 0:
            return EscalationState(state.level - 1, 0, state.trigger_decision_id)
        return replace(state, successes=successes)
    return state


def _conversation(
    index: CatalogIndex, conv: ConversationState, record: DecisionRecord, outcome: outcome_pb2.Outcome, now_ms: int
) -> ConversationState:
    if not record.main_turn:
        return conv
    served_ok = outcome.outcome_class in SERVED_CLASSES
    current_id, current_decision = conv.current_endpoint_id, conv.current_decision_id
    if conv.current_decision_id == record.decision_id:
        if served_ok:
            current_id = outcome.served_endpoint_id
        else:
            current_id, current_decision = record.previous_current_endpoint_id, record.previous_current_decision_id
    failed = dict(conv.failed_by_turn)
    if outcome.outcome_class in FAILURE_CLASSES:
        failed[record.turn_index] = failed.get(record.turn_index, frozenset()) | {outcome.served_endpoint_id}
        for turn in sorted(failed)[:-FAILED_TURNS_KEPT]:
            del failed[turn]
    escalation = dict(conv.escalation)
    escalation[record.role] = _escalation(conv, record, outcome, index)
    return replace(
        conv,
        current_endpoint_id=current_id,
        current_decision_id=current_decision,
        cache=_cache(index, conv, record, outcome),
        escalation=escalation,
        failed_by_turn=failed,
        updated_at_ms=now_ms,
    )


def _quota_events(
    index: CatalogIndex, record: DecisionRecord, outcome: outcome_pb2.Outcome, used: cost.TurnCost
) -> dict[str, QuotaEvent]:
    """Reservations replaced by what was used (RM-QUOTA-004)."""
    events = {r.quota_id: QuotaEvent(record.decision_id, record.created_at_ms, 0, 0, 0) for r in record.reservations}
    requests = 0 if outcome.outcome_class in FAILURE_CLASSES else 1
    usage = outcome.usage
    for quota_id in index.endpoints[outcome.served_endpoint_id].quota_ids:
        events[quota_id] = QuotaEvent(
            record.decision_id,
            record.created_at_ms,
            requests,
            usage.input_tokens + usage.output_tokens,
            used.total_picos,
        )
    return events


def _reconciled(
    index: CatalogIndex,
    snapshot: OutcomeSnapshot,
    record: DecisionRecord,
    quota_id: str,
    event: QuotaEvent,
    now_ms: int,
) -> Window:
    """The window after the decision's reservation is replaced by ``event`` (for the effects in the response)."""
    window = snapshot.quota_windows.get(quota_id) or empty_window(index.quotas[quota_id], now_ms)
    if record.created_at_ms < window.start_ms:
        return window  # the decision's window has passed; nothing it did still counts
    old = next((r for r in record.reservations if r.quota_id == quota_id), None)
    requests, tokens, cost_picos = window.requests, window.tokens, window.cost_picos
    if old is not None:
        requests, tokens, cost_picos = requests - old.requests, tokens - old.tokens, cost_picos - old.cost_picos
    return replace(
        window,
        requests=requests + event.requests,
        tokens=tokens + event.tokens,
        cost_picos=cost_picos + event.cost_picos,
    )


def is_verdict_on_execution(record: DecisionRecord, outcome: outcome_pb2.Outcome) -> bool:
    """RM-EXEC-005: Execute recorded the call; the client may still judge the answer, once."""
    return (
        bool(record.executed_served)
        and record.executed_served == outcome.served_endpoint_id
        and outcome.outcome_class in VERDICT_CLASSES
    )


def _effects(conversation: ConversationState, record: DecisionRecord, served: str) -> outcome_pb2.OutcomeEffects:
    """What every acknowledged outcome reports (RM-OUT-009), before its cost and quotas."""
    escalation = conversation.escalation.get(record.role, EscalationState())
    entry = conversation.cache.get(served)
    return outcome_pb2.OutcomeEffects(
        served_endpoint_id=served,
        escalation_level=escalation.level,
        consecutive_successes=escalation.successes,
        cached_prefix_tokens=entry.held_tokens if entry is not None else 0,
    )


def _verdict(
    index: CatalogIndex, snapshot: OutcomeSnapshot, record: DecisionRecord, outcome: outcome_pb2.Outcome, now_ms: int
) -> OutcomePlan:
    """A client's verdict on an executed answer: escalation only; usage, cache and quotas were settled by Execute."""
    conversation = snapshot.conversation
    if record.main_turn:
        escalation = dict(conversation.escalation)
        escalation[record.role] = _escalation(conversation, record, outcome, index)
        conversation = replace(conversation, escalation=escalation, updated_at_ms=now_ms)
    served = outcome.served_endpoint_id
    response = router_service_pb2.ReportOutcomeResponse(effects=_effects(conversation, record, served))
    return OutcomePlan(
        response=response,
        replayed=False,
        record=replace(record, outcome_key=outcome.idempotency_key, executed_served=""),  # one verdict only
        outcome=OutcomeRecord(
            outcome.idempotency_key, record.decision_id, fingerprint(outcome), response.SerializeToString()
        ),
        conversation=conversation if record.main_turn else None,
        served_endpoint_id=served,
    )


def apply_outcome(
    index: CatalogIndex,
    snapshot: OutcomeSnapshot,
    outcome: outcome_pb2.Outcome,
    now_ms: int,
    *,
    executed: bool = False,
) -> OutcomePlan:
    """The plan for a validated outcome; raises RouterError for the refusals of spec 9.1.

    ``executed``: Execute records this outcome itself; when it is a success, a client's verdict
    may follow (RM-EXEC-005).
    """
    previous = snapshot.previous_report
    if previous is not None:
        if previous.fingerprint != fingerprint(outcome):
            raise RouterError(
                ErrorReason.IDEMPOTENCY_KEY_REUSED,
                "this idempotency key was used for a different outcome",
                {"idempotency_key": outcome.idempotency_key},
                Violations.single("outcome.idempotency_key", "already used for a different outcome"),
            )
        response = router_service_pb2.ReportOutcomeResponse.FromString(previous.response)
        response.replayed = True
        return OutcomePlan(response=response, replayed=True)
    record = snapshot.record
    if record is None:
        raise RouterError(
            ErrorReason.DECISION_NOT_FOUND,
            f"no decision '{outcome.decision_id}' is kept by this router",
            {"decision_id": outcome.decision_id},
        )
    served = outcome.served_endpoint_id
    if served != record.chosen_endpoint_id and served not in record.fallback_endpoint_ids:
        raise RouterError(
            ErrorReason.ENDPOINT_NOT_IN_DECISION,
            f"'{served}' was neither the chosen endpoint nor a fallback of decision '{record.decision_id}'",
            {"decision_id": record.decision_id, "endpoint_id": served},
            Violations.single("outcome.served_endpoint_id", "not the chosen endpoint nor a fallback"),
        )
    if record.outcome_key:
        if is_verdict_on_execution(record, outcome):
            return _verdict(index, snapshot, record, outcome, now_ms)
        raise RouterError(
            ErrorReason.OUTCOME_ALREADY_REPORTED,
            f"decision '{record.decision_id}' already has an outcome",
            {"decision_id": record.decision_id},
        )
    econ = index.endpoints[served].economics
    used = cost.cost_of_usage(econ, outcome.usage)
    conversation = _conversation(index, snapshot.conversation, record, outcome, now_ms)
    events = _quota_events(index, record, outcome, used)
    health = observe(
        snapshot.health.get(served, EndpointHealth()),
        outcome,
        now_ms,
        declared=index.endpoints[served].endpoint.latency,
    )
    usage = usage_windows.after_outcome(index, snapshot.usage, outcome, now_ms)
    quota_states = [
        _reported_state(index, snapshot, usage, q, now_ms)
        if usage_windows.is_reported(index.quotas[q])
        else quota_state(index.quotas[q], _reconciled(index, snapshot, record, q, events[q], now_ms), None, False)
        for q in index.endpoints[served].quota_ids
    ]
    effects = _effects(conversation, record, served)
    effects.reported_cost.CopyFrom(cost.to_proto(used, index.currency))
    effects.quota_states.extend(quota_states)
    response = router_service_pb2.ReportOutcomeResponse(effects=effects)
    return OutcomePlan(
        response=response,
        replayed=False,
        record=replace(
            record,
            outcome_key=outcome.idempotency_key,
            executed_served=served if executed and outcome.outcome_class == OC.OUTCOME_CLASS_SUCCESS else "",
        ),
        outcome=OutcomeRecord(
            outcome.idempotency_key, record.decision_id, fingerprint(outcome), response.SerializeToString()
        ),
        conversation=conversation,
        quota_events=events,
        served_endpoint_id=served,
        health=health,
        usage=usage,
        occupancy=residents_after_outcome(index, snapshot.occupancy, record, outcome, now_ms),
    )


def _reported_state(
    index: CatalogIndex,
    snapshot: OutcomeSnapshot,
    usage: Mapping[str, UsageWindowState],
    quota_id: str,
    now_ms: int,
) -> decision_pb2.QuotaState:
    """A reported quota after the outcome's reports (spec 9.8); the arrival rate is not known here."""
    states = {**snapshot.usage, **usage}
    pace = usage_windows.window_pace(index, quota_id, states, now_ms, None)
    state = usage_windows.state_of(states, quota_id)
    return usage_windows.reported_quota_state(index.quotas[quota_id], state, pace, pace.hard_stop)
