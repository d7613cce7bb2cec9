"""Per-Route time against the conversation's length and the catalog's size, as ratios to the smallest.

Starts the reference router as a separate process on loopback (memory store, so that only the
decision's own work is measured) and sends Route calls one at a time over gRPC:

  * conversation length: 1, 10, 100 and 1,000 messages, with the messages included (content and
    digests, token counts left to the router's estimate) and by digest and token count only. Each
    measured call is the next turn of a conversation whose previous turn, two messages shorter,
    the router has already seen, as in an agent's session; the 1-message call has no previous turn.
    The previous turns are all sent before the timed calls start.
  * catalog size: 5, 50 and 500 endpoints, each catalog on a router of its own, in roles of five
    endpoints each (a ladder of three tiers); the requests use one role and a 10-message
    conversation by digest, so only the rest of the catalog grows. ``catalog`` asks for compact
    candidates (RouteRequest.compact_candidates, spec 6.1), ``catalog_full_candidates`` does not
    and gets every endpoint listed, costed and scored.

The messages are synthetic text of about 200 characters written here (alternating user and
assistant). Requests are serialized before timing starts and sent as bytes, so the client's own
serialization is not in the figures; the sizes are interleaved in every round, so that a change
in the machine's load touches all of them alike, in an order shuffled every round, each measured
call right after an untimed one; each conversation series has a router of its own. The figure per size is the median.

    python bench/scaling.py [--rounds 60] [--json FILE]

Goals (issue 16): a 1,000-message conversation costs at most 2x a 10-message one per Route with
the messages included; 500 endpoints cost at most 4x 5 endpoints. The machine is shared and
noisy: compare ratios measured in one run, not absolute numbers.
"""

from __future__ import annotations

import argparse
import asyncio
import copy
import gc
import json
import os
import platform
import random
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import grpc.aio
import yaml
from rich.console import Console
from rich.progress import Progress
from rich.table import Table

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.bench_catalog import BENCH_ROLE, bench_catalog, write_bench_catalog
from rolemodel import conversation_ref, text_message
from rolemodel.v1 import conversation_pb2, hints_pb2, router_service_pb2

METADATA = (("rolemodel-version", "1.0"),)
ROUTE = "/rolemodel.v1.RouterService/Route"
CONVERSATION_LENGTHS = (1, 10, 100, 1000)
CATALOG_SIZES = (5, 50, 500)
#: Messages a turn adds: the assistant's reply and the user's next message.
TURN_MESSAGES = 2
CATALOG_ROLE = "x-bench.scaling"
ROLE_SIZE = 5
CATALOG_CONVERSATION = 10
#: The order of the sizes is shuffled in every round, reproducibly.
SEED = 16
WARMUP_ROUNDS = 3

Send = Callable[[bytes], Awaitable[bytes]]


def history(count: int, seed: str) -> list[conversation_pb2.Message]:
    roles = ("user", "assistant")
    line = "Please look at the function below and tell me why the second test fails on CI. "
    return [text_message(roles[i % 2], f"{seed} message {i}: {line}{line}") for i in range(count)]


def route_bytes(
    conversation_id: str,
    messages: list[conversation_pb2.Message],
    *,
    included: bool,
    role: str,
    compact: bool = False,
) -> bytes:
    counts = None if included else [60 + (i % 7) * 10 for i in range(len(messages))]
    conversation = conversation_ref(conversation_id, messages, token_counts=counts, include_messages=included)
    hints = hints_pb2.RoutingHints(role=role, difficulty=0.3, expected_output_tokens=400)
    request = router_service_pb2.RouteRequest(conversation=conversation, hints=hints, compact_candidates=compact)
    return bytes(request.SerializeToString())


def scaled_catalog(endpoints: int) -> dict[str, Any]:
    """The bench catalog's models copied to ``endpoints`` endpoints, in roles of five endpoints each.

    Each role's ladder has three tiers over its own five endpoints, as a large catalog of many
    models serves many roles; the measured requests use the first role, so that only the catalog
    around it grows.
    """
    catalog = bench_catalog()
    models = catalog["endpoints"]
    copies = []
    for i in range(endpoints):
        endpoint = copy.deepcopy(models[i % len(models)])
        endpoint["id"] = f"e{i:03d}-{endpoint['id']}"
        endpoint.pop("role_quality", None)
        copies.append(endpoint)
    roles = []
    for r in range(0, endpoints, ROLE_SIZE):
        ids = [e["id"] for e in copies[r : r + ROLE_SIZE]]
        ladder = [{"endpoint_ids": ids[:2]}, {"endpoint_ids": ids[2:4], "min_difficulty": 0.4}]
        if ids[4:]:
            ladder.append({"endpoint_ids": ids[4:], "min_difficulty": 0.75})
        name = CATALOG_ROLE if r == 0 else f"{CATALOG_ROLE}-{r // ROLE_SIZE}"
        roles.append({"name": name, "ladder": ladder, "default_strategy": "STRATEGY_BALANCED"})
    catalog["endpoints"] = copies
    catalog["roles"] = roles
    catalog.pop("policies", None)  # quotas and rules name the original endpoints and roles
    return catalog


def start_router(catalog: Path) -> tuple[subprocess.Popen[str], str]:
    command = [
        sys.executable, "-m", "rolemodel_router.cli.main", "serve", "--catalog", str(catalog),
        "--listen", "127.0.0.1:0", "--state", "memory:", "--no-sample", "--log-level", "error",
    ]  # fmt: skip
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    line = process.stdout.readline() if process.stdout is not None else ""
    if " on " not in line:
        process.kill()
        raise RuntimeError(f"the router did not start: {line!r}")
    return process, line.split(" on ", 1)[1].split()[0]


def stop(process: subprocess.Popen[str]) -> None:
    process.terminate()
    process.wait()
    if process.stdout is not None:
        process.stdout.close()


def sender(channel: grpc.aio.Channel) -> Send:
    call: grpc.aio.UnaryUnaryMultiCallable[bytes, bytes] = channel.unary_unary(ROUTE)  # no serializers: bytes as given

    async def send(request: bytes) -> bytes:
        response: bytes = await call(request, metadata=METADATA)
        return response

    return send


async def timed(send: Send, request: bytes) -> float:
    begin = time.perf_counter()
    await send(request)
    return time.perf_counter() - begin


def summary(samples: dict[int, list[float]]) -> dict[str, dict[str, float]]:
    """size -> {us_per_route, ratio}, the ratio to the smallest size."""
    medians = {size: statistics.median(values) * 1e6 for size, values in samples.items()}
    smallest = medians[min(medians)]
    return {str(size): {"us_per_route": round(us, 1), "ratio": round(us / smallest, 2)} for size, us in medians.items()}


async def conversation_series(
    address: str, included: bool, rounds: int, progress: Progress
) -> dict[str, dict[str, float]]:
    """One conversation series on its own router, the lengths interleaved in every round.

    Every measured conversation's previous turn is sent first, all of them before any call is
    timed, so that the garbage of verifying a whole conversation once is not in a timed call.
    """
    samples: dict[int, list[float]] = {n: [] for n in CONVERSATION_LENGTHS}
    full = {n: history(n, f"len{n}") for n in CONVERSATION_LENGTHS}
    task = progress.add_task(f"conversation length, included={included}", total=rounds + WARMUP_ROUNDS)
    order = random.Random(SEED)
    ping = route_bytes(f"ping-{included}", full[1], included=included, role=BENCH_ROLE)
    async with grpc.aio.insecure_channel(address) as channel:
        send = sender(channel)
        calls: list[tuple[int, int, bytes]] = []
        for r in range(-WARMUP_ROUNDS, rounds):
            for n in CONVERSATION_LENGTHS:
                conversation_id = f"{included}-{n}-{r}-{os.getpid()}"
                if n > TURN_MESSAGES:
                    await send(
                        route_bytes(conversation_id, full[n][:-TURN_MESSAGES], included=included, role=BENCH_ROLE)
                    )
                calls.append((r, n, route_bytes(conversation_id, full[n], included=included, role=BENCH_ROLE)))
            progress.update(task, completed=r + WARMUP_ROUNDS + 1)
        progress.reset(task, total=rounds + WARMUP_ROUNDS)
        gc.collect()
        for r in range(-WARMUP_ROUNDS, rounds):
            this_round = [(n, request) for round_, n, request in calls if round_ == r]
            order.shuffle(this_round)  # no length is always the first of a round
            for n, request in this_round:
                await send(ping)
                seconds = await timed(send, request)
                if r >= 0:
                    samples[n].append(seconds)
            progress.update(task, completed=r + WARMUP_ROUNDS + 1)
    return summary(samples)


async def catalogs(tmp: Path, rounds: int, progress: Progress) -> dict[str, dict[str, dict[str, float]]]:
    """One router per catalog size, called in turn within every round, with compact candidates and without."""
    series = {"catalog": True, "catalog_full_candidates": False}
    routers = {}
    try:
        for size in CATALOG_SIZES:
            path = tmp / f"catalog-{size}.yaml"
            path.write_text(yaml.safe_dump(scaled_catalog(size), sort_keys=False))
            routers[size] = start_router(path)
        samples: dict[str, dict[int, list[float]]] = {name: {size: [] for size in CATALOG_SIZES} for name in series}
        messages = history(CATALOG_CONVERSATION, "catalog")
        task = progress.add_task("catalog size", total=rounds)  # counted again for the second series
        channels = {size: grpc.aio.insecure_channel(address) for size, (_, address) in routers.items()}
        try:
            sends = {size: sender(channel) for size, channel in channels.items()}
            order = random.Random(SEED)
            for name, compact in series.items():  # one series after the other: a router's garbage stays in its series
                for r in range(-WARMUP_ROUNDS, rounds):
                    gc.collect()
                    for size in order.sample(CATALOG_SIZES, len(CATALOG_SIZES)):
                        send = sends[size]
                        conversation_id = f"{name}-{size}-{r}"
                        previous = messages[:-TURN_MESSAGES]
                        await send(
                            route_bytes(conversation_id, previous, included=False, role=CATALOG_ROLE, compact=compact)
                        )
                        request = route_bytes(
                            conversation_id, messages, included=False, role=CATALOG_ROLE, compact=compact
                        )
                        seconds = await timed(send, request)
                        if r >= 0:
                            samples[name][size].append(seconds)
                    progress.update(task, completed=max(0, r + 1))
        finally:
            for channel in channels.values():
                await channel.close()
        return {name: summary(values) for name, values in samples.items()}
    finally:
        for process, _ in routers.values():
            stop(process)


async def run(rounds: int) -> dict[str, Any]:
    results: dict[str, Any] = {
        "machine": {
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "system": platform.platform(),
            "load_average_1m": round(os.getloadavg()[0], 2),
        },
        "rounds": rounds,
    }
    with tempfile.TemporaryDirectory() as tmp, Progress(transient=True) as progress:
        catalog = write_bench_catalog(Path(tmp) / "catalog.yaml")
        for name, included in (("conversation_included", True), ("conversation_digest_only", False)):
            router, address = start_router(catalog)  # a router per series: its garbage stays in its series
            try:
                results[name] = await conversation_series(address, included, rounds, progress)
            finally:
                stop(router)
        results.update(await catalogs(Path(tmp), rounds, progress))
    return results


def print_table(results: dict[str, Any]) -> None:
    table = Table(
        title=f"Per-Route time against size (median of {results['rounds']} calls each, ratios to the smallest)"
    )
    for column in ("series", "size", "us per Route", "ratio"):
        table.add_column(column, justify="right")
    for series, unit in (
        ("conversation_included", "messages"),
        ("conversation_digest_only", "messages"),
        ("catalog", "endpoints"),
        ("catalog_full_candidates", "endpoints"),
    ):
        for size, figures in results[series].items():
            table.add_row(series, f"{int(size):,} {unit}", f"{figures['us_per_route']:.0f}", f"{figures['ratio']:.2f}")
    Console().print(table)
    Console().print(f"load average (1 min) at the start: {results['machine']['load_average_1m']}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=60, help="measured calls per size (default: %(default)s)")
    parser.add_argument("--json", type=Path, help="write the results here")
    args = parser.parse_args()
    if args.rounds < 1:
        parser.error("--rounds must be at least 1")
    results = asyncio.run(run(args.rounds))
    print_table(results)
    if args.json:
        args.json.write_text(json.dumps(results, indent=2) + "\n")


if __name__ == "__main__":
    main()
