"""Route throughput and latency against an empty gRPC handler, interleaved in one run.

Starts, as separate processes on loopback:
  * the reference router on an 8-endpoint catalog: with the memory store, with the SQLite store (the
    embedded default), and with SQLite and ``--workers 2`` (two processes on one port);
  * an empty grpc.aio RouterService whose Route answers with a canned decision of the same size as the
    router's, without looking at the request.
Then drives them with the same Route requests (a conversation of 50 messages by digest and count, advancing
one turn per call) in short alternating rounds: every round gives each server ``--round-seconds`` in turn,
in an order that rotates from round to round, so that a burst of load from elsewhere on the machine falls on
all of them alike instead of on whichever ran in that 5-second block. Concurrency 1 and 32.

    python bench/route_overhead.py [--rounds 6] [--round-seconds 1] [--json FILE]

Besides throughput and latency it reports the CPU time per call of each server's processes and of
this process (the client), read from Linux's /proc: on a CPU-bound machine that says where a
ratio of throughputs comes from.

Goals (issue 16), ratios of one run: Route at least 0.7 of the empty handler's throughput at concurrency 32
with the memory store and 0.6 with SQLite; SQLite's cost per call at most 1.10 times memory's. The client
runs in this process and takes a core of its own: on a two-core machine, two workers share one core with
the client, so the 1-to-2-worker ratio is a floor, not what two free cores give.
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
from dataclasses import dataclass, field
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
CONCURRENCIES = (1, 32)
EMPTY = "empty_handler"
#: The servers measured: name, --state (a SQLite file name is put in the run's directory), --workers.
ROUTERS = (
    ("router_memory_1_worker", "memory:", 1),
    ("router_sqlite_1_worker", "sqlite", 1),
    ("router_sqlite_2_workers", "sqlite", 2),
)
#: Connections to each server, callers spread over them: SO_REUSEPORT spreads connections, not calls, among workers.
CONNECTIONS = 4
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def tree_cpu_seconds(pid: int) -> float:
    """CPU time (user and system) of process ``pid`` and every process below it, as Linux's /proc tells it.

    A router with ``--workers 2`` serves from child processes, so the parent alone would miss the work.
    """
    total = 0.0
    pending = [pid]
    while pending:
        current = pending.pop()
        try:
            fields = Path(f"/proc/{current}/stat").read_text().rsplit(")", 1)[1].split()
            total += (int(fields[11]) + int(fields[12])) / CLOCK_TICKS
            for task in Path(f"/proc/{current}/task").iterdir():
                pending += [int(child) for child in (task / "children").read_text().split()]
        except (FileNotFoundError, ProcessLookupError):
            continue  # the process ended between two reads
    return total


def start(command: list[str]) -> tuple[subprocess.Popen[str], str]:
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    line = process.stdout.readline() if process.stdout is not None else ""
    if " on " not in line:
        process.kill()
        raise RuntimeError(f"server did not start: {line!r}")
    return process, line.split(" on ", 1)[1].split()[0]


def start_router(catalog: Path, state: str, workers: int = 1) -> tuple[subprocess.Popen[str], str]:
    return start(
        [
            sys.executable, "-m", "rolemodel_router.cli.main", "serve", "--catalog", str(catalog),
            "--listen", "127.0.0.1:0", "--state", state, "--no-sample", "--log-level", "error",
            "--workers", str(workers),
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


@dataclass
class Tally:
    """Calls and latencies of one server at one concurrency, summed over the rounds."""

    seconds: float = 0.0
    latencies: list[float] = field(default_factory=list)
    server_cpu_s: float = 0.0
    client_cpu_s: float = 0.0

    def summary(self) -> dict[str, float]:
        ordered = sorted(self.latencies)
        return {
            "calls": len(ordered),
            "seconds_measured": round(self.seconds, 2),
            "calls_per_second": round(len(ordered) / self.seconds, 1),
            "latency_p50_ms": round(ordered[len(ordered) // 2] * 1000, 3),
            "latency_p99_ms": round(ordered[int(len(ordered) * 0.99)] * 1000, 3),
            "latency_mean_ms": round(statistics.fmean(ordered) * 1000, 3),
            "server_cpu_ms_per_call": round(self.server_cpu_s / len(ordered) * 1000, 3),
            "client_cpu_ms_per_call": round(self.client_cpu_s / len(ordered) * 1000, 3),
        }


async def one_round(
    stubs: list[router_service_pb2_grpc.RouterServiceAsyncStub],
    label: str,
    concurrency: int,
    seconds: float,
    turns: dict[str, int],
) -> tuple[float, list[float]]:
    """``concurrency`` callers for ``seconds``, each advancing its own conversation where the last round left it."""
    latencies: list[float] = []
    started = time.perf_counter()
    deadline = started + seconds

    async def caller(n: int) -> None:
        stub = stubs[n % len(stubs)]
        conversation_id = f"{label}-{concurrency}-{n}-{os.getpid()}"
        while time.perf_counter() < deadline:
            turn = turns.get(conversation_id, 0)
            request = conversation_request(conversation_id, messages=50, turn=turn, role=BENCH_ROLE)
            begin = time.perf_counter()
            await stub.Route(request, metadata=METADATA)
            latencies.append(time.perf_counter() - begin)
            turns[conversation_id] = turn + 1

    await asyncio.gather(*(caller(n) for n in range(concurrency)))
    return time.perf_counter() - started, latencies


async def interleaved(
    addresses: dict[str, str], pids: dict[str, int], rounds: int, round_seconds: float, progress: Progress
) -> dict[int, dict[str, Tally]]:
    """Every server for ``round_seconds`` in turn, ``rounds`` times, at each concurrency; the order rotates.

    Each round also counts the CPU time its server's processes and this process (the client) spent,
    so that a ratio of throughputs can be read as costs per call.
    """
    options = [("grpc.use_local_subchannel_pool", 1)]  # each channel its own connection
    channels = {
        name: [grpc.aio.insecure_channel(address, options=options) for _ in range(CONNECTIONS)]
        for name, address in addresses.items()
    }
    stubs = {name: [router_service_pb2_grpc.RouterServiceStub(c) for c in chans] for name, chans in channels.items()}
    tallies = {c: {name: Tally() for name in addresses} for c in CONCURRENCIES}
    turns: dict[str, int] = {}
    names = list(addresses)
    task = progress.add_task("interleaved rounds", total=rounds * len(CONCURRENCIES) * len(names))
    try:
        for name, stub in stubs.items():  # connections up, caches warm
            await one_round(stub, f"warm-{name}", 4, 0.5, turns)
        for concurrency in CONCURRENCIES:
            for r in range(rounds):
                for name in names[r % len(names) :] + names[: r % len(names)]:
                    server_before, client_before = tree_cpu_seconds(pids[name]), time.process_time()
                    elapsed, latencies = await one_round(stubs[name], name, concurrency, round_seconds, turns)
                    tally = tallies[concurrency][name]
                    tally.server_cpu_s += tree_cpu_seconds(pids[name]) - server_before
                    tally.client_cpu_s += time.process_time() - client_before
                    tally.seconds += elapsed
                    tally.latencies += latencies
                    progress.advance(task)
    finally:
        await asyncio.gather(*(c.close() for chans in channels.values() for c in chans))
    return tallies


async def canned_decision(address: str) -> bytes:
    async with grpc.aio.insecure_channel(address) as channel:
        stub = router_service_pb2_grpc.RouterServiceStub(channel)
        request = conversation_request("canned", messages=50, turn=3, role=BENCH_ROLE)
        response = await stub.Route(request, metadata=METADATA)
        return bytes(response.SerializeToString())


def ratios(cell: dict[str, dict[str, float]]) -> dict[str, float]:
    rps = {name: figures["calls_per_second"] for name, figures in cell.items()}
    out = {f"{name}_throughput_over_empty_handler": round(rps[name] / rps[EMPTY], 3) for name, _, _ in ROUTERS}
    # Cost per call is the inverse of throughput at saturation.
    out["sqlite_cost_per_call_over_memory"] = round(rps["router_memory_1_worker"] / rps["router_sqlite_1_worker"], 3)
    out["sqlite_2_workers_throughput_over_1_worker"] = round(
        rps["router_sqlite_2_workers"] / rps["router_sqlite_1_worker"], 3
    )
    out["router_memory_added_p50_ms"] = round(
        cell["router_memory_1_worker"]["latency_p50_ms"] - cell[EMPTY]["latency_p50_ms"], 3
    )
    return out


async def run(rounds: int, round_seconds: float) -> dict[str, Any]:
    results: dict[str, Any] = {
        "machine": {
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "system": platform.platform(),
            "load_average_1_5_15_min_at_start": [round(x, 2) for x in os.getloadavg()],
        },
        "method": {
            "rounds": rounds,
            "round_seconds": round_seconds,
            "order": "each round runs every server in turn; the order rotates by one server per round",
            "request": "Route, a 50-message conversation by digest and token count, one turn further per call",
        },
    }
    processes: list[subprocess.Popen[str]] = []
    with tempfile.TemporaryDirectory() as tmp, Progress(transient=True) as progress:
        catalog = write_bench_catalog(Path(tmp) / "catalog.yaml")
        try:
            addresses: dict[str, str] = {}
            pids: dict[str, int] = {}
            for name, state, workers in ROUTERS:
                url = f"sqlite:///{Path(tmp) / (name + '.db')}" if state == "sqlite" else state
                process, addresses[name] = start_router(catalog, url, workers)
                processes.append(process)
                pids[name] = process.pid
            canned = Path(tmp) / "canned.bin"
            canned.write_bytes(await canned_decision(addresses["router_memory_1_worker"]))
            empty, addresses[EMPTY] = start([sys.executable, str(HERE / "empty_router.py"), str(canned)])
            processes.append(empty)
            pids[EMPTY] = empty.pid
            tallies = await interleaved(
                {EMPTY: addresses.pop(EMPTY), **addresses}, pids, rounds, round_seconds, progress
            )
        finally:
            for process in processes:
                process.terminate()
            for process in processes:
                process.wait()
    for concurrency, by_server in tallies.items():
        cell = {name: tally.summary() for name, tally in by_server.items()}
        results[f"concurrency_{concurrency}"] = {**cell, "ratios": ratios(cell)}
    results["machine"]["load_average_1_5_15_min_at_end"] = [round(x, 2) for x in os.getloadavg()]
    return results


def print_table(results: dict[str, Any]) -> None:
    table = Table(title="Route against an empty gRPC handler, interleaved rounds (same requests, same response size)")
    for column in (
        "server",
        "concurrency",
        "calls/s",
        "ratio to empty",
        "p50 ms",
        "p99 ms",
        "server CPU ms/call",
        "client CPU ms/call",
    ):
        table.add_column(column, justify="right", no_wrap=True)
    for concurrency in CONCURRENCIES:
        cell = results[f"concurrency_{concurrency}"]
        for name in (EMPTY, *(n for n, _, _ in ROUTERS)):
            figures = cell[name]
            ratio = cell["ratios"].get(f"{name}_throughput_over_empty_handler", 1.0)
            table.add_row(
                name,
                str(concurrency),
                f"{figures['calls_per_second']:.0f}",
                f"{ratio:.2f}",
                f"{figures['latency_p50_ms']:.3f}",
                f"{figures['latency_p99_ms']:.3f}",
                f"{figures['server_cpu_ms_per_call']:.3f}",
                f"{figures['client_cpu_ms_per_call']:.3f}",
            )
    console = Console()
    console.print(table)
    for concurrency in CONCURRENCIES:
        r = results[f"concurrency_{concurrency}"]["ratios"]
        console.print(
            f"concurrency {concurrency}: SQLite cost per call {r['sqlite_cost_per_call_over_memory']:.2f}x memory; "
            f"2 workers {r['sqlite_2_workers_throughput_over_1_worker']:.2f}x the throughput of 1 (SQLite)"
        )
    load = results["machine"]
    console.print(
        f"load average (1/5/15 min) {load['load_average_1_5_15_min_at_start']} at start, "
        f"{load['load_average_1_5_15_min_at_end']} at end; {load['cpus']} CPUs"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=6, help="rounds per concurrency (default: %(default)s)")
    parser.add_argument(
        "--round-seconds", type=float, default=1.0, help="each server's time in a round (default: %(default)s)"
    )
    parser.add_argument("--json", type=Path, help="write the results here")
    args = parser.parse_args()
    results = asyncio.run(run(args.rounds, args.round_seconds))
    print_table(results)
    if args.json:
        args.json.write_text(json.dumps(results, indent=2) + "\n")


if __name__ == "__main__":
    main()
