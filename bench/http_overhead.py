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

import sys
import tempfile
from pathlib import Path
from typing import Any

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.streaming_setup import (
    MODEL,
    Samples,
    TimedPath,
    chat_body,
    command_line,
    comparison,
    interleaved,
    report,
    start_backend,
    start_router,
    stop,
    timed_chat_stream,
)

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
            direct_url = f"{backend_url}/v1/chat/completions"
            front_url = f"{front_door_url(lines)}/v1/chat/completions"
            with httpx.Client(timeout=30.0) as client:
                paths: list[TimedPath] = [
                    (direct, lambda n: timed_chat_stream(client, direct_url, chat_body(MODEL, n))),
                    (front, lambda n: timed_chat_stream(client, front_url, chat_body(ALIAS, n))),
                ]
                interleaved(paths, requests, warmup)
        finally:
            stop(router, backend)
    return comparison(direct, front, "http", requests, TARGET_ADDED_TTFT_MS)


def show(results: dict[str, Any]) -> None:
    report(results, "http", "through the front door", "Streaming chat completions")


def main() -> None:
    command_line(__doc__ or "", measure, show)


if __name__ == "__main__":
    main()
