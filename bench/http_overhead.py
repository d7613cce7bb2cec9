"""Time to first token and total time through the HTTP front door, against the scripted backend called directly.

Starts, as separate processes on loopback:
  * the scripted backend, whose one model streams the same answer (about 100 tokens in
    16-character pieces, no artificial delays) to every request;
  * the reference router with ``--http``, on a one-endpoint catalog whose endpoint is that model.
Then sends the same streaming Chat Completions requests, alternating, to the backend directly and
to the front door (model ``rolemodel/chat``), with one keep-alive HTTP client, and reads each SSE
stream line by line. The time to first token ends at the first chunk that carries answer text;
the total time at ``data: [DONE]``. What the front door adds is everything the router does for a
request: parsing, deciding (and recording the decision), the handoff, the call to the backend,
decoding its stream and encoding it again, and recording the outcome.

    python bench/http_overhead.py [--requests 300] [--json FILE]

Target (issue 9): at most 3 ms added to the time to first token at p50. The machine is shared and
noisy; the two paths are measured interleaved in one run so that they see the same noise.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import tempfile
from pathlib import Path
from typing import Any

import httpx
from rich.console import Console
from rich.progress import Progress
from rich.table import Table

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.streaming_setup import MODEL, Samples, chat_body, start_backend, start_router, stop, timed_chat_stream

ALIAS = "rolemodel/chat"
TARGET_ADDED_TTFT_MS = 3.0


def front_door_url(router_lines: list[str]) -> str:
    """The front door's base URL, from the router's second line of output."""
    return router_lines[1].split("HTTP front door on ", 1)[1].split()[0]


def measure(requests: int, warmup: int) -> dict[str, Any]:
    direct, front = Samples(), Samples()
    with tempfile.TemporaryDirectory() as tmp:
        backend, backend_url = start_backend(Path(tmp))
        router = None
        try:
            router, lines = start_router(Path(tmp), backend_url, "--http", "127.0.0.1:0")
            paths = (
                (direct, f"{backend_url}/v1/chat/completions", MODEL),
                (front, f"{front_door_url(lines)}/v1/chat/completions", ALIAS),
            )
            with httpx.Client(timeout=30.0) as client, Progress(transient=True) as progress:
                task = progress.add_task("streaming requests", total=(warmup + requests) * 2)
                for n in range(warmup + requests):
                    for samples, url, model in paths if n % 2 else reversed(paths):
                        ttft, total = timed_chat_stream(client, url, chat_body(model, n))
                        if n >= warmup:
                            samples.add(ttft, total)
                        progress.advance(task)
        finally:
            stop(router, backend)
    d, h = direct.summary(), front.summary()
    return {
        "direct_ttft_p50_ms": d["ttft_p50_ms"],
        "http_ttft_p50_ms": h["ttft_p50_ms"],
        "added_ttft_p50_ms": round(h["ttft_p50_ms"] - d["ttft_p50_ms"], 3),
        "direct_total_p50_ms": d["total_p50_ms"],
        "http_total_p50_ms": h["total_p50_ms"],
        "direct_ttft_p90_ms": d["ttft_p90_ms"],
        "http_ttft_p90_ms": h["ttft_p90_ms"],
        "direct_total_p90_ms": d["total_p90_ms"],
        "http_total_p90_ms": h["total_p90_ms"],
        "requests_per_path": requests,
        "target_added_ttft_p50_ms": TARGET_ADDED_TTFT_MS,
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version(), "system": platform.platform()},
    }


def report(results: dict[str, Any]) -> None:
    table = Table(title=f"Streaming chat completions, {results['requests_per_path']} per path, interleaved")
    for column in ("path", "TTFT p50 ms", "TTFT p90 ms", "total p50 ms", "total p90 ms"):
        table.add_column(column, justify="right" if column != "path" else "left")
    for label, key in (("backend, direct", "direct"), ("front door", "http")):
        table.add_row(
            label, *(f"{results[f'{key}_{m}_ms']:.3f}" for m in ("ttft_p50", "ttft_p90", "total_p50", "total_p90"))
        )
    console = Console()
    console.print(table)
    added = results["added_ttft_p50_ms"]
    verdict = "within" if added <= TARGET_ADDED_TTFT_MS else "MISSES"
    console.print(f"added time to first token at p50: {added:.3f} ms, {verdict} the {TARGET_ADDED_TTFT_MS} ms target")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--requests", type=int, default=300, help="measured requests per path (default: %(default)s)")
    parser.add_argument(
        "--warmup", type=int, default=30, help="unmeasured requests per path first (default: %(default)s)"
    )
    parser.add_argument("--json", type=Path, help="write the results here")
    args = parser.parse_args()
    results = measure(args.requests, args.warmup)
    report(results)
    if args.json:
        args.json.write_text(json.dumps(results, indent=2) + "\n")


if __name__ == "__main__":
    main()
