"""Rows of the SQLite store as MessagePack arrays, read back whether binary (schema 3) or JSON (schema 2).

The SQLite writer rewrites a conversation and writes a decision on every Route, about 7 KB, most of it
message digests. JSON spent as long encoding those rows as SQLite spent committing them: every digest went
through base64 and every field through the pure-Python encoder. MessagePack (a C extension) keeps the digests
as raw bytes and the fields as positional arrays, which is several times cheaper to write and a quarter smaller.

A database written by schema 2 holds JSON text; SQLite returns it as ``str``, and each loader hands it to the
JSON codec (codec.py), so an old database opens and its rows are rewritten in the new form as they change.
Redis keeps JSON (its Lua scripts read it with cjson).

Each table's body has a :class:`BodyFormat`: the value as a positional array and back, and schema 2's
reader. The positions are the stored form: a new field is appended, and read as absent from an array
written before it (as an entry's points are).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

import msgpack

from rolemodel.cache_capacity import Resident
from rolemodel.pacing import UsageSample, UsageWindowState
from rolemodel.v1 import decision_pb2
from rolemodel_router.engine.digest_chain import DigestChain
from rolemodel_router.state import codec
from rolemodel_router.state.model import (
    CacheEntry,
    CachePoint,
    ConversationState,
    DecisionRecord,
    EndpointHealth,
    EscalationState,
    OutcomeRecord,
    QuotaEvent,
    Reservation,
    ShareState,
)

#: A stored body: bytes as written by this module, str as written by schema 2.
Body = bytes | str
T = TypeVar("T")


@dataclass(frozen=True)
class BodyFormat(Generic[T]):
    """How one table stores its values: a positional MessagePack array, read back; schema 2's JSON, read only."""

    to_array: Callable[[T], list[Any]]
    from_array: Callable[[list[Any]], T]
    from_json: Callable[[str], T]

    def dump(self, value: T) -> bytes:
        return bytes(msgpack.packb(self.to_array(value), use_bin_type=True))

    def load(self, body: Body) -> T:
        if isinstance(body, str):
            return self.from_json(body)
        return self.from_array(msgpack.unpackb(body, raw=False, use_list=True, strict_map_key=True))


def _digests(raw: bytes) -> DigestChain:
    return DigestChain.from_packed(raw)


def _entry(e: CacheEntry) -> list[Any]:
    return [
        e.digests.packed(),
        e.held_tokens,
        e.reply_tokens,
        e.expires_at_ms,
        int(e.source),
        e.decision_id,
        e.written_at_ms,
        [[p.messages, p.parts, p.digest] for p in e.points],
    ]


def _entry_from(v: list[Any]) -> CacheEntry:
    # v[7:] is empty in a row written before points were stored: an entry without points.
    points = tuple(CachePoint(m, k, digest) for stored in v[7:] for m, k, digest in stored)
    source = decision_pb2.CacheStateSource.ValueType(v[4])
    return CacheEntry(_digests(v[0]), v[1], v[2], v[3], source, v[5], v[6], points)


def _conversation(c: ConversationState) -> list[Any]:
    return [
        c.conversation_id,
        c.current_endpoint_id,
        c.current_decision_id,
        {k: _entry(v) for k, v in c.cache.items()},
        {k: [v.level, v.successes, v.trigger_decision_id] for k, v in c.escalation.items()},
        [[turn, sorted(failed)] for turn, failed in c.failed_by_turn.items()],
        c.updated_at_ms,
    ]


def _conversation_from(v: list[Any]) -> ConversationState:
    return ConversationState(
        conversation_id=v[0],
        current_endpoint_id=v[1],
        current_decision_id=v[2],
        cache={k: _entry_from(e) for k, e in v[3].items()},
        escalation={k: EscalationState(e[0], e[1], e[2]) for k, e in v[4].items()},
        failed_by_turn={turn: frozenset(failed) for turn, failed in v[5]},
        updated_at_ms=v[6],
    )


def _decision(r: DecisionRecord) -> list[Any]:
    return [
        r.decision_id,
        r.conversation_id,
        r.turn_index,
        r.role,
        r.chosen_endpoint_id,
        list(r.fallback_endpoint_ids),
        r.created_at_ms,
        r.main_turn,
        r.prompt_digests.packed(),
        r.prompt_tokens,
        r.output_tokens,
        _entry(r.previous_entry) if r.previous_entry is not None else None,
        r.previous_current_endpoint_id,
        r.previous_current_decision_id,
        [[x.quota_id, x.requests, x.tokens, x.cost_picos] for x in r.reservations],
        r.outcome_key,
        r.executed_served,
        r.compacted,
    ]


def _decision_from(v: list[Any]) -> DecisionRecord:
    return DecisionRecord(
        decision_id=v[0],
        conversation_id=v[1],
        turn_index=v[2],
        role=v[3],
        chosen_endpoint_id=v[4],
        fallback_endpoint_ids=tuple(v[5]),
        created_at_ms=v[6],
        main_turn=v[7],
        prompt_digests=_digests(v[8]),
        prompt_tokens=v[9],
        output_tokens=v[10],
        previous_entry=_entry_from(v[11]) if v[11] is not None else None,
        previous_current_endpoint_id=v[12],
        previous_current_decision_id=v[13],
        reservations=tuple(Reservation(q, a, b, c) for q, a, b, c in v[14]),
        outcome_key=v[15],
        executed_served=v[16],
        compacted=v[17],
    )


#: Fields of a stored profile before the prefill moments were kept.
HEALTH_FIELDS_BEFORE_MOMENTS = 8


def _health_from(v: list[Any]) -> EndpointHealth:
    """A stored profile; one written before the prefill moments were kept has eight fields."""
    rest = v[HEALTH_FIELDS_BEFORE_MOMENTS:]
    moments = codec.prefill_moments(rest[0] if rest else None)
    return EndpointHealth(v[0], v[1], v[2], v[3], v[4], v[5], v[6], v[7], moments)


def _share_from(v: list[Any]) -> ShareState:
    window, integral = v
    return ShareState(window=tuple((float(a), bool(b), int(c)) for a, b, c in window), integral=float(integral))


def _usage(s: UsageWindowState) -> list[Any]:
    return [
        s.used,
        s.per_turn,
        s.routable,
        s.resets_at_ms,
        s.reported_at_ms,
        s.turns,
        s.turns_at_report,
        [[x.at_ms, x.used, x.turns] for x in s.samples],
    ]


def _usage_from(v: list[Any]) -> UsageWindowState:
    return UsageWindowState(
        used=float(v[0]),
        per_turn=float(v[1]),
        routable=int(v[2]),
        resets_at_ms=int(v[3]),
        reported_at_ms=int(v[4]),
        turns=int(v[5]),
        turns_at_report=int(v[6]),
        samples=tuple(UsageSample(int(a), float(u), int(n)) for a, u, n in v[7]),
    )


#: The body of each table, by table.
CONVERSATIONS = BodyFormat(_conversation, _conversation_from, codec.load_conversation)
DECISIONS = BodyFormat(_decision, _decision_from, codec.load_decision)
OUTCOMES = BodyFormat[OutcomeRecord](
    lambda o: [o.idempotency_key, o.decision_id, o.fingerprint, o.response],
    lambda v: OutcomeRecord(*v),
    codec.load_outcome,
)
QUOTA_EVENTS = BodyFormat[QuotaEvent](
    lambda e: [e.decision_id, e.at_ms, e.requests, e.tokens, e.cost_picos],
    lambda v: QuotaEvent(*v),
    codec.load_event,
)
ENDPOINT_HEALTH = BodyFormat(codec.health_fields, _health_from, codec.load_health)
SHARE_STATE = BodyFormat[ShareState](lambda s: [[list(x) for x in s.window], s.integral], _share_from, codec.load_share)
USAGE_WINDOWS = BodyFormat(_usage, _usage_from, codec.load_usage)
ENDPOINT_OCCUPANCY = BodyFormat[tuple[Resident, ...]](
    lambda residents: [[r.key, r.slot, r.tokens, r.last_used_ms] for r in residents],
    lambda v: tuple(Resident(k, s, t, at) for k, s, t, at in v),
    codec.load_residents,
)
