"""Tenancy (spec 12.5) against a real router process on SQLite: each token is a principal whose
conversations, decisions and idempotency keys no other principal can read, use or block."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest

from rolemodel import ClientOptions, RetryPolicy, RouterClient
from rolemodel.errors import AuthError, RoleModelError
from rolemodel.v1 import common_pb2, decision_pb2, hints_pb2
from tests.redis_server import RedisServer
from tests.requests import conversation, new_id, outcome, route
from tests.router.harness import RouterProcess

ALICE = "alice-token-0123456789abcdef"
BOB = "bob-token-fedcba9876543210aa"
CHAT_ONLY = "chat-only-token-00112233445566"
ONCE = RetryPolicy(max_attempts=1)
X = decision_pb2


@pytest.fixture(scope="module", params=["sqlite", "redis"])
def router(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[RouterProcess]:
    """The same router on SQLite and on a real redis-server: both keep principals apart."""
    folder = tmp_path_factory.mktemp("tenancy")
    tokens = folder / "tokens.yaml"
    tokens.write_text(
        json.dumps(
            {
                "tokens": [
                    {"name": "alice", "token": ALICE},
                    {"name": "bob", "token": BOB},
                    {"name": "chat-only", "token": CHAT_ONLY, "roles": ["chat"]},
                ]
            }
        )
    )
    extra = ["--tokens-file", str(tokens)]
    if request.param == "sqlite":
        with RouterProcess(state_url=f"sqlite:///{folder / 'state.db'}", extra=extra) as process:
            yield process
        return
    redis = RedisServer(folder).start()
    try:
        with RouterProcess(state_url=redis.url, extra=extra) as process:
            yield process
    finally:
        redis.stop()


def client(router: RouterProcess, token: str) -> RouterClient:
    return RouterClient(router.address, ClientOptions(token=token, retry=ONCE))


def test_another_principals_failures_do_not_escalate_a_conversation(router: RouterProcess) -> None:
    conv_id = new_id()
    with client(router, ALICE) as alice, client(router, BOB) as bob:
        first = alice.route(route("chore", conversation(conv_id, [300]), difficulty=0.1))
        assert first.conversation_id == conv_id and first.policy.escalation_level == 0
        for turn in range(2):  # the attack of issue 17: TASK_FAILED twice in someone else's conversation
            d = bob.route(route("chore", conversation(conv_id, [300], turn_index=turn), difficulty=0.1))
            assert d.conversation_id == conv_id
            bob.report_outcome(outcome(d.decision_id, d.chosen_endpoint_id, common_pb2.OUTCOME_CLASS_TASK_FAILED))
        after = alice.route(route("chore", conversation(conv_id, [300], turn_index=1), difficulty=0.1, dry_run=True))
        assert after.policy.escalation_level == 0 and after.chosen_endpoint_id == "fx-local"
        bobs = bob.route(route("chore", conversation(conv_id, [300], turn_index=2), difficulty=0.1, dry_run=True))
        assert bobs.policy.escalation_level == 2  # bob's own conversation of that name did escalate


def test_a_dry_run_under_another_principals_conversation_reveals_no_cache(router: RouterProcess) -> None:
    conv_id = new_id()
    seed = new_id("secret")
    with client(router, ALICE) as alice, client(router, BOB) as bob:
        d = alice.route(route("x-conformance.cost", conversation(conv_id, [4000, 4000], seed=seed)))
        alice.report_outcome(outcome(d.decision_id, d.chosen_endpoint_id))
        guess = route("x-conformance.cost", conversation(conv_id, [4000, 4000, 100], seed=seed), dry_run=True)
        own = alice.route(guess)
        other = bob.route(guess)
    assert any(c.cost.cached_tokens > 0 for c in own.candidates)  # the cache is there for its owner
    assert all(c.cost.cached_tokens == 0 for c in other.candidates)
    assert all(not c.cache.held_tokens for c in other.candidates)


def test_a_decision_is_its_principals_alone(router: RouterProcess) -> None:
    with client(router, ALICE) as alice, client(router, BOB) as bob:
        d = alice.route(route("chore", conversation(new_id(), [100])))
        with pytest.raises(RoleModelError) as caught:
            bob.report_outcome(outcome(d.decision_id, d.chosen_endpoint_id, common_pb2.OUTCOME_CLASS_TASK_FAILED))
        assert caught.value.reason is not None and caught.value.reason.value == "DECISION_NOT_FOUND"
        hint = hints_pb2.EscalationHint(
            attempt=2, previous_decision_id=d.decision_id, failure_class=common_pb2.OUTCOME_CLASS_SERVER_ERROR
        )
        retry = bob.route(route("chore", conversation(d.conversation_id, [100]), escalation=hint))
        excluded = [e.code for c in retry.candidates for e in c.exclusions]
        assert X.EXCLUSION_CODE_FAILED_THIS_TURN not in excluded  # alice's attempt says nothing to bob
        assert retry.chosen_endpoint_id == d.chosen_endpoint_id
        assert alice.report_outcome(outcome(d.decision_id, d.chosen_endpoint_id)).effects is not None


def test_an_idempotency_key_does_not_block_another_principal(router: RouterProcess) -> None:
    key = new_id("shared-key")
    with client(router, ALICE) as alice, client(router, BOB) as bob:
        a = alice.route(route("chore", conversation(new_id(), [100])))
        b = bob.route(route("chore", conversation(new_id(), [100])))
        assert not alice.report_outcome(outcome(a.decision_id, a.chosen_endpoint_id, key=key)).replayed
        assert not bob.report_outcome(outcome(b.decision_id, b.chosen_endpoint_id, key=key)).replayed
        assert alice.report_outcome(outcome(a.decision_id, a.chosen_endpoint_id, key=key)).replayed


def test_reported_failures_do_not_cool_an_endpoint_down_for_everyone(router: RouterProcess) -> None:
    with client(router, BOB) as bob, client(router, ALICE) as alice:
        for _ in range(5):
            d = bob.route(route("x-conformance.health", conversation(new_id(), [100])))
            assert d.chosen_endpoint_id == "fx-flaky"
            bob.report_outcome(outcome(d.decision_id, "fx-flaky", common_pb2.OUTCOME_CLASS_SERVER_ERROR))
        seen = alice.route(route("x-conformance.health", conversation(new_id(), [100]), dry_run=True))
        flaky = next(c for c in seen.candidates if c.endpoint_id == "fx-flaky")
        assert X.EXCLUSION_CODE_UNHEALTHY not in [e.code for e in flaky.exclusions]
        card = next(p for p in alice.get_router_card().endpoints if p.endpoint.id == "fx-flaky")
    assert not card.status.HasField("cooldown_until") and card.status.observed_failure_rate > 0.5


def test_a_role_scope_limits_which_endpoints_a_token_may_pin(router: RouterProcess) -> None:
    with client(router, CHAT_ONLY) as chat_only:
        pinned = hints_pb2.EndpointChoice(pinned_endpoint_id="fx-mini")  # on the chat ladder
        allowed = chat_only.route(route("chat", conversation(new_id(), [100]), endpoint_choice=pinned))
        assert allowed.chosen_endpoint_id == "fx-mini"
        outside = hints_pb2.EndpointChoice(pinned_endpoint_id="fx-quota")  # only x-conformance roles use it
        with pytest.raises(AuthError) as caught:
            chat_only.route(route("chat", conversation(new_id(), [100]), endpoint_choice=outside))
    assert caught.value.reason is not None and caught.value.reason.value == "ROLE_NOT_PERMITTED"
    assert caught.value.metadata.get("endpoint_id") == "fx-quota"
