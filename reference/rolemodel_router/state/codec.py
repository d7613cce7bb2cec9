"""Serialise state values for durable stores (SQLite rows, Redis values).

JSON keeps the stored state readable with standard tools (``sqlite3``,
``redis-cli``); digests are packed as one base64 string per prefix, so a
50-message prefix costs about 2 KB rather than 50 list items.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Sequence
from typing import Any

from rolemodel.cache_capacity import Resident
from rolemodel.pacing import UsageSample, UsageWindowState
from rolemodel.v1 import decision_pb2
from rolemodel_router.engine.digest_chain import DigestChain
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

DIGEST = 32


def pack_digests(digests: Sequence[bytes]) -> str:
    raw = digests.packed() if isinstance(digests, DigestChain) else b"".join(digests)
    return base64.b64encode(raw).decode()


def unpack_digests(text: str) -> DigestChain:
    return DigestChain.from_packed(base64.b64decode(text))


def entry_fields(e: CacheEntry) -> dict[str, Any]:
    fields = {
        "d": pack_digests(e.digests),
        "held": e.held_tokens,
        "reply": e.reply_tokens,
        "exp": e.expires_at_ms,
        "src": int(e.source),
        "dec": e.decision_id,
        "at": e.written_at_ms,
    }
    if e.points:
        fields["pts"] = [[p.messages, p.parts, pack_digests((p.digest,))] for p in e.points]
    return fields


def entry_from_fields(d: dict[str, Any]) -> CacheEntry:
    return CacheEntry(
        digests=unpack_digests(d["d"]),
        held_tokens=d["held"],
        reply_tokens=d["reply"],
        expires_at_ms=d["exp"],
        source=decision_pb2.CacheStateSource.ValueType(d["src"]),
        decision_id=d["dec"],
        written_at_ms=d["at"],
        points=tuple(CachePoint(m, k, unpack_digests(digest)[0]) for m, k, digest in d.get("pts", ())),
    )


def dump_conversation(c: ConversationState) -> str:
    return json.dumps(
        {
            "id": c.conversation_id,
            "cur": c.current_endpoint_id,
            "cur_dec": c.current_decision_id,
            "cache": {k: entry_fields(v) for k, v in c.cache.items()},
            "esc": {k: [v.level, v.successes, v.trigger_decision_id] for k, v in c.escalation.items()},
            "failed": {str(k): sorted(v) for k, v in c.failed_by_turn.items()},
            "at": c.updated_at_ms,
        },
        separators=(",", ":"),
    )


def load_conversation(text: str) -> ConversationState:
    d = json.loads(text)
    return ConversationState(
        conversation_id=d["id"],
        current_endpoint_id=d["cur"],
        current_decision_id=d["cur_dec"],
        cache={k: entry_from_fields(v) for k, v in d["cache"].items()},
        escalation={k: EscalationState(v[0], v[1], v[2]) for k, v in d["esc"].items()},
        failed_by_turn={int(k): frozenset(v) for k, v in d["failed"].items()},
        updated_at_ms=d["at"],
    )


def dump_decision(r: DecisionRecord) -> str:
    return json.dumps(
        {
            "id": r.decision_id,
            "conv": r.conversation_id,
            "turn": r.turn_index,
            "role": r.role,
            "chosen": r.chosen_endpoint_id,
            "fallbacks": list(r.fallback_endpoint_ids),
            "at": r.created_at_ms,
            "main": r.main_turn,
            "d": pack_digests(r.prompt_digests),
            "p": r.prompt_tokens,
            "o": r.output_tokens,
            "prev": entry_fields(r.previous_entry) if r.previous_entry is not None else None,
            "prev_cur": r.previous_current_endpoint_id,
            "prev_cur_dec": r.previous_current_decision_id,
            "res": [[x.quota_id, x.requests, x.tokens, x.cost_picos] for x in r.reservations],
            "key": r.outcome_key,
            "xs": r.executed_served,
            "cp": r.compacted,
            "rb": [[x.key, x.slot, x.tokens, x.last_used_ms] for x in r.residents_before],
        },
        separators=(",", ":"),
    )


def load_decision(text: str) -> DecisionRecord:
    d = json.loads(text)
    return DecisionRecord(
        decision_id=d["id"],
        conversation_id=d["conv"],
        turn_index=d["turn"],
        role=d["role"],
        chosen_endpoint_id=d["chosen"],
        fallback_endpoint_ids=tuple(d["fallbacks"]),
        created_at_ms=d["at"],
        main_turn=d["main"],
        prompt_digests=unpack_digests(d["d"]),
        prompt_tokens=d["p"],
        output_tokens=d["o"],
        previous_entry=entry_from_fields(d["prev"]) if d["prev"] is not None else None,
        previous_current_endpoint_id=d["prev_cur"],
        previous_current_decision_id=d["prev_cur_dec"],
        reservations=tuple(Reservation(q, a, b, c) for q, a, b, c in d["res"]),
        outcome_key=d["key"],
        executed_served=d.get("xs", ""),
        compacted=d.get("cp", False),
        residents_before=tuple(Resident(str(k), int(s), int(t), int(at)) for k, s, t, at in d.get("rb", [])),
    )


def dump_outcome(o: OutcomeRecord) -> str:
    return json.dumps(
        {
            "key": o.idempotency_key,
            "dec": o.decision_id,
            "fp": base64.b64encode(o.fingerprint).decode(),
            "resp": base64.b64encode(o.response).decode(),
        },
        separators=(",", ":"),
    )


def load_outcome(text: str) -> OutcomeRecord:
    d = json.loads(text)
    return OutcomeRecord(d["key"], d["dec"], base64.b64decode(d["fp"]), base64.b64decode(d["resp"]))


def dump_event(e: QuotaEvent) -> str:
    return json.dumps([e.decision_id, e.at_ms, e.requests, e.tokens, e.cost_picos], separators=(",", ":"))


def load_event(text: str) -> QuotaEvent:
    d = json.loads(text)
    return QuotaEvent(d[0], d[1], d[2], d[3], d[4])


def health_fields(h: EndpointHealth) -> list[Any]:
    """A profile's fields in their stored order, shared by the JSON form here and SQLite's MessagePack rows."""
    return [
        h.observed_outcomes,
        h.ttft_ms,
        h.failure_rate,
        h.consecutive_failures,
        h.cooldown_until_ms,
        h.prefill_tokens_per_second,
        h.output_tokens_per_second,
        h.base_latency_ms,
        list(h.prefill_moments) if h.prefill_moments is not None else None,
    ]


def dump_health(h: EndpointHealth) -> str:
    return json.dumps(health_fields(h), separators=(",", ":"))


def prefill_moments(value: Any) -> tuple[float, float, float, float] | None:
    """Stored prefill moments; absent (None) in profiles written before they were kept."""
    if value is None:
        return None
    m, t, mm, mt = value
    return (float(m), float(t), float(mm), float(mt))


def load_health(text: str) -> EndpointHealth:
    """A stored profile; one written before the speeds were kept has five fields, before the moments eight."""
    d = json.loads(text)
    speeds = [*d[5:9], None, None, None, None]
    return EndpointHealth(d[0], d[1], d[2], d[3], d[4], speeds[0], speeds[1], speeds[2], prefill_moments(speeds[3]))


def dump_residents(residents: tuple[Resident, ...]) -> str:
    return json.dumps([[r.key, r.slot, r.tokens, r.last_used_ms] for r in residents], separators=(",", ":"))


def load_residents(text: str) -> tuple[Resident, ...]:
    return tuple(Resident(str(k), int(s), int(t), int(at)) for k, s, t, at in json.loads(text))


def dump_share(s: ShareState) -> str:
    return json.dumps({"w": [list(x) for x in s.window], "i": s.integral}, separators=(",", ":"))


def load_share(text: str) -> ShareState:
    d = json.loads(text)
    return ShareState(window=tuple((float(a), bool(b), int(c)) for a, b, c in d["w"]), integral=float(d["i"]))


def dump_usage(s: UsageWindowState) -> str:
    """A reported usage window (spec 9.8); samples as [at_ms, used, turns].

    ``h`` and ``w`` (the day profile and when its watch began) came later: a state written
    without them loads with an empty profile, which paces by the average rate until it fills.
    """
    return json.dumps(
        {
            "u": s.used,
            "c": s.per_turn,
            "m": s.routable,
            "h": list(s.routable_by_hour),
            "w": s.watched_since_ms,
            "r": s.resets_at_ms,
            "a": s.reported_at_ms,
            "n": s.turns,
            "nr": s.turns_at_report,
            "s": [[x.at_ms, x.used, x.turns] for x in s.samples],
        },
        separators=(",", ":"),
    )


def load_usage(text: str) -> UsageWindowState:
    d = json.loads(text)
    return UsageWindowState(
        used=float(d["u"]),
        per_turn=float(d["c"]),
        routable=int(d["m"]),
        routable_by_hour=tuple(int(x) for x in d.get("h", ())),
        watched_since_ms=None if d.get("w") is None else int(d["w"]),
        resets_at_ms=int(d["r"]),
        reported_at_ms=int(d["a"]),
        turns=int(d["n"]),
        turns_at_report=int(d["nr"]),
        samples=tuple(UsageSample(int(a), float(u), int(n)) for a, u, n in d["s"]),
    )


def dump_entry(e: CacheEntry) -> str:
    return json.dumps(entry_fields(e), separators=(",", ":"))


def load_entry(text: str) -> CacheEntry:
    return entry_from_fields(json.loads(text))
