"""What the streaming-overhead benchmarks share: one scripted model, a router in front of it, samples.

``bench/execute_overhead.py`` and ``bench/http_overhead.py`` both compare a path through the router
with calling the scripted backend directly; they must stream the same answer, to the same prompt,
from the same kind of backend process, or the comparison means nothing. This module is that
common ground.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import yaml
from rich.console import Console
from rich.progress import Progress
from rich.table import Table

MODEL = "bench-model"
ENDPOINT = "bench"
ANSWER = (
    "The failing test expects the parser to accept a trailing comma. The grammar rejects it because "
    "the list rule ends at the last element. Allow an optional comma before the closing bracket, and "
    "add a test for an empty list with a comma, which must still be refused. Nothing else changes."
)
SYSTEM = "You are a careful coding agent. " * 60  # about 500 tokens of a system prompt


def user_text(n: int) -> str:
    return f"Request {n}: the parser test fails on a trailing comma. Fix it."


def quantile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


@dataclass
class Samples:
    ttft_ms: list[float] = field(default_factory=list)
    total_ms: list[float] = field(default_factory=list)

    def add(self, ttft_ms: float, total_ms: float) -> None:
        self.ttft_ms.append(ttft_ms)
        self.total_ms.append(total_ms)

    def summary(self) -> dict[str, float]:
        return {
            "ttft_p50_ms": round(statistics.median(self.ttft_ms), 3),
            "ttft_p90_ms": round(quantile(self.ttft_ms, 0.9), 3),
            "total_p50_ms": round(statistics.median(self.total_ms), 3),
            "total_p90_ms": round(quantile(self.total_ms, 0.9), 3),
        }


def catalog(base_url: str) -> dict[str, Any]:
    """One free, uncached, local endpoint on the scripted model, the only one of role chat."""
    return {
        "name": "streaming-overhead",
        "endpoints": [
            {
                "id": ENDPOINT,
                "provider_kind": "PROVIDER_KIND_OPENAI_COMPATIBLE",
                "model": MODEL,
                "locality": "LOCALITY_LOCAL",
                "capabilities": ["CAPABILITY_STREAMING", "CAPABILITY_TOOLS"],
                "context_window_tokens": 32768,
                "max_output_tokens": 4096,
                "pricing": {"currency": "USD", "input_per_mtok": "0", "output_per_mtok": "0"},
                "caching": {"mode": "CACHE_MODE_NONE"},
                "connection": {"base_url": f"{base_url}/v1", "api_dialect": "API_DIALECT_OPENAI_CHAT"},
            }
        ],
        "roles": [{"name": "chat", "ladder": [{"endpoint_ids": [ENDPOINT]}], "default_strategy": "STRATEGY_COST"}],
    }


def start(command: list[str], lines: int) -> tuple[subprocess.Popen[str], list[str]]:
    """Start a server and read its first ``lines`` lines of output, which hold its addresses."""
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    stdout = process.stdout
    read = [stdout.readline() for _ in range(lines)] if stdout is not None else []
    if len(read) < lines or not all(read):
        process.kill()
        raise RuntimeError(f"server did not start: {read!r}")
    return process, read


def start_backend(directory: Path) -> tuple[subprocess.Popen[str], str]:
    """The scripted backend as its own process; its one model streams ANSWER in 16-character pieces."""
    script = directory / "script.json"
    reply = {"text": ANSWER, "chunk_chars": 16}
    script.write_text(json.dumps({"models": {MODEL: {"cache": "none", "default": reply}}}))
    command = [sys.executable, "-m", "rolemodel_router.backends.scripted", "--script", str(script)]
    process, (line,) = start(command, 1)
    return process, line.strip()


def start_router(directory: Path, backend_url: str, *extra: str) -> tuple[subprocess.Popen[str], list[str]]:
    """The reference router on :func:`catalog`; returns its lines of output that name addresses."""
    path = directory / "catalog.yaml"
    path.write_text(yaml.safe_dump(catalog(backend_url)))
    command = [
        sys.executable, "-m", "rolemodel_router.cli.main", "serve", "--catalog", str(path),
        "--listen", "127.0.0.1:0", "--state", "memory:", "--no-sample", "--log-level", "error", *extra,
    ]  # fmt: skip
    return start(command, 2 if "--http" in extra else 1)


def stop(*processes: subprocess.Popen[str] | None) -> None:
    for process in processes:
        if process is not None:
            process.terminate()
            process.wait(timeout=30)
            if process.stdout is not None:
                process.stdout.close()


def chat_body(model: str, n: int) -> dict[str, Any]:
    return {
        "model": model,
        "stream": True,
        "messages": [{"role": "system", "content": SYSTEM}, {"role": "user", "content": user_text(n)}],
    }


def timed_chat_stream(client: httpx.Client, url: str, payload: dict[str, Any]) -> tuple[float, float]:
    """(time to the first chunk with answer text, time to ``[DONE]``), in milliseconds."""
    started = time.perf_counter()
    first = 0.0
    with client.stream("POST", url, json=payload) as response:
        response.raise_for_status()
        for line in response.iter_lines():
            if not line.startswith("data: "):
                continue
            data = line[6:]
            if data == "[DONE]":
                return first, (time.perf_counter() - started) * 1000
            if not first:
                chunk = json.loads(data)
                choices = chunk.get("choices") or [{}]
                if choices[0].get("delta", {}).get("content"):
                    first = (time.perf_counter() - started) * 1000
    raise RuntimeError(f"the stream from {url} ended without [DONE]")


#: A path under test: where its samples go, and one timed request (request number -> TTFT, total).
TimedPath = tuple[Samples, Callable[[int], tuple[float, float]]]


def interleaved(paths: list[TimedPath], requests: int, warmup: int) -> None:
    """Alternates the paths request by request (and which goes first), so that both see the same noise."""
    with Progress(transient=True) as progress:
        task = progress.add_task("streaming requests", total=(warmup + requests) * len(paths))
        for n in range(warmup + requests):
            for samples, call in paths if n % 2 else reversed(paths):
                ttft, total = call(n)
                if n >= warmup:
                    samples.add(ttft, total)
                progress.advance(task)


def comparison(direct: Samples, routed: Samples, key: str, requests: int, target_ms: float) -> dict[str, Any]:
    """The results document: ``direct_*`` and ``<key>_*`` percentiles, the added TTFT, the target, the machine."""
    d, r = direct.summary(), routed.summary()
    results: dict[str, Any] = {
        "direct_ttft_p50_ms": d["ttft_p50_ms"],
        f"{key}_ttft_p50_ms": r["ttft_p50_ms"],
        "added_ttft_p50_ms": round(r["ttft_p50_ms"] - d["ttft_p50_ms"], 3),
        "direct_total_p50_ms": d["total_p50_ms"],
        f"{key}_total_p50_ms": r["total_p50_ms"],
    }
    for name in ("ttft_p90_ms", "total_p90_ms"):
        results[f"direct_{name}"] = d[name]
        results[f"{key}_{name}"] = r[name]
    results["requests_per_path"] = requests
    results["target_added_ttft_p50_ms"] = target_ms
    results["machine"] = {"cpus": os.cpu_count(), "python": platform.python_version(), "system": platform.platform()}
    return results


def report(results: dict[str, Any], key: str, label: str, title: str) -> None:
    table = Table(title=f"{title}, {results['requests_per_path']} per path, interleaved")
    for column in ("path", "TTFT p50 ms", "TTFT p90 ms", "total p50 ms", "total p90 ms"):
        table.add_column(column, justify="right" if column != "path" else "left")
    for name, prefix in (("scripted backend, direct", "direct"), (label, key)):
        table.add_row(
            name, *(f"{results[f'{prefix}_{m}_ms']:.3f}" for m in ("ttft_p50", "ttft_p90", "total_p50", "total_p90"))
        )
    console = Console()
    console.print(table)
    added, target = results["added_ttft_p50_ms"], results["target_added_ttft_p50_ms"]
    verdict = "within" if added <= target else "MISSES"
    console.print(f"added time to first token at p50: {added:.3f} ms, {verdict} the {target} ms target")


def command_line(
    description: str, measure: Callable[[int, int], dict[str, Any]], show: Callable[[dict[str, Any]], None]
) -> None:
    """The benchmarks' shared command line: --requests, --warmup, --json."""
    parser = argparse.ArgumentParser(description=description, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--requests", type=int, default=300, help="measured requests per path (default: %(default)s)")
    parser.add_argument(
        "--warmup", type=int, default=30, help="unmeasured requests per path first (default: %(default)s)"
    )
    parser.add_argument("--json", type=Path, help="write the results here")
    args = parser.parse_args()
    results = measure(args.requests, args.warmup)
    show(results)
    if args.json:
        args.json.write_text(json.dumps(results, indent=2) + "\n")
