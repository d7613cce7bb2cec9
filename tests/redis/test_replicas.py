"""Several router processes sharing one real redis-server (issue 7: scale-out on Redis)."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from rolemodel import ClientOptions, RetryPolicy, RouterClient
from rolemodel.error_reasons import ErrorReason
from rolemodel.errors import NoEligibleEndpointError, RoleModelError, UnavailableError
from rolemodel.v1 import common_pb2, decision_pb2, hints_pb2
from tests.redis_server import RedisServer
from tests.requests import conversation, new_id, outcome, route, usage
from tests.router.harness import RouterProcess

ECONOMICS = Path(__file__).resolve().parents[1] / "router" / "catalogs" / "economics.yaml"
ONE_TRY = ClientOptions(retry=RetryPolicy(max_attempts=1))


@pytest.fixture
def replicas(redis_server: RedisServer) -> Iterator[list[RouterProcess]]:
    namespace = f"replicas-{uuid.uuid4().hex[:8]}"
    processes = [RouterProcess(redis_server.url, extra=["--redis-namespace", namespace]).start() for _ in range(3)]
    yield processes
    for p in processes:
        p.stop()


def test_a_quota_of_n_is_admitted_exactly_n_times_across_three_replicas(replicas: list[RouterProcess]) -> None:
    """200 concurrent clients over 3 replicas against a 10-request fixed window of 3 s."""
    clients = [RouterClient(p.address, ONE_TRY) for p in replicas]

    def one(i: int) -> str:
        try:
            return clients[i % 3].route(route("x-conformance.burst", conversation(new_id(), [50]))).chosen_endpoint_id
        except NoEligibleEndpointError as error:
            assert error.decision is not None
            burst = next(c for c in error.decision.candidates if c.endpoint_id == "fx-burst")
            assert [e.code for e in burst.exclusions] == [decision_pb2.EXCLUSION_CODE_QUOTA_EXHAUSTED]
            return "refused"

    time.sleep(3 - time.time() % 3 + 0.05)  # start at the beginning of a window, so all calls fall in it
    with ThreadPoolExecutor(max_workers=200) as pool:
        results = list(pool.map(one, range(200)))
    elapsed_in_window = time.time() % 3
    for c in clients:
        c.close()
    assert elapsed_in_window > 0.05 or results.count("fx-burst") <= 10
    assert results.count("fx-burst") == 10
    assert results.count("refused") == 190


def test_state_written_through_one_replica_steers_another(redis_server: RedisServer) -> None:
    namespace = ["--redis-namespace", f"econ-{uuid.uuid4().hex[:8]}"]
    with (
        RouterProcess(redis_server.url, catalog=ECONOMICS, extra=namespace) as a,
        RouterProcess(redis_server.url, catalog=ECONOMICS, extra=namespace) as b,
        RouterClient(a.address) as on_a,
        RouterClient(b.address) as on_b,
    ):
        conv_id = new_id()
        first = on_a.route(
            route(
                "x-test.gpt5-pair",
                conversation(conv_id, [59_200]),
                expected_output=800,
                endpoint_choice=hints_pb2.EndpointChoice(pinned_endpoint_id="gpt-5"),
            )
        )
        on_a.report_outcome(outcome(first.decision_id, "gpt-5", used=usage(input_tokens=59_200, output_tokens=800)))
        d = on_b.route(
            route("x-test.gpt5-pair", conversation(conv_id, [59_200, 800, 500], turn_index=1), expected_output=800)
        )
        gpt5 = next(c for c in d.candidates if c.endpoint_id == "gpt-5")
        assert gpt5.cost.cached_tokens == 59_904 and gpt5.cache.source == decision_pb2.CACHE_STATE_SOURCE_REPORTED
        assert d.chosen_endpoint_id == "gpt-5" and d.handoff.action == decision_pb2.HANDOFF_ACTION_CONTINUE


def test_an_escalation_raised_on_one_replica_holds_on_another(replicas: list[RouterProcess]) -> None:
    a, b, c = (RouterClient(p.address) for p in replicas)
    conv_id = new_id()
    d = a.route(route("chore", conversation(conv_id, [300])))
    a.report_outcome(outcome(d.decision_id, d.chosen_endpoint_id, common_pb2.OUTCOME_CLASS_TASK_FAILED))
    second = b.route(route("chore", conversation(conv_id, [300], turn_index=1)))
    assert second.chosen_endpoint_id == "fx-deepseek"
    assert any(r.code == decision_pb2.REASON_CODE_ESCALATED for r in second.reasons)
    # An outcome reported through a third replica is seen by the first.
    c.report_outcome(outcome(second.decision_id, second.chosen_endpoint_id, common_pb2.OUTCOME_CLASS_TASK_FAILED))
    third = a.route(route("chore", conversation(conv_id, [300], turn_index=2), dry_run=True))
    assert third.policy.escalation_level == 2 and third.chosen_endpoint_id == "fx-gpt5"
    for client in (a, b, c):
        client.close()


def test_concurrent_turns_of_one_conversation_leave_consistent_state(replicas: list[RouterProcess]) -> None:
    clients = [RouterClient(p.address) for p in replicas]
    conv_id = new_id()

    def turn(i: int) -> str:
        return (
            clients[i % 3].route(route("chore", conversation(conv_id, [300] * (i % 4 + 1), turn_index=i))).decision_id
        )

    with ThreadPoolExecutor(max_workers=30) as pool:
        ids = list(pool.map(turn, range(30)))
    assert len(set(ids)) == 30
    latest = clients[0].route(route("chore", conversation(conv_id, [300], turn_index=99), dry_run=True))
    assert latest.policy.current_endpoint_id == "fx-local"
    for client in clients:
        client.close()


@pytest.mark.parametrize("policy", ["fail-closed", "degrade"])
def test_a_redis_outage_is_survived_and_recovery_is_automatic(tmp_path: Path, policy: str) -> None:
    server = RedisServer(tmp_path, appendonly=True).start()
    port = server.port
    with (
        RouterProcess(server.url, extra=["--state-outage", policy]) as router,
        RouterClient(router.address, ONE_TRY) as client,
    ):
        before = client.route(route("x-conformance.quota", conversation(new_id(), [100])))
        assert before.chosen_endpoint_id == "fx-quota"
        server.stop()
        during: list[decision_pb2.Decision | None] = []
        for _ in range(5):
            try:
                during.append(client.route(route("x-conformance.quota", conversation(new_id(), [100]))))
            except UnavailableError as error:
                assert error.retryable and error.reason is not None and error.reason.value == "STATE_STORE_UNAVAILABLE"
                during.append(None)
        if policy == "fail-closed":
            assert during == [None] * 5
        else:
            for d in during:
                assert d is not None and d.chosen_endpoint_id == "fx-deepseek"
                quota = next(c for c in d.candidates if c.endpoint_id == "fx-quota")
                assert [e.code for e in quota.exclusions] == [decision_pb2.EXCLUSION_CODE_STATE_UNAVAILABLE]
                assert any(r.code == decision_pb2.REASON_CODE_STATE_DEGRADED for r in d.reasons)
        restarted = RedisServer(tmp_path, appendonly=True)
        restarted.port = port
        restarted.start()
        try:
            deadline = time.monotonic() + 10
            while True:
                try:
                    after = client.route(route("x-conformance.quota", conversation(new_id(), [100])))
                    break
                except UnavailableError:
                    assert time.monotonic() < deadline, "the router did not recover"
                    time.sleep(0.2)
            assert not any(r.code == decision_pb2.REASON_CODE_STATE_DEGRADED for r in after.reasons)
            # Redis's append-only file kept the decision made before the outage: its outcome still lands.
            effects = client.report_outcome(outcome(before.decision_id, "fx-quota")).effects
            assert effects.served_endpoint_id == "fx-quota"
            if policy == "degrade":  # decisions made during the outage were never stored (README, State)
                made_during = during[0]
                assert made_during is not None
                with pytest.raises(RoleModelError) as lost:
                    client.report_outcome(outcome(made_during.decision_id, made_during.chosen_endpoint_id))
                assert lost.value.reason == ErrorReason.DECISION_NOT_FOUND
        finally:
            restarted.stop()


def test_evictions_are_predicted_across_replicas_and_concurrent_admissions_never_overfill(
    replicas: list[RouterProcess],
) -> None:
    """Residents of a two-slot server live in Redis: every replica sees the others' admissions (spec 7.7)."""
    clients = [RouterClient(p.address) for p in replicas]
    a, b, c = new_id("a"), new_id("b"), new_id("c")

    def slots(i: int, conv_id: str, counts: list[int], turn: int) -> decision_pb2.Candidate:
        d = clients[i % 3].route(route("x-conformance.slots", conversation(conv_id, counts, turn_index=turn)))
        return next(x for x in d.candidates if x.endpoint_id == "fx-pool-slots")

    slots(0, a, [2000], 0)
    slots(1, b, [1500], 0)
    slots(2, a, [2000, 200], 1)
    assert slots(0, c, [900], 0).cache.evicts_sequences == 1
    back = slots(1, b, [1500, 100], 1)
    assert back.cache.evicted and back.cost.cached_tokens == 0
    with ThreadPoolExecutor(max_workers=12) as pool:
        views = list(pool.map(lambda i: slots(i, new_id("many"), [100], 0), range(24)))
    assert {v.cache.slot for v in views} <= {0, 1}
    last = [slots(i, new_id("probe"), [100], 0) for i in range(2)]
    assert [v.cache.evicts_sequences for v in last] == [1, 1]
    for client in clients:
        client.close()


def test_an_outcome_served_by_a_fallback_moves_the_resident_on_every_replica(replicas: list[RouterProcess]) -> None:
    """RM-CACHE-034/035 through Redis: the chosen server gets its residents back, the fallback holds the turn."""
    clients = [RouterClient(p.address) for p in replicas]

    def turn(i: int, conv_id: str, counts: list[int], index: int) -> decision_pb2.Decision:
        return clients[i % 3].route(route("x-conformance.pool", conversation(conv_id, counts, turn_index=index)))

    def view(decision: decision_pb2.Decision, endpoint_id: str) -> decision_pb2.Candidate:
        return next(x for x in decision.candidates if x.endpoint_id == endpoint_id)

    a, b, c = new_id("a"), new_id("b"), new_id("c")
    for i, conv_id in enumerate((a, b)):
        first = turn(i, conv_id, [2000], 0)
        clients[i].report_outcome(outcome(first.decision_id, "fx-pool-small", used=usage(2000, output_tokens=100)))
    moved = turn(2, c, [2000], 0)
    assert moved.chosen_endpoint_id == "fx-pool-small" and view(moved, "fx-pool-small").cache.evicts_sequences == 1
    clients[0].report_outcome(outcome(moved.decision_id, "fx-pool-big", used=usage(2000, output_tokens=100)))
    assert not view(turn(1, a, [2000, 200], 1), "fx-pool-small").cache.evicted
    on_big = view(turn(2, c, [2000, 200], 1), "fx-pool-big")
    assert not on_big.cache.evicted and on_big.cost.cached_tokens > 0
    for client in clients:
        client.close()
