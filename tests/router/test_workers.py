"""``rolemodel serve --workers 2``: two real processes on one port, sharing SQLite or Redis, hammered at once.

Separate gRPC channels (each its own TCP connection) reach both workers through SO_REUSEPORT; the checks are
the store's guarantees across processes: a quota never admits more than its window allows, and an outcome
is recorded once whatever worker each of its retries reaches.
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import grpc
import grpc.aio
import pytest

from rolemodel.v1 import router_service_pb2, router_service_pb2_grpc
from tests.requests import conversation, new_id, outcome, route
from tests.router.conftest import state_url
from tests.router.harness import FIXTURE, RouterProcess

METADATA = (("rolemodel-version", "1.0"),)
CHANNELS = 16
QUOTA_WINDOW_MS = 4_000  # fx-quota-window in the fixture catalog: 3 requests in a rolling 4 s
QUOTA_REQUESTS = 3


def _workers_of(pid: int) -> list[int]:
    """The supervisor's worker processes (not multiprocessing's resource tracker)."""
    children = [int(child) for child in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    return [child for child in children if b"spawn_main" in Path(f"/proc/{child}/cmdline").read_bytes()]


def _cpu_ticks(pid: int) -> int:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return int(fields[11]) + int(fields[12])  # utime + stime


@pytest.fixture(params=["sqlite", "redis"])
def workers(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[RouterProcess]:
    url, extra = state_url(request.param, request, tmp_path_factory)
    extra += ["--workers", "2"]
    if request.param == "sqlite":
        extra += ["--http", "127.0.0.1:0", "--no-ui"]
    with RouterProcess(url, extra=extra, start_timeout_s=120) as process:
        yield process


async def _hammer(address: str, requests: list[router_service_pb2.RouteRequest]) -> list[tuple[str, str]]:
    """All ``requests`` at once over CHANNELS connections; (chosen endpoint, decision id) of each."""
    options = [("grpc.use_local_subchannel_pool", 1)]  # one TCP connection per channel, not one shared
    channels = [grpc.aio.insecure_channel(address, options=options) for _ in range(CHANNELS)]
    try:
        stubs = [router_service_pb2_grpc.RouterServiceStub(c) for c in channels]
        replies = await asyncio.gather(
            *(stubs[i % CHANNELS].Route(r, metadata=METADATA) for i, r in enumerate(requests))
        )
        return [(reply.decision.chosen_endpoint_id, reply.decision.decision_id) for reply in replies]
    finally:
        await asyncio.gather(*(c.close() for c in channels))


async def _report_four_times(
    address: str, decisions: list[tuple[str, str]]
) -> list[list[router_service_pb2.ReportOutcomeResponse]]:
    """Each decision's outcome sent four times at once, on four connections; the four replies of each."""
    options = [("grpc.use_local_subchannel_pool", 1)]
    channels = [grpc.aio.insecure_channel(address, options=options) for _ in range(4)]
    try:
        stubs = [router_service_pb2_grpc.RouterServiceStub(c) for c in channels]

        async def four(endpoint: str, decision_id: str) -> list[router_service_pb2.ReportOutcomeResponse]:
            request = router_service_pb2.ReportOutcomeRequest(
                outcome=outcome(decision_id, endpoint, key=f"key-{decision_id}")
            )
            return list(await asyncio.gather(*(s.ReportOutcome(request, metadata=METADATA) for s in stubs)))

        return list(await asyncio.gather(*(four(e, d) for e, d in decisions)))
    finally:
        await asyncio.gather(*(c.close() for c in channels))


def test_two_workers_share_quotas_and_outcomes_exactly(workers: RouterProcess) -> None:
    assert workers.process is not None
    unconfigured = [json.loads(line)["endpoint"] for line in workers.logs().splitlines() if '"api_key_env"' in line]
    assert unconfigured, "the fixture has an endpoint whose key variable is not set"
    assert len(unconfigured) == len(set(unconfigured)), "each start-up warning once, not once per worker"
    pids = _workers_of(workers.process.pid)
    assert len(pids) == 2
    before = {pid: _cpu_ticks(pid) for pid in pids}

    quota_burst = [route("x-conformance.quota", conversation(new_id(), [50])) for _ in range(96)]
    chosen = asyncio.run(_hammer(workers.address, quota_burst))
    admitted = sorted(int(decision_id[:12], 16) for endpoint, decision_id in chosen if endpoint == "fx-quota")
    assert len(admitted) >= QUOTA_REQUESTS, chosen
    assert any(endpoint == "fx-deepseek" for endpoint, _ in chosen)
    for first, fourth in zip(admitted, admitted[QUOTA_REQUESTS:], strict=False):
        assert fourth - first >= QUOTA_WINDOW_MS, f"four admissions within {fourth - first} ms: {admitted}"

    decided = asyncio.run(_hammer(workers.address, [route("chore", conversation(new_id(), [80])) for _ in range(24)]))
    for replies in asyncio.run(_report_four_times(workers.address, decided)):
        assert sorted(reply.replayed for reply in replies) == [False, True, True, True]
        assert len({reply.effects.SerializeToString() for reply in replies}) == 1
    with grpc.insecure_channel(workers.address) as channel:
        stub = router_service_pb2_grpc.RouterServiceStub(channel)
        endpoint, decision_id = decided[0]
        with pytest.raises(grpc.RpcError) as again:
            stub.ReportOutcome(
                router_service_pb2.ReportOutcomeRequest(outcome=outcome(decision_id, endpoint, key="another-key")),
                metadata=METADATA,
            )
        assert again.value.code() == grpc.StatusCode.ALREADY_EXISTS  # OUTCOME_ALREADY_REPORTED
        card = stub.GetRouterCard(router_service_pb2.GetRouterCardRequest(), metadata=METADATA).card
    if workers.state_url.startswith("sqlite"):
        # Redis keeps an endpoint's observed profile last-writer-wins by design (redis_store.py), so its
        # count is no tally; there, the one first report among four concurrent ones above is the check.
        assert sum(profile.status.observed_outcomes for profile in card.endpoints) == len(decided)

    used = {pid: _cpu_ticks(pid) - before[pid] for pid in pids}
    assert min(used.values()) > 0.2 * max(used.values()), f"one worker did the work: {used}"
    if workers.http_url:
        with urllib.request.urlopen(f"{workers.http_url}/v1/models", timeout=10) as reply:  # noqa: S310 (loopback)
            assert reply.status == 200
    assert workers.stop() == 0
    deadline = time.monotonic() + 10
    while any(Path(f"/proc/{pid}").exists() for pid in pids) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not any(Path(f"/proc/{pid}").exists() for pid in pids)


@pytest.mark.parametrize(
    ("options", "named"),
    [
        (["--state", "memory:"], "memory store"),
        (["--state", "sqlite:///router.db", "--metrics", "127.0.0.1:0"], "--metrics"),
        (["--state", "sqlite:///router.db", "--ui", "127.0.0.1:0"], "--ui"),
    ],
)
def test_what_workers_cannot_share_is_refused_in_one_line(options: list[str], named: str, tmp_path: Path) -> None:
    command = [sys.executable, "-m", "rolemodel_router.cli.main", "serve", "--catalog", str(FIXTURE)]
    result = subprocess.run(
        [*command, "--workers", "2", *options, "--listen", "127.0.0.1:0", "--no-sample"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        cwd=tmp_path,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    assert result.returncode == 2
    assert result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "--workers 2" in lines[0] and named in lines[0], result.stderr
    assert not (tmp_path / "router.db").exists()


def test_a_second_router_is_refused_while_workers_hold_the_database(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'router.db'}"
    with RouterProcess(url, extra=["--workers", "2"], start_timeout_s=120), pytest.raises(RuntimeError) as refused:
        RouterProcess(url).start()
    assert "in use by another router" in str(refused.value)
