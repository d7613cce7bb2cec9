"""In-process decision latency: validation and the engine, without gRPC or a store.

The input is the one bench/route_overhead.py sends: a catalog of eight
endpoints and a conversation of 50 messages given by digest and token count,
with two endpoints already holding most of it in their caches.

    python bench/engine_latency.py [--iterations 20000] [--json FILE]

Prints a table of p50/p99/mean in microseconds per stage and writes JSON.
Target (issue 3): p50 of the decision at most 100 us.
"""

from __future__ import annotations

import argparse
import gc
import json
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

from rich.console import Console
from rich.progress import Progress
from rich.table import Table

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.bench_catalog import BENCH_ROLE, bench_catalog
from bench.workload import conversation_request
from rolemodel_router.config.catalog_loader import parse_catalog
from rolemodel_router.engine.catalog_index import CatalogIndex
from rolemodel_router.engine.decide import decide
from rolemodel_router.engine.difficulty import HeuristicEstimator
from rolemodel_router.engine.limits import Limits
from rolemodel_router.engine.plans import RouteSnapshot
from rolemodel_router.engine.route_input import build_route_input
from rolemodel_router.state.model import CACHE_REPORTED, CacheEntry, ConversationState


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def measure(fn: Callable[[], object], iterations: int, progress: Progress, label: str) -> dict[str, float]:
    for _ in range(min(1000, iterations)):
        fn()
    samples = []
    task = progress.add_task(label, total=iterations)
    gc.collect()
    for i in range(iterations):
        start = time.perf_counter_ns()
        fn()
        samples.append((time.perf_counter_ns() - start) / 1000)
        if i % 500 == 0:
            progress.update(task, completed=i)
    progress.update(task, completed=iterations)
    return {
        "p50_us": round(_percentile(samples, 0.5), 2),
        "p99_us": round(_percentile(samples, 0.99), 2),
        "mean_us": round(statistics.fmean(samples), 2),
    }


def stages() -> dict[str, Callable[[], object]]:
    """The three stages measured, each a call on the same prepared input: validate, decide, both."""
    index = CatalogIndex(parse_catalog(bench_catalog(), "bench"))
    request = conversation_request("bench-conversation", messages=50, turn=25, role=BENCH_ROLE)
    limits = Limits()
    route_input = build_route_input(request, index, limits)
    now = 1_800_000_000_000
    held = route_input.digests[:48]
    cache = {
        e: CacheEntry(held, route_input.cumulative_tokens[47], 300, now + 200_000, CACHE_REPORTED, "d0", now - 60_000)
        for e in ("gpt-5", "deepseek-chat")
    }
    state = ConversationState("bench-conversation", "gpt-5", "d0", cache, {}, {}, now - 60_000)
    snapshot = RouteSnapshot(state, {}, {}, None, None)
    estimator = HeuristicEstimator()
    return {
        "validate": lambda: build_route_input(request, index, limits),
        "decide": lambda: decide(index, snapshot, route_input, now, "d1", estimator),
        "validate_and_decide": lambda: decide(
            index, snapshot, build_route_input(request, index, limits), now, "d1", estimator
        ),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--iterations", type=int, default=20_000)
    parser.add_argument("--json", type=Path, help="write the results here")
    args = parser.parse_args()

    with Progress(transient=True) as progress:
        results = {name: measure(fn, args.iterations, progress, name) for name, fn in stages().items()}
    table = Table(title=f"In-process decision latency ({args.iterations} iterations, 8 endpoints, 50 messages)")
    for column in ("stage", "p50 us", "p99 us", "mean us"):
        table.add_column(column, justify="right")
    for stage, figures in results.items():
        table.add_row(stage, f"{figures['p50_us']:.1f}", f"{figures['p99_us']:.1f}", f"{figures['mean_us']:.1f}")
    Console().print(table)
    if args.json:
        args.json.write_text(json.dumps({"iterations": args.iterations, **results}, indent=2) + "\n")


if __name__ == "__main__":
    main()
