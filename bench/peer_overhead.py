"""Direct to the backend, through our front door, and through LiteLLM's proxy: one backend, one run.

Starts, as separate processes on loopback:
  * the scripted backend, whose one model streams the same answer (about 100 tokens in
    16-character pieces, no artificial delays) to every request;
  * the reference router with ``--http`` (memory store), on a one-endpoint catalog of that model;
  * a bare relay (``bench/bare_relay.py``): uvicorn and httpx, as the front door uses them,
    forwarding the bytes unread: the floor under any front door built on them in this Python;
  * LiteLLM's proxy (pinned, in its own virtual environment), with that model as its one
    deployment, offline: it reads its local cost map (``LITELLM_LOCAL_MODEL_COST_MAP=True``) and
    downloads nothing. Without it, the run measures direct against the front door and says so.
Then sends streaming Chat Completions requests of about 2,000 prompt tokens (the normative
estimate: a long coding-agent system prompt and a user turn with code) to all three, in 3 rounds.
In each round: requests at concurrency 1, alternating between the paths request by request;
then a block at concurrency 16 per path, in an order that rotates between rounds. The client
(``bench/stream_load.py``) is the same lean keep-alive client on every path.

    python bench/peer_overhead.py [--c1-requests 100] [--c16-requests 320] [--json FILE]

LiteLLM, once (about 1 GB, from PyPI):

    python3 -m venv bench/.litellm && bench/.litellm/bin/pip install 'litellm[proxy]==1.106.12'

Goals (issue 16): the front door serves at least 0.5 of direct throughput at concurrency 16; it
adds at most 2 ms to the time to first token at p50; LiteLLM adds at least 3 times what we add.
The machine is shared and noisy: quote the ratios of one run, with the load average it prints.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import yaml
from rich.console import Console
from rich.table import Table

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.stream_load import StreamingConnection, Timing
from bench.streaming_setup import MODEL, quantile, start_backend, start_router, stop
from rolemodel.tokens import estimate_text_tokens

HERE = Path(__file__).resolve().parent
LITELLM_VERSION = "1.106.12"
LITELLM_BIN = HERE / ".litellm" / "bin" / "litellm"
LITELLM_SETUP = f"python3 -m venv bench/.litellm && bench/.litellm/bin/pip install 'litellm[proxy]=={LITELLM_VERSION}'"
ALIAS = "rolemodel/chat"
PATHS = ("direct", "relay", "rolemodel", "litellm")
ROUNDS = 3
CONCURRENCY = 16
GOAL_C16_THROUGHPUT = 0.5
GOAL_ADDED_TTFT_MS = 2.0
GOAL_LITELLM_OVER_OURS = 3.0

RULES = [
    "Read the failing test before changing any code, and run it to see the failure yourself.",
    "Prefer the smallest change that fixes the cause; do not reformat code you did not touch.",
    "When a function grows past forty lines, split it by what each part decides, not by size.",
    "Every public function keeps its docstring in step with what it does after your change.",
    "Never swallow an exception: handle it where the caller can act, or let it propagate.",
    "Name things for what they mean in the domain, and keep abbreviations out of new names.",
    "Add a regression test that fails without your change and passes with it, then run all tests.",
    "Explain in the commit message why the change is needed, in one line a reviewer can follow.",
]
PARSER_CODE = '''
def parse_list(tokens: list[str], position: int) -> tuple[list[object], int]:
    """Parse a bracketed list starting at tokens[position] == "["; return the items and the next position."""
    items: list[object] = []
    position += 1
    while tokens[position] != "]":
        item, position = parse_value(tokens, position)
        items.append(item)
        if tokens[position] == ",":
            position += 1
        elif tokens[position] != "]":
            raise ParseError(f"expected ',' or ']' at {position}, got {tokens[position]!r}")
    return items, position + 1
'''


def system_prompt() -> str:
    """About 1,350 tokens: numbered rules for a coding agent, with the project's layout."""
    lines = [f"You are a careful coding agent working in repository number {i}." for i in range(3)]
    for i in range(7):
        lines += [f"{i + 1}.{j + 1} {rule}" for j, rule in enumerate(RULES)]
    return "\n".join(lines)


def user_prompt(n: int) -> str:
    """About 650 tokens: a request numbered ``n`` with the code it is about, and the failing output."""
    code = "\n".join(PARSER_CODE.replace("parse_list", f"parse_list_{k}") for k in range(4))
    return (
        f"Request {n}: the parser test fails on a trailing comma. Here is the module:\n```python\n{code}```\n"
        "The failing test:\n```\nFAILED tests/test_parser.py::test_trailing_comma - ParseError: expected ','\n```\n"
        "Fix it, and keep an empty list with a comma refused."
    )


def chat_body(model: str, n: int) -> bytes:
    messages = [{"role": "system", "content": system_prompt()}, {"role": "user", "content": user_prompt(n)}]
    return json.dumps({"model": model, "stream": True, "messages": messages}).encode()


def prompt_tokens() -> int:
    return estimate_text_tokens(system_prompt()) + estimate_text_tokens(user_prompt(0)) + 8


@dataclass
class PathResults:
    """What one path measured over all rounds."""

    c1: list[Timing] = field(default_factory=list)
    c1_busy_s: float = 0.0
    c16: list[Timing] = field(default_factory=list)
    c16_rps_rounds: list[float] = field(default_factory=list)
    c16_cpu_s: float = 0.0

    def summary(self) -> dict[str, Any]:
        c1_ttft = [t.ttft_ms for t in self.c1]
        return {
            "c1_ttft_p50_ms": round(statistics.median(c1_ttft), 3),
            "c1_ttft_p99_ms": round(quantile(c1_ttft, 0.99), 3),
            "c1_rps": round(len(self.c1) / self.c1_busy_s, 2),
            "c16_rps": round(statistics.median(self.c16_rps_rounds), 2),
            "c16_ttft_p50_ms": round(statistics.median(t.ttft_ms for t in self.c16), 3),
            "c1_total_p50_ms": round(statistics.median(t.total_ms for t in self.c1), 3),
            "c16_rps_rounds": [round(r, 2) for r in self.c16_rps_rounds],
            "c1_requests": len(self.c1),
            "c16_requests": len(self.c16),
            "c16_server_cpu_ms_per_request": round(1000 * self.c16_cpu_s / len(self.c16), 3) or None,
        }


@dataclass
class Target:
    """A path under test: the URL its clients POST to, and the model name it is asked for."""

    name: str
    url: str
    model: str
    #: The server process the path adds (the backend itself for ``direct``), whose CPU time is counted.
    pid: int | None = None
    results: PathResults = field(default_factory=PathResults)


def process_cpu_s(pid: int | None) -> float:
    """User and system CPU seconds of process ``pid`` and its children so far; 0 where /proc cannot tell.

    CPU per request is what decides throughput on a machine whose cores are all busy, and it moves
    much less with the other load than time does.
    """
    if pid is None:
        return 0.0
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    except OSError:
        return 0.0
    ticks = int(fields[11]) + int(fields[12])
    return ticks / os.sysconf("SC_CLK_TCK") + sum(process_cpu_s(int(child)) for child in children)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def start_litellm(directory: Path, backend_url: str) -> tuple[subprocess.Popen[bytes], str]:
    """LiteLLM's proxy with the scripted model as its one deployment; offline, no database, no callbacks.

    Without authentication, like the front door here: both serve loopback only, and neither pays for a key check.
    """
    config = {
        "model_list": [
            {
                "model_name": MODEL,
                "litellm_params": {"model": f"openai/{MODEL}", "api_base": f"{backend_url}/v1", "api_key": "none"},
            }
        ],
        "litellm_settings": {"telemetry": False, "drop_params": True},
        "general_settings": {"dangerously_permit_weak_or_unset_master_key": True},
    }
    path = directory / "litellm.yaml"
    path.write_text(yaml.safe_dump(config))
    port = free_port()
    env = {**os.environ, "LITELLM_LOCAL_MODEL_COST_MAP": "True", "LITELLM_LOG": "ERROR", "NO_DOCS": "True"}
    log = (directory / "litellm.log").open("wb")
    command = [str(LITELLM_BIN), "--config", str(path), "--host", "127.0.0.1", "--port", str(port)]
    process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, env=env)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if process.poll() is not None:
            last = (directory / "litellm.log").read_text(errors="replace").strip().splitlines()[-1:]
            raise RuntimeError(f"LiteLLM's proxy exited with {process.returncode}: {' '.join(last)}")
        try:
            if httpx.get(f"{url}/health/liveliness", timeout=1.0).status_code == 200:
                return process, url
        except httpx.HTTPError:
            pass
        time.sleep(0.5)
    process.kill()
    raise RuntimeError("LiteLLM's proxy did not answer within 120 s")


def start_relay(backend_url: str) -> tuple[subprocess.Popen[str], str]:
    """The bare relay in front of the backend; returns it and its URL."""
    process = subprocess.Popen(
        [sys.executable, str(HERE / "bare_relay.py"), backend_url], stdout=subprocess.PIPE, text=True
    )
    line = process.stdout.readline().strip() if process.stdout is not None else ""
    if not line.startswith("http://"):
        process.kill()
        raise RuntimeError(f"the bare relay did not start: {line!r}")
    return process, line


def litellm_version() -> str | None:
    """The installed LiteLLM's version, or None when its virtual environment is missing."""
    if not LITELLM_BIN.exists():
        return None
    python = LITELLM_BIN.parent / "python"
    done = subprocess.run(
        [str(python), "-c", "import importlib.metadata as m; print(m.version('litellm'))"],
        capture_output=True,
        text=True,
        check=False,
    )
    return done.stdout.strip() or None


async def run_rounds(paths: list[Target], c1_requests: int, c16_requests: int, warmup: int, rounds: int) -> None:
    """Warm every path, then ``rounds`` rounds of concurrency 1 (interleaved) and 16 (rotating blocks)."""
    singles = {p.name: StreamingConnection(p.url) for p in paths}
    pools = {p.name: [StreamingConnection(p.url) for _ in range(CONCURRENCY)] for p in paths}
    try:
        for path in paths:
            await asyncio.gather(*(conn.post(chat_body(path.model, i)) for i, conn in enumerate(pools[path.name])))
            for i in range(warmup):
                await singles[path.name].post(chat_body(path.model, i))
        n = 0
        for round_number in range(rounds):
            for i in range(c1_requests):
                order = paths[i % len(paths) :] + paths[: i % len(paths)]
                for path in order:
                    n += 1
                    timing = await singles[path.name].post(chat_body(path.model, n))
                    path.results.c1.append(timing)
                    path.results.c1_busy_s += timing.total_ms / 1000
            shift = round_number % len(paths)
            for path in paths[shift:] + paths[:shift]:
                per_connection = c16_requests // CONCURRENCY
                cpu_before = process_cpu_s(path.pid)
                started = time.perf_counter()
                timings = await asyncio.gather(
                    *(_burst(conn, path.model, per_connection, k * 100_000) for k, conn in enumerate(pools[path.name]))
                )
                elapsed = time.perf_counter() - started
                path.results.c16_cpu_s += process_cpu_s(path.pid) - cpu_before
                for batch in timings:
                    path.results.c16.extend(batch)
                path.results.c16_rps_rounds.append(per_connection * CONCURRENCY / elapsed)
            print(f"round {round_number + 1} of {rounds} done", file=sys.stderr)
    finally:
        for conn in [*singles.values(), *(c for pool in pools.values() for c in pool)]:
            await conn.close()


async def _burst(conn: StreamingConnection, model: str, count: int, offset: int) -> list[Timing]:
    return [await conn.post(chat_body(model, offset + i)) for i in range(count)]


def ratios(results: dict[str, Any]) -> dict[str, Any]:
    """The goals' ratios from one run's summaries."""
    direct, ours, peer = results["direct"], results["rolemodel"], results.get("litellm")
    added = ours["c1_ttft_p50_ms"] - direct["c1_ttft_p50_ms"]
    out: dict[str, Any] = {
        "rolemodel_added_ttft_p50_ms": round(added, 3),
        "rolemodel_c1_throughput_ratio": round(ours["c1_rps"] / direct["c1_rps"], 3),
        "rolemodel_c16_throughput_ratio": round(ours["c16_rps"] / direct["c16_rps"], 3),
    }
    relay = results.get("relay")
    if relay:
        out |= {
            "relay_added_ttft_p50_ms": round(relay["c1_ttft_p50_ms"] - direct["c1_ttft_p50_ms"], 3),
            "relay_c1_throughput_ratio": round(relay["c1_rps"] / direct["c1_rps"], 3),
            "relay_c16_throughput_ratio": round(relay["c16_rps"] / direct["c16_rps"], 3),
            "rolemodel_c16_throughput_over_relay": round(ours["c16_rps"] / relay["c16_rps"], 3),
        }
    if peer:
        peer_added = peer["c1_ttft_p50_ms"] - direct["c1_ttft_p50_ms"]
        out |= {
            "litellm_added_ttft_p50_ms": round(peer_added, 3),
            "litellm_c1_throughput_ratio": round(peer["c1_rps"] / direct["c1_rps"], 3),
            "litellm_c16_throughput_ratio": round(peer["c16_rps"] / direct["c16_rps"], 3),
            "litellm_added_over_ours": round(peer_added / added, 2) if added > 0 else None,
        }
    return out


def measure(args: argparse.Namespace, say: Callable[[str], None]) -> dict[str, Any]:
    version = litellm_version()
    if version is None:
        say(f"LiteLLM is not set up, so only direct and rolemodel are measured; to add it: {LITELLM_SETUP}")
    load_before = os.getloadavg()
    with tempfile.TemporaryDirectory() as tmp:
        directory = Path(tmp)
        backend, backend_url = start_backend(directory)
        router = litellm = relay = None
        try:
            router, lines = start_router(directory, backend_url, "--http", "127.0.0.1:0")
            front_url = lines[1].split("HTTP front door on ", 1)[1].split()[0]
            relay, relay_url = start_relay(backend_url)
            paths = [
                Target("direct", f"{backend_url}/v1/chat/completions", MODEL, backend.pid),
                Target("relay", f"{relay_url}/v1/chat/completions", MODEL, relay.pid),
                Target("rolemodel", f"{front_url}/v1/chat/completions", ALIAS, router.pid),
            ]
            if version is not None:
                litellm, litellm_url = start_litellm(directory, backend_url)
                paths.append(Target("litellm", f"{litellm_url}/v1/chat/completions", MODEL, litellm.pid))
            asyncio.run(run_rounds(paths, args.c1_requests, args.c16_requests, args.warmup, args.rounds))
        finally:
            if litellm is not None:
                litellm.terminate()
                litellm.wait(timeout=30)
            stop(relay, router, backend)
    results: dict[str, Any] = {p.name: p.results.summary() for p in paths}
    results.setdefault("litellm", None)
    results["ratios"] = ratios(results)
    results["setup"] = {
        "prompt_tokens_estimated": prompt_tokens(),
        "rounds": args.rounds,
        "c1_requests_per_round": args.c1_requests,
        "c16_requests_per_round": args.c16_requests,
        "litellm_version": version,
        "load_average_before": [round(x, 2) for x in load_before],
        "load_average_after": [round(x, 2) for x in os.getloadavg()],
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version(), "system": platform.platform()},
    }
    return results


def show(results: dict[str, Any], console: Console) -> None:
    setup = results["setup"]
    table = Table(
        title=f"Streaming Chat Completions, about {setup['prompt_tokens_estimated']} prompt tokens, "
        f"{setup['rounds']} interleaved rounds"
    )
    columns = ("c1_ttft_p50_ms", "c1_ttft_p99_ms", "c1_rps", "c16_rps", "c16_ttft_p50_ms")
    table.add_column("path")
    for column in ("c1 TTFT p50 ms", "c1 TTFT p99 ms", "c1 req/s", "c16 req/s", "c16 TTFT p50 ms", "CPU ms/req"):
        table.add_column(column, justify="right")
    for name in PATHS:
        row = results.get(name)
        if row:
            cpu = row["c16_server_cpu_ms_per_request"]
            table.add_row(name, *(f"{row[c]:.2f}" for c in columns), "-" if cpu is None else f"{cpu:.2f}")
    console.print(table)
    console.print("CPU ms/req: at c16, of the process the path adds (for direct, the backend itself)")
    r = results["ratios"]
    added, c16 = r["rolemodel_added_ttft_p50_ms"], r["rolemodel_c16_throughput_ratio"]
    c1 = r["rolemodel_c1_throughput_ratio"]
    console.print(
        f"rolemodel: {added:.2f} ms added TTFT at p50 (goal <= {GOAL_ADDED_TTFT_MS}); "
        f"{c16:.2f} of direct throughput at c16 (goal >= {GOAL_C16_THROUGHPUT}), {c1:.2f} at c1"
    )
    if "relay_added_ttft_p50_ms" in r:
        console.print(
            f"bare relay (uvicorn + httpx, bytes unread): {r['relay_added_ttft_p50_ms']:.2f} ms added TTFT at p50; "
            f"{r['relay_c16_throughput_ratio']:.2f} of direct throughput at c16, {r['relay_c1_throughput_ratio']:.2f} "
            f"at c1; rolemodel serves {r['rolemodel_c16_throughput_over_relay']:.2f} of the relay's at c16"
        )
    if "litellm_added_ttft_p50_ms" in r:
        console.print(
            f"litellm {setup['litellm_version']}: {r['litellm_added_ttft_p50_ms']:.2f} ms added TTFT at p50, "
            f"{r['litellm_added_over_ours']}x ours (goal >= {GOAL_LITELLM_OVER_OURS}); "
            f"{r['litellm_c16_throughput_ratio']:.2f} of direct throughput at c16, "
            f"{r['litellm_c1_throughput_ratio']:.2f} at c1"
        )
    before, after = setup["load_average_before"], setup["load_average_after"]
    console.print(f"load average before {before[0]:.2f}, after {after[0]:.2f} (1 min), on {os.cpu_count()} CPUs")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--c1-requests", type=int, default=100, help="per path per round (default: %(default)s)")
    parser.add_argument("--c16-requests", type=int, default=320, help="per path per round (default: %(default)s)")
    parser.add_argument("--warmup", type=int, default=20, help="unmeasured requests per path (default: %(default)s)")
    parser.add_argument("--rounds", type=int, default=ROUNDS, help="(default: %(default)s)")
    parser.add_argument("--json", type=Path, help="write the results here")
    args = parser.parse_args()
    if args.c16_requests < CONCURRENCY or min(args.c1_requests, args.rounds) < 1:
        parser.error(f"--c16-requests must be at least {CONCURRENCY}, --c1-requests and --rounds at least 1")
    console = Console()
    try:
        results = measure(args, lambda line: console.print(line, highlight=False))
    except (RuntimeError, OSError) as error:
        console.print(f"peer_overhead: {error}", highlight=False)
        raise SystemExit(1) from None
    show(results, console)
    if args.json:
        args.json.write_text(json.dumps(results, indent=2) + "\n")


if __name__ == "__main__":
    main()
