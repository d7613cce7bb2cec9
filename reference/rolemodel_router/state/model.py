"""The router's state, as immutable values.

The engine reads a snapshot of these and returns new values; stores keep
them. Immutability lets a store hand the engine its live objects without
copying, and makes "what did this decision change" an explicit plan.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

from rolemodel.cache_capacity import Resident
from rolemodel.v1 import decision_pb2
from rolemodel_router.engine.digest_chain import DigestChain

EMPTY: Mapping[str, object] = MappingProxyType({})


@dataclass(frozen=True)
class CachePoint:
    """A prefix an explicit cache holds (spec 7.2.1): ``messages`` whole messages, then the first ``parts`` parts
    of the next one (0: none), identified by the chained digest of exactly that prefix."""

    messages: int
    parts: int
    digest: bytes


@dataclass(frozen=True)
class CacheEntry:
    """What one endpoint holds of one conversation (spec 7.3).

    ``points`` are the prefixes an explicit cache holds, where it can be read (7.2.1); empty for
    automatic caching, and for an explicit entry that holds only its whole prefix.
    """

    digests: DigestChain
    held_tokens: int
    reply_tokens: int
    expires_at_ms: int
    source: decision_pb2.CacheStateSource.ValueType
    decision_id: str  # the decision that wrote it
    written_at_ms: int  # that decision's time; an older decision's outcome never overwrites it
    points: tuple[CachePoint, ...] = ()

    def live(self, now_ms: int) -> bool:
        return now_ms < self.expires_at_ms


@dataclass(frozen=True)
class EscalationState:
    level: int = 0
    successes: int = 0
    trigger_decision_id: str = ""


@dataclass(frozen=True)
class ConversationState:
    conversation_id: str
    current_endpoint_id: str = ""
    current_decision_id: str = ""
    cache: Mapping[str, CacheEntry] = field(default_factory=dict)
    escalation: Mapping[str, EscalationState] = field(default_factory=dict)
    # Endpoints with a failure outcome, per turn index (only recent turns are kept).
    failed_by_turn: Mapping[int, frozenset[str]] = field(default_factory=dict)
    updated_at_ms: int = 0


@dataclass(frozen=True)
class QuotaEvent:
    """One decision's use of a quota: reserved at decision time, reconciled by its outcome."""

    decision_id: str
    at_ms: int
    requests: int
    tokens: int
    cost_picos: int


@dataclass(frozen=True)
class EndpointHealth:
    """The observed profile of an endpoint (spec 9.5)."""

    observed_outcomes: int = 0
    ttft_ms: float | None = None
    failure_rate: float | None = None
    consecutive_failures: int = 0
    cooldown_until_ms: int = 0
    # Decayed speeds the outcomes reported (None until one did), and the latency before prefill.
    prefill_tokens_per_second: float | None = None
    output_tokens_per_second: float | None = None
    base_latency_ms: float | None = None
    # Decayed moments of the reported prefill times against depth (spec 9.5); None until one.
    prefill_moments: tuple[float, float, float, float] | None = None


@dataclass(frozen=True, slots=True)
class ShareState:
    """A premium-share controller's window: (difficulty, went premium, at) per main turn.

    ``premium_count`` and ``sorted_difficulties`` follow from ``window``. A state loaded from a store
    computes them once; :func:`rolemodel_router.engine.share.record` carries them forward, one turn
    in and the oldest out, so a decision does not count and sort the whole window again.
    """

    window: tuple[tuple[float, bool, int], ...] = ()
    integral: float = 0.0
    premium_count: int = field(default=-1, compare=False, repr=False)
    sorted_difficulties: tuple[float, ...] = field(default=(), compare=False, repr=False)

    def __post_init__(self) -> None:
        if self.premium_count < 0:
            object.__setattr__(self, "premium_count", sum(1 for _, premium, _ in self.window if premium))
            object.__setattr__(self, "sorted_difficulties", tuple(sorted(d for d, _, _ in self.window)))


@dataclass(frozen=True)
class Reservation:
    quota_id: str
    requests: int
    tokens: int
    cost_picos: int


@dataclass(frozen=True)
class DecisionRecord:
    """What ReportOutcome needs to know about a decision."""

    decision_id: str
    conversation_id: str
    turn_index: int
    role: str
    chosen_endpoint_id: str
    fallback_endpoint_ids: tuple[str, ...]
    created_at_ms: int
    main_turn: bool
    prompt_digests: DigestChain
    prompt_tokens: int
    output_tokens: int
    # The chosen endpoint's entry before this decision, to restore when it did not serve.
    previous_entry: CacheEntry | None
    previous_current_endpoint_id: str
    previous_current_decision_id: str
    reservations: tuple[Reservation, ...]
    outcome_key: str = ""
    # The endpoint that served when Execute recorded a served outcome; a client's verdict may follow (RM-EXEC-005).
    executed_served: str = ""
    # The chosen endpoint got a compacted prompt; prompt_digests and prompt_tokens cover only what it shares.
    compacted: bool = False
    # The chosen endpoint's residents before this decision admitted its key (spec 7.7), to take the
    # admission back when that endpoint did not take the prompt; empty without a cache capacity.
    residents_before: tuple[Resident, ...] = ()


@dataclass(frozen=True)
class OutcomeRecord:
    """A reported outcome, by idempotency key, with the response it got."""

    idempotency_key: str
    decision_id: str
    fingerprint: bytes
    response: bytes  # serialised ReportOutcomeResponse


CACHE_PROVISIONAL = decision_pb2.CACHE_STATE_SOURCE_PROVISIONAL
CACHE_REPORTED = decision_pb2.CACHE_STATE_SOURCE_REPORTED
