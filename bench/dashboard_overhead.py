"""What the dashboard costs the router, and how its read API and page hold up with 10,000 decisions.

Starts two reference routers on the 8-endpoint bench catalog with the memory store, as separate
processes on loopback: one without the dashboard, one with ``--ui`` and a poller in this process
that asks the read API what an open page asks, once a second. Then:

1. Route throughput and latency, the two routers measured alternately (ABBA rounds, so both see
   the same noise) at concurrency 1 and 32. The throughput ratio is routes per second with the
   dashboard over routes per second without it. On a shared machine that ratio swings with the
   other load, so the router processes' own CPU time per Route is measured too (from /proc): the
   CPU ratio is CPU per route without the dashboard over CPU per route with it, which is the
   throughput ratio a CPU-bound router would see.
2. With 10,000 decisions held (the view's bound): the read API's answer times (the overview, the
   first full page of decisions, an incremental poll, a conversation's timeline) and the
   router's memory against the router without the dashboard after the same calls.
3. With Debian's chromium (skipped when absent): the page's time to show 10,000 decisions, and
   the time a filter takes to apply.

    python bench/dashboard_overhead.py [--seconds 4] [--rounds 2] [--no-page] [--json FILE]

Target (issue 20): the feed must not cost Route throughput noticeably; the page stays responsive
with 10,000 decisions. The machine is shared and noisy: compare ratios from one run.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import grpc.aio
import httpx
from playwright.sync_api import sync_playwright
from rich.console import Console
from rich.progress import Progress
from rich.table import Table

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.bench_catalog import BENCH_ROLE, write_bench_catalog
from bench.route_overhead import METADATA, drive
from bench.workload import conversation_request
from rolemodel.v1 import router_service_pb2_grpc

HELD = 10_000
SLOW_POLL_S = 5.0
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"


@contextlib.contextmanager
def router(catalog: Path, *extra: str) -> Iterator[tuple[subprocess.Popen[str], str, str]]:
    """A router process; yields it, its gRPC address and its dashboard's base URL (empty without one)."""
    command = [
        sys.executable, "-m", "rolemodel_router.cli.main", "serve", "--catalog", str(catalog),
        "--listen", "127.0.0.1:0", "--state", "memory:", "--no-sample", "--log-level", "error", *extra,
    ]  # fmt: skip
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    if process.stdout is None:
        raise RuntimeError("no stdout")
    address = process.stdout.readline().split(" on ", 1)[1].split()[0]
    ui = ""
    if "--ui" in extra:
        ui = process.stdout.readline().split("dashboard at ", 1)[1].strip().removesuffix("/ui/")
    try:
        yield process, address, ui
    finally:
        process.terminate()
        process.wait()


def cpu_seconds(pid: int) -> float:
    """User plus system CPU time of a process so far: robust to the other load on a shared machine."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


@contextlib.asynccontextmanager
async def open_page_poller(base: str, enabled: bool = True) -> AsyncIterator[None]:
    """Asks the read API what an open page asks (dashboard-ui/src/main.js), for as long as the block runs."""
    if not enabled:
        yield
        return

    async def poll() -> None:
        rev, slow_at = 0, 0.0
        async with httpx.AsyncClient(base_url=f"{base}/ui/api/v1", timeout=10) as client:
            while True:
                overview = (await client.get("overview")).json()
                if time.monotonic() - slow_at > SLOW_POLL_S:
                    for path in ("quotas", "endpoints", "conversations"):
                        await client.get(path)
                    slow_at = time.monotonic()
                more = overview["rev"] > rev
                while more:
                    page = (await client.get("decisions", params={"after": rev, "limit": 2500})).json()
                    rev, more = page["next_after"], page["more"]
                await asyncio.sleep(1.0)

    task = asyncio.create_task(poll())
    try:
        yield
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


async def fill(address: str, count: int) -> None:
    """Route ``count`` decisions over 500 conversations, 32 at a time."""
    async with grpc.aio.insecure_channel(address) as channel:
        stub = router_service_pb2_grpc.RouterServiceStub(channel)
        turns: dict[int, int] = {}
        queue = iter(range(count))

        async def worker() -> None:
            for n in queue:
                conversation = n % 500
                turn = turns.get(conversation, 0)
                turns[conversation] = turn + 1
                request = conversation_request(f"fill-{conversation}", messages=20, turn=turn, role=BENCH_ROLE)
                await stub.Route(request, metadata=METADATA)

        await asyncio.gather(*(worker() for _ in range(32)))


def api_times(base: str) -> dict[str, float]:
    """p50 milliseconds of the read API's answers, 15 calls each."""
    with httpx.Client(base_url=f"{base}/ui/api/v1", timeout=30) as client:
        overview = client.get("overview").json()
        conversation = client.get("conversations", params={"limit": 1}).json()["conversations"][0]["conversation"]
        calls = {
            "overview": ("overview", {}),
            "decisions_all": ("decisions", {}),
            "decisions_poll": ("decisions", {"after": overview["rev"] - 50}),
            "timeline": (f"conversations/{conversation}", {}),
        }
        times = {}
        for name, (path, params) in calls.items():
            samples = []
            for _ in range(15):
                begin = time.perf_counter()
                client.get(path, params=params).raise_for_status()
                samples.append((time.perf_counter() - begin) * 1000)
            times[f"{name}_p50_ms"] = round(statistics.median(samples), 2)
        times["decisions_held"] = overview["decisions_held"]
    return times


def page_times(base: str) -> dict[str, float] | None:
    """Milliseconds for the page to show every decision held, and to apply a filter and clear it."""
    if not Path(CHROMIUM).is_file():
        return None

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        begin = time.perf_counter()
        page.goto(f"{base}/ui/")
        page.wait_for_function(f"document.querySelector('[data-testid=decisions-shown]')?.dataset.count == {HELD}")
        loaded = (time.perf_counter() - begin) * 1000
        endpoint = page.get_attribute("[data-decision-id]", "data-endpoint")
        filters = []
        for _ in range(5):
            begin = time.perf_counter()
            page.select_option("#filter-endpoint", endpoint)
            page.wait_for_function(f"document.querySelector('[data-testid=decisions-shown]').dataset.count < {HELD}")
            page.select_option("#filter-endpoint", "")
            page.wait_for_function(f"document.querySelector('[data-testid=decisions-shown]').dataset.count == {HELD}")
            filters.append((time.perf_counter() - begin) * 1000 / 2)
        rows = page.locator("[data-decision-id]").count()
        browser.close()
    return {"load_10k_ms": round(loaded), "filter_p50_ms": round(statistics.median(filters), 1), "rows_in_dom": rows}


async def run(seconds: float, rounds: int, page_open: bool) -> dict[str, Any]:
    results: dict[str, Any] = {
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version(), "system": platform.platform()},
        "page_open_during_routes": page_open,
    }
    with tempfile.TemporaryDirectory() as tmp:
        catalog = write_bench_catalog(Path(tmp) / "catalog.yaml")
        with (
            router(catalog) as (plain, plain_address, _),
            router(catalog, "--ui", "127.0.0.1:0") as (dash, address, ui),
        ):
            async with open_page_poller(ui, page_open):
                with Progress(transient=True) as progress:
                    pids = {"without": plain.pid, "with": dash.pid}
                    for concurrency in (1, 32):
                        totals: dict[str, list[dict[str, float]]] = {"without": [], "with": []}
                        cpu = {"without": 0.0, "with": 0.0}
                        for n in range(rounds):
                            order = [("without", plain_address), ("with", address)]
                            for label, target in order if n % 2 == 0 else order[::-1]:
                                before = cpu_seconds(pids[label])
                                totals[label].append(await drive(target, concurrency, seconds, label, progress))
                                cpu[label] += cpu_seconds(pids[label]) - before
                        calls = {label: sum(r["calls"] for r in runs) for label, runs in totals.items()}
                        cpu_us = {label: cpu[label] / calls[label] * 1e6 for label in cpu}
                        results[f"concurrency_{concurrency}"] = {
                            "rps_without": round(statistics.fmean(r["rps"] for r in totals["without"]), 1),
                            "rps_with": round(statistics.fmean(r["rps"] for r in totals["with"]), 1),
                            "throughput_ratio": round(calls["with"] / calls["without"], 3),
                            "p50_ms_without": round(statistics.median(r["p50_ms"] for r in totals["without"]), 3),
                            "p50_ms_with": round(statistics.median(r["p50_ms"] for r in totals["with"]), 3),
                            "cpu_us_per_route_without": round(cpu_us["without"]),
                            "cpu_us_per_route_with": round(cpu_us["with"]),
                            "cpu_ratio": round(cpu_us["without"] / cpu_us["with"], 3),
                        }
                held = httpx.get(f"{ui}/ui/api/v1/overview", timeout=10).json()["decisions_held"]
                await fill(address, max(0, HELD - held) + 500)
                await fill(plain_address, max(0, HELD - held) + 500)
                await asyncio.sleep(1.0)
            results["api"] = api_times(ui)
            results["memory_mb"] = {"without": round(rss_mb(plain.pid), 1), "with": round(rss_mb(dash.pid), 1)}
            results["page"] = await asyncio.to_thread(page_times, ui)
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=4.0, help="measurement time per cell (default: %(default)s)")
    parser.add_argument("--rounds", type=int, default=2, help="alternations per concurrency (default: %(default)s)")
    parser.add_argument(
        "--no-page", action="store_true", help="measure the feed alone, with nobody reading the dashboard"
    )
    parser.add_argument("--json", type=Path, help="write the results here")
    args = parser.parse_args()
    results = asyncio.run(run(args.seconds, args.rounds, not args.no_page))
    table = Table(title="Route with the dashboard's feed and an open page, against the same router without")
    columns = ["concurrency", "rps without", "rps with", "ratio", "p50 ms without", "p50 ms with"]
    columns += ["CPU µs/route without", "CPU µs/route with", "CPU ratio"]
    for column in columns:
        table.add_column(column, justify="right")
    for concurrency in (1, 32):
        r = results[f"concurrency_{concurrency}"]
        table.add_row(
            str(concurrency), f"{r['rps_without']:.0f}", f"{r['rps_with']:.0f}", f"{r['throughput_ratio']:.3f}",
            f"{r['p50_ms_without']:.3f}", f"{r['p50_ms_with']:.3f}",
            str(r["cpu_us_per_route_without"]), str(r["cpu_us_per_route_with"]), f"{r['cpu_ratio']:.3f}",
        )  # fmt: skip
    console = Console()
    console.print(table)
    held = Table(title=f"With {results['api']['decisions_held']:,} decisions held")
    held.add_column("what")
    held.add_column("value", justify="right")
    for key, value in results["api"].items():
        held.add_row(key, str(value))
    for key, value in results["memory_mb"].items():
        held.add_row(f"router RSS MB, {key} dashboard", str(value))
    for key, value in (results["page"] or {"page": "skipped: no chromium"}).items():
        held.add_row(key, str(value))
    console.print(held)
    if args.json:
        args.json.write_text(json.dumps(results, indent=2) + "\n")


if __name__ == "__main__":
    main()
