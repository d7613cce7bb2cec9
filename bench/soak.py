"""A bounded soak: a mixed workload of many conversations against a router on loopback.

Workers run conversations of 3 to 8 turns on the conformance fixture
catalog: each turn routes a main request (chore or chat), reports its
outcome (mostly successes, some failed checks that escalate, a few rate
limits), and now and then a side request with its outcome. Conversation
state is configured to expire quickly (seconds, not hours) and the router
prunes often, so that the run shows whether memory stays flat once stale
state has gone. The router uses the SQLite store, the embedded default.

    python bench/soak.py [--seconds 60] [--workers 16] [--json FILE]

Reports throughput, Route latency percentiles, errors by reason, and the
router's resident memory sampled every 1,000 conversations, with its growth
per 10,000 conversations once stale state has begun to expire.
Targets (issue 7): no errors but expected ones; flat memory once stale
conversation state has expired.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.progress import Progress
from rich.table import Table

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.fuzz_wire import rss_mb
from rolemodel import AsyncRouterClient, ClientOptions, RetryPolicy
from rolemodel.errors import RoleModelError
from rolemodel.v1 import common_pb2, decision_pb2, hints_pb2, outcome_pb2
from tests.requests import conversation, route
from tests.router.harness import RouterProcess

CLASSES = (
    [common_pb2.OUTCOME_CLASS_SUCCESS] * 16
    + [common_pb2.OUTCOME_CLASS_TASK_FAILED] * 3
    + [common_pb2.OUTCOME_CLASS_RATE_LIMITED]
)
SAMPLE_EVERY = 1_000
#: Seconds after which stale state has begun to expire (5 s idle, 10 s decisions, 2 s sweeps): growth is measured after.
WARM_S = 20.0


@dataclass
class Tally:
    conversations: int = 0
    routes: int = 0
    outcomes: int = 0
    side_requests: int = 0
    latencies: list[float] = field(default_factory=list)
    errors: Counter[str] = field(default_factory=Counter)
    rss_samples: list[tuple[float, int, float]] = field(default_factory=list)  # (seconds, conversations, MB)


async def one_conversation(client: AsyncRouterClient, rng: random.Random, number: int, tally: Tally) -> None:
    conv_id = f"soak-{number}-{rng.getrandbits(40):x}"
    counts: list[int] = []
    for turn in range(rng.randint(3, 8)):
        counts += [rng.randint(50, 2000), rng.randint(20, 400)]
        request = route(
            rng.choice(["chore", "chat"]), conversation(conv_id, counts, turn_index=turn), difficulty=rng.random()
        )
        started = time.perf_counter()
        try:
            decision = await client.route(request)
        except RoleModelError as error:
            tally.errors[_classify(error)] += 1
            continue
        tally.latencies.append(time.perf_counter() - started)
        tally.routes += 1
        await _report(client, decision.decision_id, decision.chosen_endpoint_id, rng, tally)
        if rng.random() < 0.15:
            side = route(
                "summarize", conversation(conv_id, counts, turn_index=turn), side_request=hints_pb2.SideRequest()
            )
            try:
                side_decision = await client.route(side)
            except RoleModelError as error:
                tally.errors[_classify(error)] += 1
                continue
            tally.side_requests += 1
            await _report(client, side_decision.decision_id, side_decision.chosen_endpoint_id, rng, tally)


def _classify(error: RoleModelError) -> str:
    """Name an error, marking the ones the workload provokes on purpose as expected.

    The workload reports some rate limits; three in a row put an endpoint into
    a short cooldown, and a role whose endpoints are all cooling down has
    nothing eligible for a few seconds. That refusal is the router working.
    """
    name = error.reason.value if error.reason else error.code.name
    decision = error.decision
    if name == "NO_ELIGIBLE_ENDPOINT" and decision is not None:
        unhealthy = decision_pb2.EXCLUSION_CODE_UNHEALTHY
        if any(e.code == unhealthy for c in decision.candidates for e in c.exclusions):
            return "expected: NO_ELIGIBLE_ENDPOINT during a cooldown"
    return name


async def _report(client: AsyncRouterClient, decision_id: str, endpoint: str, rng: random.Random, tally: Tally) -> None:
    outcome = outcome_pb2.Outcome(
        decision_id=decision_id,
        served_endpoint_id=endpoint,
        outcome_class=rng.choice(CLASSES),
        usage=outcome_pb2.Usage(input_tokens=rng.randint(100, 4000), output_tokens=rng.randint(10, 400)),
        ttft_ms=rng.randint(100, 900),
        idempotency_key=f"{decision_id}-k",
    )
    try:
        await client.report_outcome(outcome)
        tally.outcomes += 1
    except RoleModelError as error:
        tally.errors[error.reason.value if error.reason else error.code.name] += 1


async def soak(address: str, pid: int, seconds: float, workers: int, progress: Progress) -> Tally:
    tally = Tally()
    deadline = time.monotonic() + seconds
    task = progress.add_task("soaking", total=seconds)
    started = time.monotonic()
    async with AsyncRouterClient(address, ClientOptions(retry=RetryPolicy(max_attempts=1))) as client:

        async def worker(n: int) -> None:
            rng = random.Random(n)
            while time.monotonic() < deadline:
                number = tally.conversations
                tally.conversations += 1
                if number and number % SAMPLE_EVERY == 0:
                    tally.rss_samples.append((round(time.monotonic() - started, 1), number, round(rss_mb(pid), 1)))
                await one_conversation(client, rng, number, tally)
                progress.update(task, completed=min(seconds, time.monotonic() - started))

        await asyncio.gather(*(worker(n) for n in range(workers)))
    return tally


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000 if ordered else 0.0


def run(seconds: float, workers: int, show_progress: bool = True) -> dict[str, Any]:
    retention = [
        "--conversation-idle-hours",
        str(5 / 3600),
        "--decision-retention-hours",
        str(10 / 3600),
        "--prune-every",
        "2",
    ]
    with (
        tempfile.TemporaryDirectory() as tmp,
        RouterProcess(f"sqlite:///{Path(tmp) / 'soak.db'}", extra=retention, log_level="error") as router,
    ):
        if router.process is None:
            raise RuntimeError("the router did not start")
        pid = router.process.pid
        rss_start = rss_mb(pid)
        with Progress(transient=True, disable=not show_progress) as progress:
            began = time.monotonic()
            tally = asyncio.run(soak(router.address, pid, seconds, workers, progress))
            elapsed = time.monotonic() - began
        rss_end = rss_mb(pid)
        alive = router.process.poll() is None
    warm = [sample for sample in tally.rss_samples if sample[0] >= WARM_S]
    growth = None
    if len(warm) >= 2 and warm[-1][1] > warm[0][1]:
        growth = round((warm[-1][2] - warm[0][2]) / (warm[-1][1] - warm[0][1]) * 10_000, 2)
    return {
        "duration_s": round(elapsed, 1),
        "workers": workers,
        "conversations": tally.conversations,
        "routes": tally.routes,
        "outcomes": tally.outcomes,
        "side_requests": tally.side_requests,
        "throughput_calls_per_s": round((tally.routes + tally.outcomes + tally.side_requests) / elapsed, 1),
        "route_p50_ms": round(_percentile(tally.latencies, 0.5), 3),
        "route_p99_ms": round(_percentile(tally.latencies, 0.99), 3),
        "route_p999_ms": round(_percentile(tally.latencies, 0.999), 3),
        "errors": dict(tally.errors),
        "unexpected_errors": sum(n for name, n in tally.errors.items() if not name.startswith("expected")),
        "rss_start_mb": round(rss_start, 1),
        "rss_end_mb": round(rss_end, 1),
        "rss_samples_s_conversations_mb": tally.rss_samples,
        "rss_growth_per_10k_conversations_after_warmup_mb": growth,
        "router_alive": alive,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--workers", type=int, default=16)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    result = run(args.seconds, args.workers)
    table = Table(title=f"Soak: {result['duration_s']} s, {result['workers']} workers, SQLite store")
    table.add_column("measure")
    table.add_column("value", justify="right")
    for key, value in result.items():
        table.add_row(key, json.dumps(value) if isinstance(value, (list, dict)) else str(value))
    Console().print(table)
    if args.json:
        args.json.write_text(json.dumps(result, indent=2) + "\n")


if __name__ == "__main__":
    main()
