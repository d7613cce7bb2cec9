"""The Redis store: shared state for several router replicas (spec 6.10, 9.6).

Each transaction reads a snapshot in one pipeline, runs the engine, and
commits with one Lua script that re-checks the conversation's version and
admits quota reservations against the live window (see redis_scripts.py).
A failed check means another replica got there first: the store decides
again on a fresh snapshot, up to a bound. Cache entries live in keys of their
own that expire with them (native key expiry); decisions, outcomes and
conversations expire after the retention time.

When Redis cannot be reached the outage policy applies: ``fail-closed``
answers STATE_STORE_UNAVAILABLE (retryable); ``degrade`` decides without the
shared state, says so in the decision, refuses quota-limited endpoints and
records nothing. Either way the store reconnects by itself when Redis is back.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Mapping
from dataclasses import replace
from typing import Any

import redis.asyncio as redis_asyncio
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import RedisError
from redis.exceptions import TimeoutError as RedisTimeoutError

from rolemodel.error_reasons import ErrorReason
from rolemodel.pacing import UsageWindowState
from rolemodel.v1 import catalog_pb2
from rolemodel_router.engine.catalog_index import CatalogIndex
from rolemodel_router.engine.errors import RouterError
from rolemodel_router.engine.plans import DecisionPlan, OutcomePlan, OutcomeSnapshot, RouteSnapshot
from rolemodel_router.engine.quota import Window
from rolemodel_router.engine.usage_windows import is_reported
from rolemodel_router.state import codec
from rolemodel_router.state.model import ConversationState, DecisionRecord, EndpointHealth, ShareState
from rolemodel_router.state.redis_keys import Keys
from rolemodel_router.state.redis_scripts import COMMIT_OUTCOME, COMMIT_ROUTE, READ_WINDOWS
from rolemodel_router.state.store import Retention, RouteKeys

log = logging.getLogger("rolemodel.router")
MAX_ATTEMPTS = 16
OUTAGE_POLICIES = ("fail-closed", "degrade")
_OUTAGE = (RedisConnectionError, RedisTimeoutError, OSError)


def _text(value: bytes | str) -> str:
    """What redis-py returns, as text (the client decodes responses; the types do not know it)."""
    return value.decode() if isinstance(value, bytes) else value


class _Conflict(Exception):
    """Another replica changed what this transaction read; decide again."""


def _unavailable(exc: BaseException) -> RouterError:
    return RouterError(
        ErrorReason.STATE_STORE_UNAVAILABLE,
        f"the shared state store cannot be reached ({type(exc).__name__}); retry shortly",
    )


#: What one read returns: conversation, its version, quota windows, health, extra replies, usage windows.
_Read = tuple[
    ConversationState, int, dict[str, Window], dict[str, EndpointHealth], list[Any], dict[str, UsageWindowState]
]


class RedisStore:
    name = "redis"
    durable = True

    def __init__(
        self,
        url: str,
        index: CatalogIndex,
        retention: Retention | None = None,
        namespace: str | None = None,
        outage_policy: str = "fail-closed",
    ) -> None:
        if outage_policy not in OUTAGE_POLICIES:
            raise ValueError(f"outage policy must be one of {OUTAGE_POLICIES}")
        self.url = url
        self.index = index
        self.retention = retention or Retention()
        self.keys = Keys.for_namespace(namespace or index.digest[:16])
        self.outage_policy = outage_policy
        self.redis = redis_asyncio.from_url(url, socket_timeout=1.0, socket_connect_timeout=1.0, decode_responses=True)
        self._read_windows = self.redis.register_script(READ_WINDOWS)
        self._commit_route = self.redis.register_script(COMMIT_ROUTE)
        self._commit_outcome = self.redis.register_script(COMMIT_OUTCOME)
        self.endpoint_ids = list(index.endpoint_order)
        self.quota_ids = list(index.quotas)
        self.reported_ids = [q for q, quota in index.quotas.items() if is_reported(quota)]
        # Endpoints whose cache capacity is shared by all conversations (spec 7.7).
        self.capacity_ids = [e for e in self.endpoint_ids if index.endpoints[e].capacity.limited]

    async def start(self) -> None:
        try:
            await self.redis.ping()
        except _OUTAGE as exc:
            if self.outage_policy == "fail-closed":
                raise OSError(f"cannot reach Redis at {self.url}: {exc}") from exc
            log.warning("redis unreachable at start; running degraded until it returns")

    async def close(self) -> None:
        await self.redis.aclose()

    # -- reading -------------------------------------------------------------------------------

    def _window_call(self) -> tuple[list[str], list[int]]:
        keys: list[str] = []
        args: list[int] = []
        for quota_id in self.quota_ids:
            q = self.index.quotas[quota_id].quota
            keys += [self.keys.quota_times(quota_id), self.keys.quota_events(quota_id)]
            args += [1 if q.window_kind == catalog_pb2.QUOTA_WINDOW_KIND_ROLLING else 0, q.window_seconds * 1000]
        return keys, args

    def _windows(self, raw: list[str], now_ms: int) -> dict[str, Window]:
        windows = {}
        for i, quota_id in enumerate(self.quota_ids):
            r, t, c, oldest, start = (int(float(x)) for x in raw[5 * i : 5 * i + 5])
            length = self.index.quotas[quota_id].quota.window_seconds * 1000
            rolling = self.index.quotas[quota_id].quota.window_kind == catalog_pb2.QUOTA_WINDOW_KIND_ROLLING
            resets = ((oldest if oldest >= 0 else now_ms) + length) if rolling else start + length
            windows[quota_id] = Window(r, t, c, resets, start)
        return windows

    async def _read(
        self, conversation_id: str, now_ms: int, extra: Callable[[Any], None] | None = None
    ) -> tuple[
        ConversationState, int, dict[str, Window], dict[str, EndpointHealth], list[Any], dict[str, UsageWindowState]
    ]:
        window_keys, window_args = self._window_call()
        async with self.redis.pipeline(transaction=False) as pipe:
            pipe.get(self.keys.conversation(conversation_id))
            pipe.get(self.keys.version(conversation_id))
            pipe.mget([self.keys.cache(conversation_id, e) for e in self.endpoint_ids])
            pipe.mget([self.keys.health(e) for e in self.endpoint_ids])
            pipe.mget([self.keys.usage(q) for q in self.reported_ids] or [self.keys.usage("-")])
            if self.quota_ids:
                await self._read_windows(keys=window_keys, args=[now_ms, *window_args], client=pipe)
            if extra is not None:
                extra(pipe)
            results = await pipe.execute()
        core, version, entries, healths, usages = results[0], results[1], results[2], results[3], results[4]
        windows = self._windows(results[5], now_ms) if self.quota_ids else {}
        rest = results[6 if self.quota_ids else 5 :]
        usage = {q: codec.load_usage(v) for q, v in zip(self.reported_ids, usages, strict=False) if v}
        conversation = codec.load_conversation(core) if core else ConversationState(conversation_id)
        cache = {e: codec.load_entry(v) for e, v in zip(self.endpoint_ids, entries, strict=True) if v}
        conversation = replace(conversation, cache=cache)
        health = {e: codec.load_health(v) for e, v in zip(self.endpoint_ids, healths, strict=True) if v}
        return conversation, int(version or 0), windows, health, rest, usage

    # -- writing -------------------------------------------------------------------------------

    def _conversation_writes(
        self, before: ConversationState, after: ConversationState, now_ms: int
    ) -> tuple[list[list[Any]], list[str]]:
        sets: list[list[Any]] = []
        deletes: list[str] = []
        core_before, core_after = replace(before, cache={}), replace(after, cache={})
        if core_before != core_after:
            sets.append(
                [
                    self.keys.conversation(after.conversation_id),
                    codec.dump_conversation(core_after),
                    0,
                    self.retention.conversation_idle_ms,
                ]
            )
        for endpoint_id in set(before.cache) | set(after.cache):
            old, new = before.cache.get(endpoint_id), after.cache.get(endpoint_id)
            if old == new:
                continue
            key = self.keys.cache(after.conversation_id, endpoint_id)
            if new is None or new.expires_at_ms <= now_ms:
                deletes.append(key)
            else:
                sets.append([key, codec.dump_entry(new), new.expires_at_ms, 0])
        return sets, deletes

    def _usage_writes(self, usage: Mapping[str, UsageWindowState]) -> list[list[Any]]:
        """Reported windows are written whole, like endpoint health: a concurrent writer's last state wins."""
        return [[self.keys.usage(q), codec.dump_usage(state), 0, 0] for q, state in usage.items()]

    def _quota_op(self, quota_id: str, event: Any) -> dict[str, Any]:
        quota = self.index.quotas[quota_id]
        q = quota.quota
        return {
            "quota": quota_id,
            "qt": self.keys.quota_times(quota_id),
            "qe": self.keys.quota_events(quota_id),
            "id": event.decision_id,
            "at": event.at_ms,
            "r": event.requests,
            "t": event.tokens,
            "c": event.cost_picos,
            "kind": 1 if q.window_kind == catalog_pb2.QUOTA_WINDOW_KIND_ROLLING else 0,
            "len": q.window_seconds * 1000,
            "lr": q.max_requests,
            "lt": q.max_tokens,
            "lc": quota.max_cost_picos,
        }

    # -- transactions ----------------------------------------------------------------------------

    async def route(self, keys: RouteKeys, decide: Callable[[RouteSnapshot], DecisionPlan]) -> DecisionPlan:
        try:
            for _ in range(MAX_ATTEMPTS):
                try:
                    return await self._route_once(keys, decide)
                except _Conflict:
                    continue
        except _OUTAGE as exc:
            if self.outage_policy == "fail-closed":
                raise _unavailable(exc) from exc
            log.warning("redis unavailable; deciding degraded", extra={"error": type(exc).__name__})
            snapshot = RouteSnapshot(ConversationState(keys.conversation_id), {}, {}, None, None, degraded=True)
            plan = decide(snapshot)
            return DecisionPlan(decision=plan.decision, record=None, conversation=None)
        raise RouterError(ErrorReason.STATE_STORE_UNAVAILABLE, "too much contention on this conversation; retry")

    async def _route_once(self, keys: RouteKeys, decide: Callable[[RouteSnapshot], DecisionPlan]) -> DecisionPlan:
        role = self.index.roles.get(keys.role)
        target = role.share_target if role else None

        def extra(pipe: Any) -> None:
            if self.capacity_ids:
                pipe.mget([self.keys.occupancy(e) for e in self.capacity_ids])
            if keys.previous_decision_id:
                pipe.get(self.keys.decision(keys.previous_decision_id))
            if target is not None:
                pipe.lrange(self.keys.share(keys.role), 0, target.window_requests - 1)
                pipe.get(self.keys.share_integral(keys.role))

        conversation, version, windows, health, rest, usage = await self._read(keys.conversation_id, keys.now_ms, extra)
        stored = dict(zip(self.capacity_ids, rest.pop(0), strict=True)) if self.capacity_ids else {}
        occupancy = {e: codec.load_residents(_text(v)) for e, v in stored.items() if v}
        previous = None
        if keys.previous_decision_id:
            raw = rest.pop(0)
            previous = codec.load_decision(raw) if raw else None
        share = None
        if target is not None:
            entries, integral = rest[0], rest[1]
            window = tuple((float(e[0]), bool(e[1]), int(e[2])) for e in (json.loads(x) for x in reversed(entries)))
            share = ShareState(window=window, integral=float(integral or 0.0))
        snapshot = RouteSnapshot(conversation, windows, health, share, previous, usage=usage, occupancy=occupancy)
        plan = decide(snapshot)
        if plan.record is None and plan.conversation is None:
            return plan
        sets, deletes = (
            ([], [])
            if plan.conversation is None
            else self._conversation_writes(conversation, plan.conversation, keys.now_ms)
        )
        if plan.record is not None:
            sets.append(
                [
                    self.keys.decision(plan.record.decision_id),
                    codec.dump_decision(plan.record),
                    0,
                    self.retention.decision_ms,
                ]
            )
        ops: dict[str, Any] = {
            "now": keys.now_ms,
            "set": sets,
            "del": deletes,
            "quotas": [self._quota_op(q, e) for q, e in plan.quota_events.items()],
        }
        if plan.record is not None and plan.record.main_turn:
            ops["version"] = [self.keys.version(keys.conversation_id), version]
        sets += self._usage_writes(plan.usage)
        # Compare and set: another replica's decision on the same endpoint since the read is a conflict.
        ops["occupancy"] = [
            [self.keys.occupancy(e), _text(stored.get(e) or ""), codec.dump_residents(residents)]
            for e, residents in plan.occupancy.items()
        ]
        if plan.share is not None and target is not None:
            d, premium, at = plan.share.window[-1]
            ops["share"] = {
                "key": self.keys.share(keys.role),
                "entry": json.dumps([d, premium, at]),
                "max": target.window_requests,
                "ikey": self.keys.share_integral(keys.role),
                "integral": repr(plan.share.integral),
            }
        result = await self._commit_route(args=[json.dumps(ops)])
        if int(result[0]) != 1:
            raise _Conflict(result[1])
        return plan

    async def report(
        self, idempotency_key: str, decision_id: str, now_ms: int, apply: Callable[[OutcomeSnapshot], OutcomePlan]
    ) -> OutcomePlan:
        try:
            for _ in range(MAX_ATTEMPTS):
                try:
                    return await self._report_once(idempotency_key, decision_id, now_ms, apply)
                except _Conflict:
                    continue
        except _OUTAGE as exc:
            raise _unavailable(exc) from exc
        raise RouterError(ErrorReason.STATE_STORE_UNAVAILABLE, "too much contention on this decision; retry")

    def _decision_capacity_ids(self, record: DecisionRecord | None) -> list[str]:
        """The decision's endpoints whose residents an outcome may change (RM-CACHE-034, RM-CACHE-035)."""
        if record is None:
            return []
        named = {record.chosen_endpoint_id, *record.fallback_endpoint_ids}
        return [e for e in self.capacity_ids if e in named]

    async def _report_once(
        self, idempotency_key: str, decision_id: str, now_ms: int, apply: Callable[[OutcomeSnapshot], OutcomePlan]
    ) -> OutcomePlan:
        record_raw, previous_raw = await self.redis.mget(
            [self.keys.decision(decision_id), self.keys.outcome(idempotency_key)]
        )
        record = codec.load_decision(_text(record_raw)) if record_raw else None
        conversation_id = record.conversation_id if record else ""
        capacity_ids = self._decision_capacity_ids(record)

        def extra(pipe: Any) -> None:
            if capacity_ids:
                pipe.mget([self.keys.occupancy(e) for e in capacity_ids])

        conversation, version, windows, health, rest, usage = await self._read(conversation_id, now_ms, extra)
        stored = dict(zip(capacity_ids, rest[0], strict=True)) if capacity_ids else {}
        occupancy = {e: codec.load_residents(_text(v)) for e, v in stored.items() if v}
        previous = codec.load_outcome(_text(previous_raw)) if previous_raw else None
        plan = apply(OutcomeSnapshot(record, conversation, windows, health, previous, usage=usage, occupancy=occupancy))
        if plan.replayed or plan.record is None or plan.outcome is None:
            return plan
        sets, deletes = (
            ([], [])
            if plan.conversation is None
            else self._conversation_writes(conversation, plan.conversation, now_ms)
        )
        remaining = max(1, plan.record.created_at_ms + self.retention.decision_ms - now_ms)
        sets.append([self.keys.decision(plan.record.decision_id), codec.dump_decision(plan.record), 0, remaining])
        sets.append([self.keys.outcome(plan.outcome.idempotency_key), codec.dump_outcome(plan.outcome), 0, remaining])
        if plan.health is not None and plan.served_endpoint_id:
            sets.append([self.keys.health(plan.served_endpoint_id), codec.dump_health(plan.health), 0, 0])
        sets += self._usage_writes(plan.usage)
        ops: dict[str, Any] = {
            "out_key": self.keys.outcome(plan.outcome.idempotency_key),
            "dec_key": self.keys.decision(plan.record.decision_id),
            "set": sets,
            "del": deletes,
            "events": [self._quota_op(q, e) for q, e in plan.quota_events.items()],
        }
        if plan.record.main_turn and plan.conversation is not None:
            ops["version"] = [self.keys.version(conversation_id), version]
        ops["occupancy"] = [
            [self.keys.occupancy(e), _text(stored.get(e) or ""), codec.dump_residents(residents)]
            for e, residents in plan.occupancy.items()
        ]
        result = await self._commit_outcome(args=[json.dumps(ops)])
        if int(result[0]) != 1:
            raise _Conflict(result[1])
        return plan

    # -- inspection ------------------------------------------------------------------------------

    async def health(self) -> Mapping[str, EndpointHealth]:
        try:
            values = await self.redis.mget([self.keys.health(e) for e in self.endpoint_ids])
        except _OUTAGE:
            return {}
        return {e: codec.load_health(_text(v)) for e, v in zip(self.endpoint_ids, values, strict=True) if v}

    async def record_health(self, endpoint_id: str, update: Callable[[EndpointHealth], EndpointHealth]) -> None:
        key = self.keys.health(endpoint_id)
        try:
            raw = await self.redis.get(key)
            await self.redis.set(
                key, codec.dump_health(update(codec.load_health(_text(raw)) if raw else EndpointHealth()))
            )
        except (RedisError, OSError):
            log.warning("could not record endpoint health", extra={"endpoint": endpoint_id})

    async def conversation(self, conversation_id: str) -> ConversationState:
        conversation, *_ = await self._read(conversation_id, 0)
        return conversation

    async def decision(self, decision_id: str) -> DecisionRecord | None:
        raw = await self.redis.get(self.keys.decision(decision_id))
        return codec.load_decision(_text(raw)) if raw else None

    async def prune(self, now_ms: int) -> int:
        """Redis expires conversations, entries, decisions and outcomes itself; quota events go at commit."""
        return 0
