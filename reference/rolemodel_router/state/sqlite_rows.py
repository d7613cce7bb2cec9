"""Rows of the SQLite store as MessagePack arrays, read back whether binary (schema 3) or JSON (schema 2).

The SQLite writer rewrites a conversation and writes a decision on every Route, about 7 KB, most of it
message digests. JSON spent as long encoding those rows as SQLite spent committing them: every digest went
through base64 and every field through the pure-Python encoder. MessagePack (a C extension) keeps the digests
as raw bytes and the fields as positional arrays, which is several times cheaper to write and a quarter smaller.

A database written by schema 2 holds JSON text; SQLite returns it as ``str``, and each loader hands it to the
JSON codec (codec.py), so an old database opens and its rows are rewritten in the new form as they change.
Redis keeps JSON (its Lua scripts read it with cjson).
"""

from __future__ import annotations

from typing import Any

import msgpack

from rolemodel.cache_capacity import Resident
from rolemodel.pacing import UsageSample, UsageWindowState
from rolemodel.v1 import decision_pb2
from rolemodel_router.engine.digest_chain import DigestChain
from rolemodel_router.state import codec
from rolemodel_router.state.model import (
    CacheEntry,
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


def _pack(value: Any) -> bytes:
    return bytes(msgpack.packb(value, use_bin_type=True))


def _unpack(raw: bytes) -> Any:
    return msgpack.unpackb(raw, raw=False, use_list=True, strict_map_key=True)


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
    ]


def _entry_from(v: list[Any]) -> CacheEntry:
    return CacheEntry(_digests(v[0]), v[1], v[2], v[3], decision_pb2.CacheStateSource.ValueType(v[4]), v[5], v[6])


def dump_conversation(c: ConversationState) -> bytes:
    return _pack(
        [
            c.conversation_id,
            c.current_endpoint_id,
            c.current_decision_id,
            {k: _entry(v) for k, v in c.cache.items()},
            {k: [v.level, v.successes, v.trigger_decision_id] for k, v in c.escalation.items()},
            [[turn, sorted(failed)] for turn, failed in c.failed_by_turn.items()],
            c.updated_at_ms,
        ]
    )


def load_conversation(body: Body) -> ConversationState:
    if isinstance(body, str):
        return codec.load_conversation(body)
    v = _unpack(body)
    return ConversationState(
        conversation_id=v[0],
        current_endpoint_id=v[1],
        current_decision_id=v[2],
        cache={k: _entry_from(e) for k, e in v[3].items()},
        escalation={k: EscalationState(e[0], e[1], e[2]) for k, e in v[4].items()},
        failed_by_turn={turn: frozenset(failed) for turn, failed in v[5]},
        updated_at_ms=v[6],
    )


def dump_decision(r: DecisionRecord) -> bytes:
    return _pack(
        [
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
    )


def load_decision(body: Body) -> DecisionRecord:
    if isinstance(body, str):
        return codec.load_decision(body)
    v = _unpack(body)
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


def dump_outcome(o: OutcomeRecord) -> bytes:
    return _pack([o.idempotency_key, o.decision_id, o.fingerprint, o.response])


def load_outcome(body: Body) -> OutcomeRecord:
    if isinstance(body, str):
        return codec.load_outcome(body)
    v = _unpack(body)
    return OutcomeRecord(v[0], v[1], v[2], v[3])


def dump_event(e: QuotaEvent) -> bytes:
    return _pack([e.decision_id, e.at_ms, e.requests, e.tokens, e.cost_picos])


def load_event(body: Body) -> QuotaEvent:
    if isinstance(body, str):
        return codec.load_event(body)
    v = _unpack(body)
    return QuotaEvent(v[0], v[1], v[2], v[3], v[4])


def dump_health(h: EndpointHealth) -> bytes:
    return _pack(
        [
            h.observed_outcomes,
            h.ttft_ms,
            h.failure_rate,
            h.consecutive_failures,
            h.cooldown_until_ms,
            h.prefill_tokens_per_second,
            h.output_tokens_per_second,
            h.base_latency_ms,
        ]
    )


def load_health(body: Body) -> EndpointHealth:
    if isinstance(body, str):
        return codec.load_health(body)
    return EndpointHealth(*_unpack(body))


def dump_residents(residents: tuple[Resident, ...]) -> bytes:
    return _pack([[r.key, r.slot, r.tokens, r.last_used_ms] for r in residents])


def load_residents(body: Body) -> tuple[Resident, ...]:
    if isinstance(body, str):
        return codec.load_residents(body)
    return tuple(Resident(k, s, t, at) for k, s, t, at in _unpack(body))


def dump_share(s: ShareState) -> bytes:
    return _pack([[list(x) for x in s.window], s.integral])


def load_share(body: Body) -> ShareState:
    if isinstance(body, str):
        return codec.load_share(body)
    window, integral = _unpack(body)
    return ShareState(window=tuple((float(a), bool(b), int(c)) for a, b, c in window), integral=float(integral))


def dump_usage(s: UsageWindowState) -> bytes:
    return _pack(
        [
            s.used,
            s.per_turn,
            s.routable,
            s.resets_at_ms,
            s.reported_at_ms,
            s.turns,
            s.turns_at_report,
            [[x.at_ms, x.used, x.turns] for x in s.samples],
        ]
    )


def load_usage(body: Body) -> UsageWindowState:
    if isinstance(body, str):
        return codec.load_usage(body)
    v = _unpack(body)
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
