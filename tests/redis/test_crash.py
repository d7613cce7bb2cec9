"""kill -9 under load with Redis and its append-only file: nothing acknowledged is lost (issue 7).

Nor counted twice: the load routes in the fixture's quota role, whose window is made an hour long so
that it outlives the restarts, and after them the quota counts every acknowledged Route's reservation
and at most one more per worker, the call each had in flight when the processes died (committed in
Redis, its answer lost with the router).
"""

from __future__ import annotations

import signal
import threading
import time
from pathlib import Path

import yaml

from rolemodel import ClientOptions, RetryPolicy, RoleModelError, RouterClient
from rolemodel.v1 import common_pb2
from tests.redis_server import RedisServer
from tests.requests import conversation, new_id, outcome, route
from tests.router.harness import FIXTURE, RouterProcess

ONE_TRY = ClientOptions(retry=RetryPolicy(max_attempts=1), timeout_s=5.0)
WORKERS = 6
LOAD_S = 1.5
ROLE = "x-conformance.quota"
QUOTA_ID = "fx-quota-window"


def _catalog_with_an_hour_long_quota(folder: Path) -> Path:
    catalog = yaml.safe_load(FIXTURE.read_text())
    quota = next(q for q in catalog["policies"]["quotas"] if q["id"] == QUOTA_ID)
    quota.update(window_seconds=3600, max_requests=1_000_000)
    path = folder / "catalog.yaml"
    path.write_text(yaml.safe_dump(catalog))
    return path


def _reserved_requests(client: RouterClient) -> int:
    """The quota's count, read by a dry run (which reserves nothing itself)."""
    probe = client.route(route(ROLE, conversation(new_id(), [10]), dry_run=True))
    return next(int(q.used.requests - q.reserved.requests) for q in probe.quota_states if q.quota_id == QUOTA_ID)


def _load(
    address: str,
    stop: threading.Event,
    acknowledged: list[tuple[str, str, str]],
    routed: list[str],
    lock: threading.Lock,
) -> None:
    """Turns of fresh quota-role conversations, each reported; keeps what the router acknowledged."""
    with RouterClient(address, ONE_TRY) as client:
        while not stop.is_set():
            try:
                decision = client.route(route(ROLE, conversation(new_id(), [200])))
                with lock:
                    routed.append(decision.chosen_endpoint_id)
                failed = common_pb2.OUTCOME_CLASS_TASK_FAILED
                report = outcome(decision.decision_id, decision.chosen_endpoint_id, failed)
                client.report_outcome(report)
            except RoleModelError:
                return  # the router or Redis was killed mid-call: that call was never acknowledged
            with lock:
                acknowledged.append((decision.decision_id, decision.chosen_endpoint_id, report.idempotency_key))


def test_kill_9_of_router_and_redis_loses_no_acknowledged_outcome_or_quota(tmp_path: Path) -> None:
    catalog = _catalog_with_an_hour_long_quota(tmp_path)
    redis = RedisServer(tmp_path, appendonly=True).start()
    port = redis.port
    acknowledged: list[tuple[str, str, str]] = []
    routed: list[str] = []
    lock = threading.Lock()
    stop = threading.Event()
    with RouterProcess(redis.url, catalog=catalog, extra=["--redis-namespace", "crash"]) as router:
        workers = [
            threading.Thread(target=_load, args=(router.address, stop, acknowledged, routed, lock))
            for _ in range(WORKERS)
        ]
        for worker in workers:
            worker.start()
        time.sleep(LOAD_S)
        assert redis.process is not None
        redis.process.send_signal(signal.SIGKILL)
        assert router.kill9() == -9
        stop.set()
        for worker in workers:
            worker.join(timeout=30)
    redis.process.wait(timeout=10)
    redis.process = None
    with lock:
        survivors = list(acknowledged)
        acknowledged_routes = list(routed)
    assert len(survivors) > 20, "the load ran"
    assert set(acknowledged_routes) == {"fx-quota"}, "every Route reserved the quota"

    restarted = RedisServer(tmp_path, appendonly=True)
    restarted.port = port
    restarted.start()
    try:
        with (
            RouterProcess(restarted.url, catalog=catalog, extra=["--redis-namespace", "crash"]) as router,
            RouterClient(router.address, ONE_TRY) as client,
        ):
            reserved = _reserved_requests(client)
            assert len(acknowledged_routes) <= reserved <= len(acknowledged_routes) + WORKERS, (
                f"{reserved} reserved for {len(acknowledged_routes)} acknowledged Routes and {WORKERS} in flight"
            )
            for decision_id, endpoint_id, key in survivors:
                again = outcome(decision_id, endpoint_id, common_pb2.OUTCOME_CLASS_TASK_FAILED, key=key)
                response = client.report_outcome(again)
                assert response.replayed, f"the acknowledged outcome of {decision_id} was lost"
    finally:
        restarted.stop()
