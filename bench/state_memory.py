"""What the router keeps in memory per conversation and per long Route, and that its caps hold.

Runs the reference router's core in this process (no transport: only what the router keeps is
measured) on the conformance fixture catalog, and measures with ``tracemalloc`` the bytes still
allocated after a garbage collection:

  * ``per_conversation``: many one-turn conversations (two short messages each, by content), with
    the memory store; the bytes per conversation, with the memo of verified prefixes and without
    it (the memo is a bounded cache, ``recent_prefixes``).
  * ``per_long_route``: Routes of 4,096 messages, each a conversation of its own, by content; the
    bytes each keeps in the store (its conversation and its decision) and in the memo.
  * ``capped``: 40,000 one-turn conversations against a router that keeps at most
    ``--cap-conversations`` conversations (the other caps at their defaults): the conversations kept
    stay at the cap, the least recently used evicted, while every decision is kept for its outcome.

    python bench/state_memory.py [--conversations 4000] [--long-routes 8] [--json FILE]

Issue 17 (finding 7) measured about 1.2 KB per conversation and 371 KB per 4,096-message Route,
kept for 24 to 48 hours. The machine is shared: the figures are bytes allocated by Python, which
do not move with its load, but the load average is printed for the record.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import os
import sys
import time
import tracemalloc
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from rolemodel import text_message
from rolemodel.digest import digest_chain
from rolemodel.v1 import conversation_pb2, hints_pb2, router_service_pb2
from rolemodel_router.config.catalog_loader import load_catalog
from rolemodel_router.core import RouterCore
from rolemodel_router.engine.catalog_index import CatalogIndex
from rolemodel_router.engine.errors import RouterError
from rolemodel_router.recent_prefixes import RecentPrefixes
from rolemodel_router.state.in_process import InProcessStore
from rolemodel_router.state.store import Retention

ROOT = Path(__file__).resolve().parents[1]
FIXTURE = ROOT / "conformance" / "fixtures" / "catalog.yaml"
LONG_MESSAGES = 4096
CAPPED_CONVERSATIONS = 40_000


def request(conversation_id: str, messages: list[conversation_pb2.Message]) -> router_service_pb2.RouteRequest:
    refs = [
        conversation_pb2.MessageRef(digest=digest, message=message)
        for message, digest in zip(messages, digest_chain(messages), strict=True)
    ]
    conv = conversation_pb2.ConversationRef(conversation_id=conversation_id, turn_index=len(messages), messages=refs)
    return router_service_pb2.RouteRequest(conversation=conv, hints=hints_pb2.RoutingHints(role="chat"))


def short_request(i: int) -> router_service_pb2.RouteRequest:
    return request(
        f"conversation-{i:06d}",
        [text_message("user", f"Question {i}: why does the second test fail?"), text_message("assistant", "Look.")],
    )


def long_request(i: int, messages: int = LONG_MESSAGES) -> router_service_pb2.RouteRequest:
    line = "Please look at the function below and tell me why the test fails. "
    roles = ("user", "assistant")
    return request(f"long-{i:03d}", [text_message(roles[m % 2], f"{i}/{m}: {line}") for m in range(messages)])


def allocated() -> int:
    gc.collect()
    return tracemalloc.get_traced_memory()[0]


def make_core(retention: Retention | None = None) -> RouterCore:
    index = CatalogIndex(load_catalog(FIXTURE))
    return RouterCore(index, InProcessStore(retention, index.quotas), prefixes=RecentPrefixes())


def measure(core: RouterCore, requests: list[router_service_pb2.RouteRequest]) -> dict[str, int]:
    """Route each request once; what stays allocated, in total and with the memo emptied."""
    refused = 0

    async def run() -> None:
        nonlocal refused
        for r in requests:
            try:
                await core.route(core.validate_route(r, r.SerializeToString()))
            except RouterError:
                refused += 1

    tracemalloc.start()  # only the calls are traced: loading the catalog and estimators is not measured
    try:
        before = allocated()
        asyncio.run(run())
        with_memo = allocated() - before
        memo = core.prefixes.memory_bytes
        core.prefixes = RecentPrefixes()
        without_memo = allocated() - before
    finally:
        tracemalloc.stop()
    return {"with_memo": with_memo, "without_memo": without_memo, "memo_estimate": memo, "refused": refused}


def per_conversation(count: int) -> dict[str, Any]:
    requests = [short_request(i) for i in range(count)]
    core = make_core()
    got = measure(core, requests)
    return {
        "conversations": count,
        "bytes_per_conversation": got["without_memo"] / count,
        "bytes_per_conversation_with_memo": got["with_memo"] / count,
    }


def per_long_route(count: int, messages: int = LONG_MESSAGES) -> dict[str, Any]:
    requests = [long_request(i, messages) for i in range(count)]
    core = make_core()
    got = measure(core, requests)
    return {
        "routes": count,
        "messages": messages,
        "bytes_per_route": got["without_memo"] / count,
        "bytes_per_route_with_memo": got["with_memo"] / count,
    }


def capped(count: int, cap: int) -> dict[str, Any]:
    """``count`` one-turn conversations against caps of ``cap``: what is kept, evicted, refused, and held."""
    core = make_core(caps_retention(cap))
    got = measure(core, [short_request(i) for i in range(count)])
    store = core.store
    if not isinstance(store, InProcessStore):
        raise TypeError("the capped run needs an in-process store")
    return {
        "conversations_sent": count,
        "cap": cap,
        "conversations_kept": len(store.conversations),
        "decisions_kept": len(store.decisions),
        "conversations_evicted": store.conversation_caps.counters.evictions,
        "refused": got["refused"],
        "bytes_held": got["without_memo"],
        "bytes_per_kept_conversation": got["without_memo"] / max(1, len(store.conversations)),
    }


def caps_retention(cap: int) -> Retention:
    """The default caps but ``cap`` conversations: every Route is decided, and the conversations are evicted."""
    return Retention(max_conversations=cap)


def load_average() -> str:
    one, five, _ = os.getloadavg()
    return f"{one:.1f} (1 min), {five:.1f} (5 min) on {os.cpu_count()} cores"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--conversations", type=int, default=4000, help="one-turn conversations to measure")
    parser.add_argument("--long-routes", type=int, default=8, help="long Routes to measure")
    parser.add_argument("--long-messages", type=int, default=LONG_MESSAGES, help="messages in each long Route")
    parser.add_argument(
        "--capped", type=int, default=CAPPED_CONVERSATIONS, help="conversations sent to the capped router"
    )
    parser.add_argument("--cap-conversations", type=int, default=10_000, help="the capped router's caps")
    parser.add_argument("--json", type=Path, help="write the results here")
    args = parser.parse_args(argv)
    started = time.monotonic()
    results: dict[str, Any] = {
        "per_conversation": per_conversation(args.conversations),
        "per_long_route": per_long_route(args.long_routes, args.long_messages),
        "capped": capped(args.capped, args.cap_conversations),
        "load_average": load_average(),
        "seconds": 0.0,
    }
    results["seconds"] = round(time.monotonic() - started, 1)
    table = Table(title="What the router keeps (tracemalloc, after gc)")
    table.add_column("measure")
    table.add_column("value", justify="right")
    conv, long, cap = results["per_conversation"], results["per_long_route"], results["capped"]
    table.add_row("bytes per one-turn conversation (store)", f"{conv['bytes_per_conversation']:,.0f}")
    table.add_row("  with the memo of verified prefixes", f"{conv['bytes_per_conversation_with_memo']:,.0f}")
    table.add_row(f"bytes per {long['messages']:,}-message Route (store)", f"{long['bytes_per_route']:,.0f}")
    table.add_row("  with the memo of verified prefixes", f"{long['bytes_per_route_with_memo']:,.0f}")
    sent = f"{cap['conversations_sent']:,} conversations, cap {cap['cap']:,}"
    table.add_row(f"{sent}: conversations kept", f"{cap['conversations_kept']:,}")
    table.add_row("  conversations evicted", f"{cap['conversations_evicted']:,}")
    table.add_row("  decisions kept", f"{cap['decisions_kept']:,}")
    table.add_row("  refused", f"{cap['refused']:,}")
    table.add_row("  bytes held (store)", f"{cap['bytes_held']:,}")
    console = Console()
    console.print(table)
    console.print(f"load average {results['load_average']}; {results['seconds']} s")
    if args.json:
        args.json.write_text(json.dumps(results, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
