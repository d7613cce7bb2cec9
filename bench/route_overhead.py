"""Route throughput and latency against an empty gRPC handler, side by side in one run.

Starts, as separate processes on loopback:
  * the reference router on an 8-endpoint catalog, with the SQLite store (the
    embedded default) and again with the memory store;
  * an empty grpc.aio RouterService whose Route answers with a canned decision
    of the same size as the router's, without looking at the request.
Then drives each with the same Route requests (a conversation of 50 messages
by digest and count, advancing one turn per call) at concurrency 1 and 32.

    python bench/route_overhead.py [--seconds 5] [--json FILE]

Targets (issue 3): ratio of at least 0.8 at concurrency 32; p50 no more than
0.3 ms above the empty handler at concurrency 1. The machine is shared and
noisy: compare ratios measured in one run, not absolute numbers.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import grpc.aio
from rich.console import Console
from rich.progress import Progress
from rich.table import Table

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.bench_catalog import BENCH_ROLE, write_bench_catalog
from bench.workload import conversation_request
from rolemodel.v1 import router_service_pb2_grpc

METADATA = (("rolemodel-version", "1.0"),)
HERE = Path(__file__).resolve().parent


def start(command: list[str]) -> tuple[subprocess.Popen[str], str]:
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    line = process.stdout.readline() if process.stdout is not None else ""
    if "on " not in line:
        process.kill()
        raise RuntimeError(f"server did not start: {line!r}")
    return process, line.split(" on ", 1)[1].split()[0]


def start_router(catalog: Path, state: str) -> tuple[subprocess.Popen[str], str]:
    return start(
        [
            sys.executable, "-m", "rolemodel_router.cli.main", "serve", "--catalog", str(catalog),
            "--listen", "127.0.0.1:0", "--state", state, "--no-sample", "--log-level", "error",
        ]
    )  # fmt: skip


async def drive(address: str, concurrency: int, seconds: float, label: str, progress: Progress) -> dict[str, float]:
    """Send Route calls from ``concurrency`` workers for ``seconds``; each worker advances its own conversation."""
    latencies: list[float] = []
    async with grpc.aio.insecure_channel(address) as channel:
        stub = router_service_pb2_grpc.RouterServiceStub(channel)
        warm = conversation_request(f"warm-{label}", messages=50, turn=0, role=BENCH_ROLE)
        for _ in range(50):
            await stub.Route(warm, metadata=METADATA)
        task = progress.add_task(f"{label} c={concurrency}", total=seconds)
        started = time.perf_counter()
        deadline = started + seconds

        async def worker(n: int) -> None:
            turn = 0
            conversation_id = f"{label}-{concurrency}-{n}-{os.getpid()}"
            while time.perf_counter() < deadline:
                request = conversation_request(conversation_id, messages=50, turn=turn, role=BENCH_ROLE)
                begin = time.perf_counter()
                await stub.Route(request, metadata=METADATA)
                latencies.append(time.perf_counter() - begin)
                turn += 1

        async def ticker() -> None:
            while time.perf_counter() < deadline:
                progress.update(task, completed=min(seconds, time.perf_counter() - started))
                await asyncio.sleep(0.2)

        await asyncio.gather(ticker(), *(worker(n) for n in range(concurrency)))
        elapsed = time.perf_counter() - started
        progress.update(task, completed=seconds)
    latencies.sort()
    return {
        "rps": len(latencies) / elapsed,
        "p50_ms": latencies[len(latencies) // 2] * 1000,
        "p99_ms": latencies[int(len(latencies) * 0.99)] * 1000,
        "mean_ms": statistics.fmean(latencies) * 1000,
        "calls": len(latencies),
    }


async def canned_decision(address: str) -> bytes:
    async with grpc.aio.insecure_channel(address) as channel:
        stub = router_service_pb2_grpc.RouterServiceStub(channel)
        request = conversation_request("canned", messages=50, turn=3, role=BENCH_ROLE)
        response = await stub.Route(request, metadata=METADATA)
        return bytes(response.SerializeToString())


def compare(route: dict[str, float], empty: dict[str, float]) -> dict[str, float]:
    return {
        "route_rps": round(route["rps"], 1),
        "empty_rps": round(empty["rps"], 1),
        "ratio": round(route["rps"] / empty["rps"], 3),
        "route_p50_ms": round(route["p50_ms"], 3),
        "route_p99_ms": round(route["p99_ms"], 3),
        "empty_p50_ms": round(empty["p50_ms"], 3),
        "empty_p99_ms": round(empty["p99_ms"], 3),
        "added_p50_ms": round(route["p50_ms"] - empty["p50_ms"], 3),
    }


async def run(seconds: float) -> dict[str, Any]:
    results: dict[str, Any] = {
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version(), "system": platform.platform()}
    }
    with tempfile.TemporaryDirectory() as tmp:
        catalog = write_bench_catalog(Path(tmp) / "catalog.yaml")
        stores = {"sqlite": f"sqlite:///{Path(tmp) / 'router.db'}", "memory": "memory:"}
        with Progress(transient=True) as progress:
            for store, url in stores.items():
                router, router_address = start_router(catalog, url)
                try:
                    canned = await canned_decision(router_address)
                    with tempfile.NamedTemporaryFile(suffix=".bin", delete=False) as f:
                        f.write(canned)
                    empty, empty_address = start([sys.executable, str(HERE / "empty_router.py"), f.name])
                    try:
                        for concurrency in (1, 32):
                            measured_route = await drive(
                                router_address, concurrency, seconds, f"route/{store}", progress
                            )
                            measured_empty = await drive(empty_address, concurrency, seconds, "empty", progress)
                            results.setdefault(store, {})[f"concurrency_{concurrency}"] = compare(
                                measured_route, measured_empty
                            )
                    finally:
                        empty.terminate()
                        empty.wait()
                        os.unlink(f.name)
                finally:
                    router.terminate()
                    router.wait()
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=5.0, help="measurement time per cell (default: %(default)s)")
    parser.add_argument("--json", type=Path, help="write the results here")
    args = parser.parse_args()
    results = asyncio.run(run(args.seconds))
    table = Table(title="Route against an empty gRPC handler (same requests, same response size)")
    for column in (
        "store",
        "concurrency",
        "route rps",
        "empty rps",
        "ratio",
        "route p50 ms",
        "empty p50 ms",
        "added p50 ms",
        "route p99 ms",
    ):
        table.add_column(column, justify="right")
    for store in ("sqlite", "memory"):
        for concurrency in (1, 32):
            r = results[store][f"concurrency_{concurrency}"]
            figures = [f"{r['route_rps']:.0f}", f"{r['empty_rps']:.0f}", f"{r['ratio']:.2f}"]
            figures += [f"{r[k]:.3f}" for k in ("route_p50_ms", "empty_p50_ms", "added_p50_ms", "route_p99_ms")]
            table.add_row(store, str(concurrency), *figures)
    Console().print(table)
    if args.json:
        args.json.write_text(json.dumps(results, indent=2) + "\n")


if __name__ == "__main__":
    main()
