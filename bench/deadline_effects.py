"""Effects left by calls answered DEADLINE_EXCEEDED (RM-ERR-020), under load, memory and SQLite stores.

Workers send Routes with deadlines drawn between 15 and 100 ms to a router
whose fixture catalog gives the quota role a one-hour window that never fills,
so every stored decision reserves exactly one request of it. Each acknowledged
Route's outcome is reported with a short deadline as well. Afterwards:

- the quota's count of requests, read by one dry-run Route, minus the
  reservations of the Routes the router acknowledged, is the number of Routes that stored a decision and
  reserved quota although their caller was told DEADLINE_EXCEEDED;
- each outcome answered DEADLINE_EXCEEDED is sent again with its idempotency
  key and a long deadline: ``replayed`` says the first one was stored.

What remains is the race that no router can close (spec 11.3): the router
commits with time to spare, then its answer reaches the client after the
client's own timer fired. ``--deadline-margin`` sets the router's reserve.

    nice python bench/deadline_effects.py [--calls 2000] [--concurrency 48] [--json FILE]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import grpc
import yaml
from rich.console import Console
from rich.table import Table

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from rolemodel import AsyncRouterClient, ClientOptions, RetryPolicy
from rolemodel.errors import RoleModelError
from tests.requests import conversation, new_id, outcome, route
from tests.router.harness import FIXTURE, RouterProcess

ROLE = "x-conformance.quota"
QUOTA_ID = "fx-quota-window"
SHORTEST_S, LONGEST_S = 0.015, 0.100
ONE_TRY = ClientOptions(retry=RetryPolicy(max_attempts=1), timeout_s=30.0)


def catalog_with_a_long_window(directory: Path) -> Path:
    """The fixture catalog with the quota role's window made an hour long and too large to fill."""
    catalog: dict[str, Any] = yaml.safe_load(FIXTURE.read_text())
    for quota in catalog["policies"]["quotas"]:
        if quota["id"] == QUOTA_ID:
            quota.update(window_seconds=3600, max_requests=10_000_000)
    path = directory / "catalog.yaml"
    path.write_text(yaml.safe_dump(catalog))
    return path


@dataclass
class Tally:
    routes_acknowledged: int = 0
    reserved_by_acknowledged: int = 0  # the quota requests the acknowledged decisions say they reserved
    routes_deadline: int = 0
    outcomes_acknowledged: int = 0
    late_outcome_keys: list[tuple[str, str, str]] = field(default_factory=list)  # (decision, endpoint, key)
    errors: Counter[str] = field(default_factory=Counter)


def _name(error: RoleModelError) -> str:
    return error.reason.value if error.reason else error.code.name


def _deadline_exceeded(error: RoleModelError) -> bool:
    return error.code == grpc.StatusCode.DEADLINE_EXCEEDED


async def _one_call(client: AsyncRouterClient, rng: random.Random, tally: Tally) -> None:
    counts = [rng.randint(20, 400) for _ in range(rng.randint(1, 400))]
    request = route(ROLE, conversation(new_id("dl"), counts))
    try:
        decision = await client.route(request, timeout_s=rng.uniform(SHORTEST_S, LONGEST_S))
    except RoleModelError as error:
        if _deadline_exceeded(error):
            tally.routes_deadline += 1
        tally.errors[f"route {_name(error)}"] += 1
        return
    tally.routes_acknowledged += 1
    tally.reserved_by_acknowledged += sum(q.reserved.requests for q in decision.quota_states if q.quota_id == QUOTA_ID)
    report = outcome(decision.decision_id, decision.chosen_endpoint_id)
    try:
        await client.report_outcome(report, timeout_s=rng.uniform(SHORTEST_S, LONGEST_S))
    except RoleModelError as error:
        tally.errors[f"outcome {_name(error)}"] += 1
        if _deadline_exceeded(error):
            tally.late_outcome_keys.append((decision.decision_id, decision.chosen_endpoint_id, report.idempotency_key))
        return
    tally.outcomes_acknowledged += 1


async def _load(address: str, calls: int, concurrency: int, seed: int) -> Tally:
    tally = Tally()
    remaining = [calls]
    async with AsyncRouterClient(address, ONE_TRY) as client:

        async def worker(n: int) -> None:
            rng = random.Random(seed * 1000 + n)
            while remaining[0] > 0:
                remaining[0] -= 1
                await _one_call(client, rng, tally)

        await asyncio.gather(*(worker(n) for n in range(concurrency)))
    return tally


async def _effects(address: str, tally: Tally) -> tuple[int, int]:
    """(requests the quota counts, late outcomes that were stored anyway)."""
    async with AsyncRouterClient(address, ONE_TRY) as client:
        probe = await client.route(route(ROLE, conversation(new_id("probe"), [100]), dry_run=True))
        # ``used`` includes the probe's own reservation when it makes one; a dry run reserves nothing.
        used = next(q.used.requests - q.reserved.requests for q in probe.quota_states if q.quota_id == QUOTA_ID)
        stored = 0
        for decision_id, endpoint_id, key in tally.late_outcome_keys:
            again = await client.report_outcome(outcome(decision_id, endpoint_id, key=key))
            stored += int(again.replayed)
    return int(used), stored


def run_store(store: str, calls: int, concurrency: int, margin_s: float | None, seed: int) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as tmp:
        catalog = catalog_with_a_long_window(Path(tmp))
        state = "memory:" if store == "memory" else f"sqlite:///{Path(tmp) / 'router.db'}"
        extra = [] if margin_s is None else ["--deadline-margin", str(margin_s)]
        with RouterProcess(state, catalog=catalog, extra=extra, log_level="error", start_timeout_s=120) as router:
            began = time.monotonic()
            tally = asyncio.run(_load(router.address, calls, concurrency, seed))
            elapsed = time.monotonic() - began
            quota_requests, late_outcomes_stored = asyncio.run(_effects(router.address, tally))
    return {
        "store": store,
        "calls": calls,
        "concurrency": concurrency,
        "seconds": round(elapsed, 1),
        "routes_acknowledged": tally.routes_acknowledged,
        "routes_deadline_exceeded": tally.routes_deadline,
        "quota_requests_counted": quota_requests,
        "quota_requests_acknowledged": tally.reserved_by_acknowledged,
        "deadline_exceeded_routes_with_effects": quota_requests - tally.reserved_by_acknowledged,
        "outcomes_acknowledged": tally.outcomes_acknowledged,
        "outcomes_deadline_exceeded": len(tally.late_outcome_keys),
        "deadline_exceeded_outcomes_stored": late_outcomes_stored,
        "errors": dict(tally.errors),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--calls", type=int, default=2000, help="Routes per store")
    parser.add_argument("--concurrency", type=int, default=48)
    parser.add_argument("--stores", default="memory,sqlite")
    parser.add_argument("--deadline-margin", type=float, help="passed to the router (seconds); its default otherwise")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    load = os.getloadavg()
    results = [
        run_store(store, args.calls, args.concurrency, args.deadline_margin, args.seed)
        for store in args.stores.split(",")
    ]
    table = Table(title=f"Calls answered DEADLINE_EXCEEDED that left effects (load average {load[0]:.1f})")
    for column in ("store", "routes: ok", "deadline", "with effects", "outcomes: ok", "deadline", "stored"):
        table.add_column(column, justify="right")
    for r in results:
        table.add_row(
            r["store"],
            str(r["routes_acknowledged"]),
            str(r["routes_deadline_exceeded"]),
            str(r["deadline_exceeded_routes_with_effects"]),
            str(r["outcomes_acknowledged"]),
            str(r["outcomes_deadline_exceeded"]),
            str(r["deadline_exceeded_outcomes_stored"]),
        )
    Console().print(table)
    if args.json:
        payload = {"load_average_1m": load[0], "deadline_margin_s": args.deadline_margin, "runs": results}
        args.json.write_text(json.dumps(payload, indent=2) + "\n")


if __name__ == "__main__":
    main()
