"""Slow-loris against the HTTP front door: do legitimate requests still get through?

Starts the reference router with ``--http`` as a process of its own, opens ``--slow`` connections that
each send one byte of a request header every ``--drip`` seconds, and meanwhile sends one legitimate
request (``GET /v1/models`` on a fresh connection) every 100 ms for ``--seconds``. It reports how many
legitimate requests succeeded and how fast, and how many slow connections the router closed and when.
With ``--compare`` it runs twice: with the default limits, and with them pushed out of reach (the
behaviour before the limits existed).

    python bench/slow_clients.py [--slow 1100] [--seconds 20] [--compare] [--json FILE]

Writes JSON with, per run: slow_connections, slow_opened, slow_closed_by_router, slow_closed_median_s,
legit_requests, legit_ok, legit_success_rate, legit_p50_ms, legit_p99_ms, and the limits used. The
router runs with a file-descriptor limit of 1,024, the bench itself with enough for its slow clients.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parents[1]
UNGUARDED = ["--http-header-timeout", "100000", "--http-body-timeout", "100000", "--http-max-connections", "100000"]


#: The router's file-descriptor limit, as on a stock Linux account; the slow clients alone exceed it.
ROUTER_FD_LIMIT = 1024


def _router_fd_limit() -> None:
    resource.setrlimit(resource.RLIMIT_NOFILE, (ROUTER_FD_LIMIT, resource.getrlimit(resource.RLIMIT_NOFILE)[1]))


def start_router(extra: list[str]) -> tuple[subprocess.Popen[str], str]:
    command = [
        sys.executable, "-m", "rolemodel_router.cli.main", "serve", "--state", "memory:", "--listen", "127.0.0.1:0",
        "--http", "127.0.0.1:0", "--no-sample", "--log-level", "error", *extra,
    ]  # fmt: skip
    process = subprocess.Popen(
        command,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        cwd=ROOT,
        preexec_fn=_router_fd_limit,  # noqa: PLW1509 - sets one rlimit, no locks involved
    )
    if process.stdout is None:
        raise RuntimeError("the router's output is not a pipe")
    process.stdout.readline()
    http_line = process.stdout.readline()
    return process, http_line.split("HTTP front door on ", 1)[1].split()[0]


async def drip(host: str, port: int, every_s: float, stop: asyncio.Event, closed_at: list[float]) -> bool:
    """One slow client; True when it got a connection. Appends when the router closed it."""
    started = time.monotonic()
    try:
        reader, writer = await asyncio.open_connection(host, port)
    except OSError:
        return False
    header = b"GET /v1/models HTTP/1.1\r\nHost: slow\r\nX-Slow: " + b"a" * 10_000
    for byte in header:
        try:
            writer.write(bytes([byte]))
            await writer.drain()
            if await asyncio.wait_for(reader.read(1), every_s) == b"":
                closed_at.append(time.monotonic() - started)
                break
        except TimeoutError:
            if stop.is_set():
                break
        except OSError:
            closed_at.append(time.monotonic() - started)
            break
    writer.close()
    return True


async def legit(url: str, seconds: float) -> list[float | None]:
    """Latencies in ms of one request every 100 ms (None for a failure)."""
    results: list[float | None] = []
    deadline = time.monotonic() + seconds
    async with httpx.AsyncClient(timeout=5.0, limits=httpx.Limits(max_keepalive_connections=0)) as client:
        while time.monotonic() < deadline:
            began = time.perf_counter()
            try:
                ok = (await client.get(f"{url}/v1/models")).status_code == 200
            except httpx.HTTPError:
                ok = False
            results.append((time.perf_counter() - began) * 1000 if ok else None)
            await asyncio.sleep(0.1)
    return results


async def attack(url: str, slow: int, drip_s: float, seconds: float) -> dict[str, Any]:
    host, port = url.removeprefix("http://").rsplit(":", 1)
    stop = asyncio.Event()
    closed_at: list[float] = []
    drips = [asyncio.create_task(drip(host, int(port), drip_s, stop, closed_at)) for _ in range(slow)]
    await asyncio.sleep(1.0)  # let the slow clients connect first
    results = await legit(url, seconds)
    stop.set()
    opened = sum(await asyncio.gather(*drips))
    ok = sorted(r for r in results if r is not None)
    return {
        "slow_connections": slow,
        "slow_opened": opened,
        "slow_closed_by_router": len(closed_at),
        "slow_closed_median_s": round(statistics.median(closed_at), 2) if closed_at else None,
        "legit_requests": len(results),
        "legit_ok": len(ok),
        "legit_success_rate": round(len(ok) / len(results), 4) if results else 0.0,
        "legit_p50_ms": round(ok[len(ok) // 2], 2) if ok else None,
        "legit_p99_ms": round(ok[min(len(ok) - 1, int(len(ok) * 0.99))], 2) if ok else None,
    }


def run(name: str, extra: list[str], args: argparse.Namespace) -> dict[str, Any]:
    process, url = start_router(extra)
    try:
        result = asyncio.run(attack(url, args.slow, args.drip, args.seconds))
    finally:
        process.terminate()
        process.wait(timeout=30)
    return {"run": name, "router_options": extra, **result}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--slow", type=int, default=1100, help="slow connections (default: %(default)s)")
    parser.add_argument("--drip", type=float, default=5.0, help="seconds between their bytes (default: %(default)s)")
    parser.add_argument("--seconds", type=float, default=20.0, help="how long to measure (default: %(default)s)")
    parser.add_argument("--compare", action="store_true", help="also run with the limits out of reach")
    parser.add_argument("--json", type=Path, help="write the results here")
    args = parser.parse_args()
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (max(soft, min(hard, args.slow + 512)), hard))
    runs = [run("default limits", [], args)]
    if args.compare:
        runs.append(run("limits out of reach", UNGUARDED, args))
    print(f"{'run':22} {'slow':>5} {'closed':>6} {'closed at':>9} {'legit ok':>9} {'p50 ms':>8} {'p99 ms':>8}")
    for r in runs:
        print(
            f"{r['run']:22} {r['slow_opened']:>5} {r['slow_closed_by_router']:>6} {r['slow_closed_median_s']!s:>9} "
            f"{r['legit_ok']:>4}/{r['legit_requests']:<4} {r['legit_p50_ms']!s:>8} {r['legit_p99_ms']!s:>8}"
        )
    if args.json:
        args.json.write_text(json.dumps({"benchmark": "slow_clients", "runs": runs}, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
