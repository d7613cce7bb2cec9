"""kill -9 under load with Redis and its append-only file: nothing acknowledged is lost (issue 7)."""

from __future__ import annotations

import signal
import threading
import time
from pathlib import Path

from rolemodel import ClientOptions, RetryPolicy, RoleModelError, RouterClient
from rolemodel.v1 import common_pb2
from tests.redis_server import RedisServer
from tests.requests import conversation, new_id, outcome, route
from tests.router.harness import RouterProcess

ONE_TRY = ClientOptions(retry=RetryPolicy(max_attempts=1), timeout_s=5.0)
WORKERS = 6
LOAD_S = 1.5


def _load(address: str, stop: threading.Event, acknowledged: list[tuple[str, str, str]], lock: threading.Lock) -> None:
    """Turns of fresh chore conversations, each reported; keeps what the router acknowledged."""
    with RouterClient(address, ONE_TRY) as client:
        while not stop.is_set():
            try:
                decision = client.route(route("chore", conversation(new_id(), [200])))
                failed = common_pb2.OUTCOME_CLASS_TASK_FAILED
                report = outcome(decision.decision_id, decision.chosen_endpoint_id, failed)
                client.report_outcome(report)
            except RoleModelError:
                return  # the router or Redis was killed mid-call: that call was never acknowledged
            with lock:
                acknowledged.append((decision.decision_id, decision.chosen_endpoint_id, report.idempotency_key))


def test_kill_9_of_router_and_redis_loses_no_acknowledged_outcome(tmp_path: Path) -> None:
    redis = RedisServer(tmp_path, appendonly=True).start()
    port = redis.port
    acknowledged: list[tuple[str, str, str]] = []
    lock = threading.Lock()
    stop = threading.Event()
    with RouterProcess(redis.url, extra=["--redis-namespace", "crash"]) as router:
        workers = [
            threading.Thread(target=_load, args=(router.address, stop, acknowledged, lock)) for _ in range(WORKERS)
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
    assert len(survivors) > 20, "the load ran"

    restarted = RedisServer(tmp_path, appendonly=True)
    restarted.port = port
    restarted.start()
    try:
        with (
            RouterProcess(restarted.url, extra=["--redis-namespace", "crash"]) as router,
            RouterClient(router.address, ONE_TRY) as client,
        ):
            for decision_id, endpoint_id, key in survivors:
                again = outcome(decision_id, endpoint_id, common_pb2.OUTCOME_CLASS_TASK_FAILED, key=key)
                response = client.report_outcome(again)
                assert response.replayed, f"the acknowledged outcome of {decision_id} was lost"
    finally:
        restarted.stop()
