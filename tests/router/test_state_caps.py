"""Bounded state (spec 12.6): caps on conversations, digests and decisions, per principal and in total.

Each test runs the router's core in process on the conformance fixture with caps of a few items, so
that reaching a cap costs a handful of Routes rather than the hundreds of thousands the defaults allow.
"""

from __future__ import annotations

import asyncio
import contextvars
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TypeVar

import anthropic
import openai
import pytest
from prometheus_client import generate_latest

from rolemodel.error_reasons import ErrorReason
from rolemodel.v1 import common_pb2, decision_pb2
from rolemodel_router.access import Principal, current_principal
from rolemodel_router.cli.main import build_parser
from rolemodel_router.cli.serve_command import state_caps
from rolemodel_router.config.catalog_loader import load_catalog
from rolemodel_router.core import RouterCore
from rolemodel_router.engine.catalog_index import CatalogIndex
from rolemodel_router.engine.errors import RouterError
from rolemodel_router.observe.metrics import Metrics
from rolemodel_router.recent_prefixes import RecentPrefixes
from rolemodel_router.state import sqlite
from rolemodel_router.state.in_process import InProcessStore
from rolemodel_router.state.sqlite import SqliteStore
from rolemodel_router.state.store import PROMISED_DECISION_MS, Retention
from tests.http.catalog import write_catalog
from tests.http.in_process import InProcessFrontDoor
from tests.requests import conversation, outcome, route

ROOT = Path(__file__).resolve().parents[2]
INDEX = CatalogIndex(load_catalog(ROOT / "conformance" / "fixtures" / "catalog.yaml"))
ALICE = Principal("alice", frozenset())
BOB = Principal("bob", frozenset())
T = TypeVar("T")


class Clock:
    def __init__(self) -> None:
        self.ms = 1_700_000_000_000

    def __call__(self) -> int:
        return self.ms


def core_with(retention: Retention, clock: Clock | None = None) -> RouterCore:
    return RouterCore(INDEX, InProcessStore(retention, INDEX.quotas), clock=clock or Clock())


def as_principal(principal: Principal | None, call: Callable[[], Awaitable[T]]) -> T:
    """Run ``call`` as a call of ``principal`` (what the auth interceptor sets)."""

    async def run() -> T:
        current_principal.set(principal)
        return await call()

    return contextvars.copy_context().run(asyncio.run, run())


def turn(
    core: RouterCore, conversation_id: str, messages: int = 3, principal: Principal | None = None
) -> decision_pb2.Decision:
    """A main turn; its prompt (2,000 tokens a message) is large enough for every fixture endpoint to cache."""
    request = route("chat", conversation(conversation_id, [2000] * messages))

    async def call() -> decision_pb2.Decision:
        return await core.route(core.validate_route(request))

    return as_principal(principal, call)


def refused(core: RouterCore, conversation_id: str, principal: Principal | None = None) -> RouterError:
    with pytest.raises(RouterError) as caught:
        turn(core, conversation_id, principal=principal)
    return caught.value


def test_the_least_recently_used_conversations_go_first_and_come_back_as_new() -> None:
    core = core_with(Retention(max_conversations=3))
    store = core.store
    assert isinstance(store, InProcessStore)
    for name in ("a", "b", "c"):
        turn(core, name)
    turn(core, "a", messages=5)  # a is now the most recent
    turn(core, "d")
    assert set(store.conversations) == {"a", "c", "d"}, "b, the least recently used, made room for d"
    assert store.conversation_caps.counters.evictions == 1
    again = turn(core, "b")
    fx_cache = [c.cost.cached_tokens for c in again.candidates if c.endpoint_id == again.chosen_endpoint_id]
    assert fx_cache == [0], "b's next turn is decided as a new conversation's (RM-STATE-003)"
    assert len(store.conversations) == 3


def test_the_digest_cap_counts_the_messages_each_conversation_holds() -> None:
    # Each conversation's chosen endpoint holds its 8-message prompt: 256 bytes of digests.
    core = core_with(Retention(max_conversation_digest_bytes=600))
    store = core.store
    assert isinstance(store, InProcessStore)
    for name in ("a", "b", "c"):
        turn(core, name, messages=8)
    assert len(store.conversations) == 2
    assert store.conversation_caps.total.digest_bytes <= 600


def test_a_principal_that_floods_conversations_evicts_only_its_own() -> None:
    core = core_with(Retention(max_conversations_per_principal=2, tenants=True))
    store = core.store
    assert isinstance(store, InProcessStore)
    turn(core, "shared-name", principal=BOB)
    for i in range(5):
        turn(core, f"flood-{i}", principal=ALICE)
    assert sum(1 for key in store.conversations if key.startswith("5:alice/")) == 2
    assert "3:bob/shared-name" in store.conversations, "another principal's conversation stays (RM-STATE-004)"


def test_a_full_decision_cap_refuses_by_name_and_changes_nothing() -> None:
    clock = Clock()
    core = core_with(Retention(max_decisions_per_principal=2, tenants=True), clock)
    store = core.store
    assert isinstance(store, InProcessStore)
    first = turn(core, "one", principal=ALICE)
    turn(core, "two", principal=ALICE)
    before = dict(store.conversations), dict(store.decisions)
    error = refused(core, "three", principal=ALICE)
    assert error.reason == ErrorReason.STATE_LIMIT_REACHED
    assert error.metadata == {"state": "decisions", "scope": "principal", "limit": "2"}
    assert (dict(store.conversations), dict(store.decisions)) == before, "a refused call changes nothing"
    assert store.decision_caps.counters.refusals == 1
    turn(core, "three", principal=BOB)  # another principal is not refused (RM-STATE-004)

    clock.ms += PROMISED_DECISION_MS - 1
    assert refused(core, "three", principal=ALICE).reason == ErrorReason.STATE_LIMIT_REACHED, "24 h are kept"
    clock.ms += 2
    turn(core, "three", principal=ALICE)  # the first decision is past 24 hours and makes room
    assert first.decision_id not in store.decisions
    assert store.decision_caps.counters.evictions == 1
    report = outcome(first.decision_id, first.chosen_endpoint_id, common_pb2.OUTCOME_CLASS_SUCCESS)
    with pytest.raises(RouterError) as caught:
        as_principal(ALICE, lambda: core.report(report))
    assert caught.value.reason == ErrorReason.DECISION_NOT_FOUND


def test_the_total_decision_cap_applies_without_tokens_and_a_dry_run_needs_no_room() -> None:
    core = core_with(Retention(max_decisions=1))
    turn(core, "one")
    dry = route("chat", conversation("two", [40, 40]), dry_run=True)
    assert asyncio.run(core.route(core.validate_route(dry))).dry_run
    error = refused(core, "two")
    assert (error.reason, error.metadata["scope"]) == (ErrorReason.STATE_LIMIT_REACHED, "total")


def test_sqlite_forgets_evicted_conversations_on_disk_and_keeps_decisions_there(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sqlite, "RECENT_DIGEST_BYTES", 200)  # a 3-message decision holds 96 bytes of digests
    path = tmp_path / "router.db"

    async def scenario() -> list[str]:
        store = SqliteStore(path, Retention(max_conversations=2), INDEX.quotas)
        await store.start()
        core = RouterCore(INDEX, store)
        decisions = [await core.route(core.validate_route(route("chat", conversation(n, [2000] * 3)))) for n in "abc"]
        assert len(store.recent_decisions) < 3, "memory keeps only the recent decisions within their digest budget"
        first = decisions[0]
        report = outcome(first.decision_id, first.chosen_endpoint_id, common_pb2.OUTCOME_CLASS_SUCCESS)
        assert (await core.report(report)).HasField("effects"), "an older decision is read from the database"
        await store.close()
        reopened = SqliteStore(path, Retention(max_conversations=2), INDEX.quotas)
        await reopened.start()
        kept = sorted(reopened.conversations)
        await reopened.close()
        return kept

    # c evicted a; the outcome on a's decision wrote a's conversation again, which evicted b.
    assert asyncio.run(scenario()) == ["a", "c"]


def test_the_metrics_show_each_kind_its_caps_and_its_evictions_and_refusals() -> None:
    core = core_with(Retention(max_conversations=1, max_decisions=2))
    for name in ("a", "b"):
        turn(core, name)
    refused(core, "c")
    metrics = Metrics()
    metrics.watch_state(core.store, core.prefixes)
    text = generate_latest(metrics.registry).decode()
    for line in (
        'rolemodel_state_items{kind="conversations"} 1.0',
        'rolemodel_state_items{kind="decisions"} 2.0',
        'rolemodel_state_cap{kind="decisions",measure="items"} 2.0',
        'rolemodel_state_evictions_total{kind="conversations"} 1.0',
        'rolemodel_state_refusals_total{kind="decisions"} 1.0',
        'rolemodel_state_items{kind="prefix_memo"} 3.0',  # a cache: the refused call's prefix too
    ):
        assert line in text


def test_the_caps_are_options_of_serve_and_its_config() -> None:
    args = build_parser().parse_args(["serve", "--max-conversations", "7", "--max-decision-digest-mib", "3"])
    caps = state_caps(args)
    assert caps["max_conversations"] == 7
    assert caps["max_decision_digest_bytes"] == 3 * 1024 * 1024
    assert caps["max_decisions"] == Retention.max_decisions
    assert caps["prefix_memo_bytes"] == RecentPrefixes().max_bytes


def test_the_front_door_refuses_in_each_dialect_s_own_shape(tmp_path: Path) -> None:
    door = InProcessFrontDoor(write_catalog(tmp_path, "http://127.0.0.1:9"))
    door.core.store = InProcessStore(Retention(max_decisions=0), door.index.quotas)
    with door:
        client = openai.OpenAI(base_url=door.url + "/v1", api_key="no-auth", max_retries=0)
        with pytest.raises(openai.RateLimitError) as caught:
            client.chat.completions.create(model="rolemodel/code.edit", messages=[{"role": "user", "content": "hi"}])
        assert caught.value.code == "STATE_LIMIT_REACHED"
        assert caught.value.response.headers["x-rolemodel-error-reason"] == "STATE_LIMIT_REACHED"
        ant = anthropic.Anthropic(base_url=door.url, api_key="no-auth", max_retries=0)
        with pytest.raises(anthropic.RateLimitError) as refusal:
            ant.messages.create(
                model="rolemodel/code.edit", max_tokens=16, messages=[{"role": "user", "content": "hi"}]
            )
        assert refusal.value.body["error"]["type"] == "rate_limit_error"  # type: ignore[index]
