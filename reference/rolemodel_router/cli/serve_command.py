"""`rolemodel serve` and `rolemodel check-catalog`."""

from __future__ import annotations

import argparse
import asyncio
import sys

from rolemodel import AsyncRouterClient, conversation_ref, text_message
from rolemodel.v1 import hints_pb2, router_service_pb2
from rolemodel_router.cli.render import console, decision_text
from rolemodel_router.config.catalog_loader import CatalogError, default_catalog_path, load_catalog
from rolemodel_router.engine.limits import Limits
from rolemodel_router.server import logs
from rolemodel_router.server.app import RunningRouter, ServeSettings, serve
from rolemodel_router.state.factory import StateUrlError, default_state_url
from rolemodel_router.state.sqlite import StoreLockedError
from rolemodel_router.state.store import Retention

EXIT_BAD_CONFIG = 2


async def _sample(address: str) -> None:
    """A dry-run decision through the real gRPC path, so a new user sees what a decision holds."""
    request = router_service_pb2.RouteRequest(
        conversation=conversation_ref(
            "sample-conversation",
            [
                text_message("system", "You are a careful coding agent."),
                text_message("user", "Run the linters and fix what they report."),
            ],
            include_messages=True,
        ),
        hints=hints_pb2.RoutingHints(role="chore"),
        dry_run=True,
    )
    async with AsyncRouterClient(address) as client:
        decision = await client.route(request)
    out = console()
    out.print("\nA sample decision (dry run, nothing recorded):", style="bold")
    out.print(decision_text(decision))
    out.print(f"\nAsk for your own: rolemodel route --target {address} --role chore --text 'run the tests'\n")


def run(args: argparse.Namespace) -> int:
    logs.configure(args.log_level)
    settings = ServeSettings(
        catalog=args.catalog or default_catalog_path(),
        listen=args.listen,
        state_url=args.state or default_state_url(),
        grace_s=args.grace,
        limits=Limits(max_request_bytes=args.max_request_bytes, max_messages=args.max_messages),
        retention=Retention(conversation_idle_ms=int(args.conversation_idle_hours * 3_600_000)),
        redis_namespace=args.redis_namespace,
        outage_policy=args.state_outage,
    )

    def ready(router: RunningRouter) -> None:
        print(
            f"rolemodel router serving on {router.address} "
            f"(catalog '{router.core.index.catalog.name}', {len(router.core.index.endpoints)} endpoints, "
            f"state {settings.state_url})",
            flush=True,
        )
        if not args.no_sample:
            asyncio.get_running_loop().create_task(_sample(router.address))

    try:
        return asyncio.run(serve(settings, ready))
    except CatalogError as error:
        print(error, file=sys.stderr)
        return EXIT_BAD_CONFIG
    except (StateUrlError, StoreLockedError, OSError) as error:
        print(f"rolemodel serve: {error}", file=sys.stderr)
        return EXIT_BAD_CONFIG


def check_catalog(args: argparse.Namespace) -> int:
    try:
        loaded = load_catalog(args.catalog)
    except CatalogError as error:
        print(error, file=sys.stderr)
        return EXIT_BAD_CONFIG
    catalog = loaded.catalog
    summary = f"{len(catalog.endpoints)} endpoints, {len(catalog.roles)} roles, digest {loaded.digest[:16]}"
    print(f"{args.catalog}: valid: {summary}")
    return 0
