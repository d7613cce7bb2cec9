"""Behaviour that is easiest to reach in-process: a controlled clock, a degraded snapshot, a passed deadline."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from rolemodel.error_reasons import ErrorReason
from rolemodel.v1 import card_pb2, common_pb2, conversation_pb2, decision_pb2, router_service_pb2
from rolemodel_router.config.catalog_loader import load_catalog, parse_catalog
from rolemodel_router.core import RouterCore
from rolemodel_router.engine.catalog_index import CatalogIndex
from rolemodel_router.engine.decide import decide
from rolemodel_router.engine.difficulty import HeuristicEstimator
from rolemodel_router.engine.errors import RouterError
from rolemodel_router.engine.limits import Limits
from rolemodel_router.engine.plans import RouteSnapshot
from rolemodel_router.engine.route_input import build_route_input
from rolemodel_router.state.in_process import InProcessStore
from rolemodel_router.state.model import ConversationState
from tests.requests import conversation, new_id, route

ROOT = Path(__file__).resolve().parents[2]
FIXTURE = CatalogIndex(load_catalog(ROOT / "conformance" / "fixtures" / "catalog.yaml"))
D = decision_pb2


class Clock:
    def __init__(self, ms: int = 1_700_000_000_000) -> None:
        self.ms = ms

    def __call__(self) -> int:
        return self.ms


def test_a_degraded_state_refuses_quota_limited_endpoints() -> None:
    request = build_route_input(route("x-conformance.quota", conversation(new_id(), [100])), FIXTURE, Limits())
    snapshot = RouteSnapshot(ConversationState("c"), {}, {}, None, None, degraded=True)
    plan = decide(FIXTURE, snapshot, request, 1_000, "d1", HeuristicEstimator())
    quota = next(c for c in plan.decision.candidates if c.endpoint_id == "fx-quota")
    assert [e.code for e in quota.exclusions] == [D.EXCLUSION_CODE_STATE_UNAVAILABLE]
    assert plan.decision.chosen_endpoint_id == "fx-deepseek"
    assert any(r.code == D.REASON_CODE_STATE_DEGRADED for r in plan.decision.reasons)


def test_a_passed_deadline_abandons_the_decision_without_a_trace() -> None:
    store = InProcessStore(quotas=FIXTURE.quotas)
    core = RouterCore(FIXTURE, store)
    request = core.validate_route(route("chore", conversation("late", [100])))

    def expired() -> None:
        raise RouterError(ErrorReason.DEADLINE_TOO_SHORT, "too late", {"remaining_ms": "0"})

    with pytest.raises(RouterError) as caught:
        asyncio.run(core.route(request, expired))
    assert caught.value.reason == ErrorReason.DEADLINE_TOO_SHORT
    assert store.decisions == {} and store.conversations == {}


def test_dry_runs_change_nothing_and_ids_are_unique_and_time_ordered() -> None:
    clock = Clock()
    store = InProcessStore(quotas=FIXTURE.quotas)
    core = RouterCore(FIXTURE, store, clock=clock)
    dry = asyncio.run(core.route(core.validate_route(route("chore", conversation("c", [100]), dry_run=True))))
    assert dry.dry_run and store.decisions == {} and store.conversations == {}
    assert all(not ledger.events for ledger in store.ledgers.values())
    ids = []
    for step in range(50):
        clock.ms += step % 2
        ids.append(
            asyncio.run(core.route(core.validate_route(route("chore", conversation(new_id(), [100]))))).decision_id
        )
    assert len(set(ids)) == 50
    assert [i[:12] for i in ids] == sorted(i[:12] for i in ids)


PACED = """
name: paced
endpoints:
  - {id: cheap, provider_kind: PROVIDER_KIND_DEEPSEEK, model: m, locality: LOCALITY_REMOTE,
     context_window_tokens: 100000, pricing: {currency: USD, input_per_mtok: "0.28", output_per_mtok: "0.42"}}
  - {id: premium, provider_kind: PROVIDER_KIND_ANTHROPIC, model: m, locality: LOCALITY_REMOTE,
     context_window_tokens: 100000, pricing: {currency: USD, input_per_mtok: "5", output_per_mtok: "25"}}
roles:
  - name: code.edit
    ladder: [{endpoint_ids: [cheap]}, {endpoint_ids: [premium], min_difficulty: 0.9}]
    default_strategy: STRATEGY_COST
policies:
  quotas:
    - {id: sub, endpoint_id: premium, window_kind: QUOTA_WINDOW_KIND_FIXED, window_seconds: 3600, max_requests: 10}
  premium_share_targets: [{role: code.edit, target_share: 0.5, window_requests: 100, pace_quota_id: sub}]
"""


def test_a_paced_share_makes_a_window_quota_last() -> None:
    """With 10 premium requests per hour and a request a minute, s* = remaining / expected arrivals."""
    import yaml

    index = CatalogIndex(parse_catalog(yaml.safe_load(PACED), "paced"))
    clock = Clock(3600 * 1000 * 400)  # the start of a fixed window
    store = InProcessStore(quotas=index.quotas)
    core = RouterCore(index, store, clock=clock)
    premium_minutes = []
    targets = []
    for minute in range(60):
        clock.ms = 3600 * 1000 * 400 + minute * 60_000
        difficulty = (minute * 37 % 60) / 60  # a shuffled ramp: every difficulty once
        request = core.validate_route(route("code.edit", conversation(new_id(), [100]), difficulty=difficulty))
        d = asyncio.run(core.route(request))
        if d.chosen_endpoint_id == "premium":
            premium_minutes.append(minute)
        targets.append(d.policy.share_controller.target_share)
    assert len(premium_minutes) <= 10, "the quota is never over-spent"
    assert premium_minutes[-1] >= 40, "the premium quota lasts into the last third of the window"
    assert sum(1 for m in premium_minutes if m < 20) <= 5, "it is not burnt in the first third"
    # s* = remaining / expected arrivals: at minute 2, about 10 left of 58 expected.
    assert targets[2] == pytest.approx(10 / 58, rel=0.1)


def test_an_unexpected_fault_becomes_internal_error_over_grpc(monkeypatch: pytest.MonkeyPatch) -> None:
    import grpc

    from rolemodel import RouterClient
    from rolemodel.errors import InternalError
    from rolemodel_router.server import app

    async def scenario() -> None:
        settings = app.ServeSettings(catalog=ROOT / "conformance" / "fixtures" / "catalog.yaml", listen="127.0.0.1:0")
        running = await app.start_router(settings)

        def boom(*args: object, **kwargs: object) -> None:
            raise ZeroDivisionError("injected")

        monkeypatch.setattr(running.core, "validate_route", boom)
        try:
            await asyncio.to_thread(call, running.address)
        finally:
            await running.stop(1)

    def call(address: str) -> None:
        with RouterClient(address) as client:
            with pytest.raises(InternalError) as caught:
                client.route(route("chore", conversation("c", [1])))
            assert caught.value.code == grpc.StatusCode.INTERNAL
            assert "ZeroDivision" not in caught.value.message and "injected" not in caught.value.message
            assert client.get_router_card().router_name  # still serving

    asyncio.run(scenario())


def test_catalog_semantic_problems_are_all_reported_with_paths() -> None:
    import yaml

    from rolemodel_router.config.catalog_loader import CatalogError

    data = yaml.safe_load((ROOT / "conformance" / "fixtures" / "catalog.yaml").read_text())
    data["roles"][0]["ladder"][0]["endpoint_ids"] = ["gpt-x"]
    data["roles"][1]["name"] = "chat"
    data["policies"]["quotas"][0]["endpoint_id"] = "nowhere"
    data["endpoints"][3]["pricing"].pop("cache_write_5m_per_mtok")
    data["roles"][0]["ladder"][2]["min_difficulty"] = 0.1
    with pytest.raises(CatalogError) as caught:
        parse_catalog(data, "fixture")
    problems = "\n".join(caught.value.problems)
    assert "roles[0].ladder[0].endpoint_ids[0]: unknown endpoint 'gpt-x'" in problems
    assert "roles[1].name: duplicate role name 'chat' (first at roles[0].name)" in problems
    assert "policies.quotas[0].endpoint_id: unknown endpoint 'nowhere'" in problems
    assert "endpoints[3].pricing.cache_write_5m_per_mtok: explicit caching with a 300s TTL needs this price" in problems
    assert "roles[0].ladder[2].min_difficulty: 0.1 is below 0.5 set on a lower tier" in problems


def test_state_entries_from_older_decisions_are_never_overwritten() -> None:
    """An outcome that arrives after a later decision does not roll the cache back (RM-CACHE-024)."""
    from tests.requests import outcome, usage

    clock = Clock()
    store = InProcessStore(quotas=FIXTURE.quotas)
    core = RouterCore(FIXTURE, store, clock=clock)
    conv_id = new_id()
    first = asyncio.run(core.route(core.validate_route(route("x-conformance.cost", conversation(conv_id, [5000])))))
    clock.ms += 1000
    second = asyncio.run(
        core.route(
            core.validate_route(route("x-conformance.cost", conversation(conv_id, [5000, 300, 200], turn_index=1)))
        )
    )
    entry = store.conversations[conv_id].cache[second.chosen_endpoint_id]
    asyncio.run(
        core.report(
            outcome(first.decision_id, first.chosen_endpoint_id, used=usage(input_tokens=5000, output_tokens=300))
        )
    )
    assert store.conversations[conv_id].cache[second.chosen_endpoint_id] == entry


def test_each_role_uses_the_estimator_its_catalog_entry_names() -> None:
    import yaml

    data = yaml.safe_load((ROOT / "conformance" / "fixtures" / "catalog.yaml").read_text())
    data["roles"][0]["difficulty_estimator"] = "lexical"  # chat
    index = CatalogIndex(parse_catalog(data, "fixture"))
    core = RouterCore(index, InProcessStore(quotas=index.quotas))
    request = route("chat", conversation(new_id(), [100]))
    question = request.conversation.messages[0].message
    question.role = conversation_pb2.MESSAGE_ROLE_USER
    question.parts.add().text.text = "Which of these is a prime number? A) 4 B) 6 C) 7 D) 9"
    request.conversation.messages[0].ClearField("digest")
    chat = asyncio.run(core.route(core.validate_route(request)))
    chore = asyncio.run(core.route(core.validate_route(route("chore", conversation(new_id(), [100])))))
    assert (chat.difficulty.estimator, chat.difficulty.source) == ("lexical", common_pb2.VALUE_SOURCE_ESTIMATED)
    assert chore.difficulty.estimator == "heuristic"
    data["roles"][1]["difficulty_estimator"] = "no-such-estimator"
    from rolemodel_router.config.catalog_loader import CatalogError

    with pytest.raises(CatalogError, match=r"roles\[1\]\.difficulty_estimator: unknown estimator 'no-such-estimator'"):
        parse_catalog(data, "fixture")


def test_a_capability_the_router_does_not_claim_is_refused_before_anything_happens() -> None:
    """A router may claim less than the reference does; what it does not claim it refuses precisely."""
    store = InProcessStore(quotas=FIXTURE.quotas)
    core = RouterCore(FIXTURE, store, capabilities=(card_pb2.ROUTER_CAPABILITY_QUOTA,))
    handoff = route("chat", conversation(new_id(), [10]))
    handoff.include_handoff = True
    dry = route("chat", conversation(new_id(), [10]))
    dry.dry_run = True
    for request, capability in ((handoff, "ROUTER_CAPABILITY_HANDOFF_MESSAGES"), (dry, "ROUTER_CAPABILITY_DRY_RUN")):
        with pytest.raises(RouterError) as refused:
            core.validate_route(request)
        assert refused.value.reason == ErrorReason.CAPABILITY_NOT_SUPPORTED
        assert refused.value.metadata == {"capability": capability}
    execute = router_service_pb2.ExecuteRequest(conversation=conversation(new_id(), [10]))
    with pytest.raises(RouterError) as refused:
        core.execute(execute)
    assert refused.value.metadata == {"capability": "ROUTER_CAPABILITY_EXECUTE"}


def test_a_subscription_endpoint_names_plain_headers_and_no_key_of_the_routers() -> None:
    """Spec 12.4: the headers must be ones a client can send, and the router's own key has no place there."""
    import yaml

    from rolemodel_router.config.catalog_loader import CatalogError

    data = yaml.safe_load((ROOT / "conformance" / "fixtures" / "catalog.yaml").read_text())
    (index,) = [i for i, e in enumerate(data["endpoints"]) if e["id"] == "fx-subscription"]
    connection = data["endpoints"][index]["connection"]
    connection["client_credential_headers"] = ["Authorization", "content-type", "authorization", "authorization"]
    connection["api_key_env"] = "SOME_KEY"
    with pytest.raises(CatalogError) as caught:
        parse_catalog(data, "fixture")
    path = f"endpoints[{index}].connection"
    problems = "\n".join(caught.value.problems)
    assert f"{path}.client_credential_headers[0]: 'Authorization' is not a lower-case header name" in problems
    assert f"{path}.client_credential_headers[1]: 'content-type' is set by the router itself" in problems
    assert f"{path}.client_credential_headers[3]: duplicate client credential header 'authorization'" in problems
    assert f"{path}.api_key_env: an endpoint called with the client's own credential takes no key" in problems
