"""Time to first token and total time through Execute, against the scripted backend called directly.

Starts, as separate processes on loopback:
  * the scripted backend, whose one model streams the same answer (about 100 tokens in
    16-character pieces, no artificial delays) to every request;
  * the reference router (memory store) on a one-endpoint catalog whose endpoint is that model.
Then sends the same prompt, alternating, as a streaming Chat Completions request to the backend
(one keep-alive httpx client) and as an Execute call to the router (one gRPC channel). The time to
first token ends at the first piece of answer text; the total time at the end of the stream
(``[DONE]``, or Execute's ``completed`` event). What Execute adds is everything the router does:
validation, the decision (recorded), the handoff, the backend call, decoding and re-encoding the
stream, and recording the outcome.

    python bench/execute_overhead.py [--requests 300] [--json FILE]

Target (issue 6): at most 2 ms added to the time to first token at p50. The machine is shared and
noisy; the two paths are measured interleaved in one run so that they see the same noise.
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.streaming_setup import (
    MODEL,
    SYSTEM,
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
    user_text,
)
from rolemodel import ClientOptions, RetryPolicy, RouterClient
from rolemodel.v1 import conversation_pb2, hints_pb2, router_service_pb2

C = conversation_pb2
TARGET_ADDED_TTFT_MS = 2.0


def execute_request(n: int) -> router_service_pb2.ExecuteRequest:
    messages = [
        C.Message(role=C.MESSAGE_ROLE_SYSTEM, parts=[C.ContentPart(text=C.TextPart(text=SYSTEM))]),
        C.Message(role=C.MESSAGE_ROLE_USER, parts=[C.ContentPart(text=C.TextPart(text=user_text(n)))]),
    ]
    return router_service_pb2.ExecuteRequest(
        conversation=C.ConversationRef(
            conversation_id=f"bench-{os.getpid()}-{n}", messages=[C.MessageRef(message=m) for m in messages]
        ),
        hints=hints_pb2.RoutingHints(role="chat"),
    )


def timed_execute(client: RouterClient, request: router_service_pb2.ExecuteRequest) -> tuple[float, float]:
    """(time to the first delta with text, time to ``completed``), in milliseconds."""
    started = time.perf_counter()
    first = 0.0
    for event in client.execute(request, timeout_s=30.0):
        if not first and event.HasField("delta") and event.delta.text:
            first = (time.perf_counter() - started) * 1000
        elif event.HasField("completed"):
            return first, (time.perf_counter() - started) * 1000
        elif event.HasField("failed"):
            raise RuntimeError(f"Execute failed: {event.failed.detail}")
    raise RuntimeError("the Execute stream ended without completing")


def measure(requests: int, warmup: int) -> dict[str, Any]:
    direct, executed = Samples(), Samples()
    with tempfile.TemporaryDirectory() as tmp:
        backend, backend_url = start_backend(Path(tmp))
        router = None
        try:
            router, (line,) = start_router(Path(tmp), backend_url)
            address = line.split("serving on ", 1)[1].split()[0]
            options = ClientOptions(retry=RetryPolicy(max_attempts=1), timeout_s=30.0)
            with httpx.Client(timeout=30.0) as http, RouterClient(address, options) as client:
                url = f"{backend_url}/v1/chat/completions"
                paths: list[TimedPath] = [
                    (direct, lambda n: timed_chat_stream(http, url, chat_body(MODEL, n))),
                    (executed, lambda n: timed_execute(client, execute_request(n))),
                ]
                interleaved(paths, requests, warmup)
        finally:
            stop(router, backend)
    return comparison(direct, executed, "execute", requests, TARGET_ADDED_TTFT_MS)


def show(results: dict[str, Any]) -> None:
    report(results, "execute", "through Execute", "Streaming answers")


def main() -> None:
    command_line(__doc__ or "", measure, show)


if __name__ == "__main__":
    main()
