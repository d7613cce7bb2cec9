"""``rolemodel demo``: start the backends and the router, play the session, keep serving."""

from __future__ import annotations

import argparse
import asyncio
import json
import secrets
import signal
import sys
import tempfile
from pathlib import Path

from rolemodel import AsyncRouterClient, ClientOptions, RetryPolicy
from rolemodel.cli_help import ArgumentParser
from rolemodel_router.cli.render import command_name, console, decision_text
from rolemodel_router.demo.backends import endpoint_names, running_backends
from rolemodel_router.demo.client_config import client_configs, render_client_configs
from rolemodel_router.demo.conversation import TURNS
from rolemodel_router.demo.render import as_json, print_turn, summary_table
from rolemodel_router.demo.session import Session
from rolemodel_router.server import logs
from rolemodel_router.server.app import ServeSettings, start_router
from rolemodel_router.state.factory import StateUrlError, describe_state_url
from rolemodel_router.state.sqlite import StoreOpenError


async def _until_stopped() -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    await stop.wait()


async def _demo(args: argparse.Namespace, directory: Path) -> int:
    out = console()
    with running_backends(directory) as backends:
        settings = ServeSettings(
            catalog=backends.catalog_path,
            listen=args.listen,
            state_url=args.state,
            ui_listen=args.ui or None,
            http_listen=args.http,
        )
        router = await start_router(settings)
        http_url = router.http_url
        names = endpoint_names(router.core.index.catalog)
        try:
            if not args.json:
                out.print(
                    f"rolemodel router serving on {router.address} "
                    f"(catalog '{router.core.index.catalog.name}', {len(names)} endpoints, "
                    f"state {describe_state_url(args.state)})\n"
                    f"scripted backends stand in for the models: local server {backends.local.base_url}, "
                    f"cloud providers {backends.cloud.base_url}\n"
                    + (f"dashboard at {router.ui_url}\n" if router.ui_url else "")
                )
            options = ClientOptions(retry=RetryPolicy(max_attempts=1), timeout_s=60.0)
            async with AsyncRouterClient(router.address, options) as client:
                session = Session(client, backends, secrets.token_hex(4))
                results = []
                for number, turn in enumerate(TURNS, start=1):
                    result = await session.play(number, turn)
                    results.append(result)
                    if args.json:
                        continue
                    if number == 1:
                        out.print("[bold]Sample decision[/bold] (what `rolemodel route` explains for any request):")
                        out.print(decision_text(result.decision))
                    print_turn(out, result, names)
            if args.json:
                document: dict[str, object] = {
                    "address": router.address,
                    "dashboard": router.ui_url,
                    "turns": as_json(results),
                }
                if http_url:
                    document["http"] = http_url
                    document["clients"] = {c.client: "\n".join(c.lines) for c in client_configs(http_url)}
                print(json.dumps(document, indent=2))
            else:
                out.print(summary_table(results))
                if http_url:
                    out.print("\n" + render_client_configs(http_url), markup=False, highlight=False, soft_wrap=True)
            if not args.once:
                notice = console(stderr=True) if args.json else out
                notice.print(
                    f"\nThe router keeps serving on {router.address} with the scripted backends. Try\n"
                    f"  {command_name()} route --target {router.address} --role chat --text 'hello'\n"
                    f"  {command_name()} card --target {router.address}\n"
                    + (f"and open the dashboard at {router.ui_url}\n" if router.ui_url else "")
                    + "Ctrl-C stops it."
                )
                await _until_stopped()
        finally:
            await router.stop(grace_s=5.0)
    return 0


def run(args: argparse.Namespace) -> int:
    logs.configure(args.log_level)
    with tempfile.TemporaryDirectory(prefix="rolemodel-demo-") as directory:
        try:
            return asyncio.run(_demo(args, Path(directory)))
        except (OSError, StateUrlError, StoreOpenError) as error:
            print(f"rolemodel demo: {error}", file=sys.stderr)
            return 1


def add_parser(sub: argparse._SubParsersAction[ArgumentParser]) -> None:
    demo = sub.add_parser(
        "demo",
        help="serve the router on the example catalog with scripted models, and play a session through Execute",
        description="Serve the reference router on the bundled example catalog, with two scripted backends "
        "standing in for the models (a local server and the cloud providers, each in its real wire dialect, "
        "with prompt caching), then play a short session through Execute: a chat, a coding agent's plan, a "
        "failed chore that escalates, and a fallback. Each turn shows the endpoint, the reasons, the cached "
        "tokens and the cost. The router keeps serving afterwards until Ctrl-C, unless --once.",
    )
    demo.add_argument("--listen", default="127.0.0.1:50051", help="HOST:PORT for the router")
    demo.add_argument(
        "--ui",
        default="127.0.0.1:50052",
        metavar="HOST:PORT",
        help="serve the dashboard there (an empty value turns it off)",
    )
    demo.add_argument("--state", default="memory:", help="state store URL, as for serve")
    demo.add_argument(
        "--http",
        nargs="?",
        const="127.0.0.1:8080",
        metavar="HOST:PORT",
        help="also serve the HTTP front door (OpenAI and Anthropic APIs) on the scripted models, and print the "
        "set-up for Claude Code, Codex and aider; no API keys needed (default address: %(const)s)",
    )
    demo.add_argument("--once", action="store_true", help="exit after the session instead of serving on")
    demo.add_argument("--json", action="store_true", help="print the session as JSON instead of tables")
    demo.add_argument(
        "--log-level",
        default="warning",
        choices=["debug", "info", "warning", "error"],
        help="least severe structured log line written to stderr",
    )
    demo.set_defaults(run=run)
