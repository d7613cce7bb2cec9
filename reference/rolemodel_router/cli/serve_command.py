"""`rolemodel serve` and `rolemodel check-catalog`."""

from __future__ import annotations

import argparse
import asyncio
import sys
from pathlib import Path
from typing import Any

import yaml

from rolemodel import AsyncRouterClient, conversation_ref, text_message
from rolemodel.v1 import hints_pb2, router_service_pb2
from rolemodel_router.cli.render import catalog_size, command_name, console, decision_text
from rolemodel_router.config.catalog_loader import CatalogError, default_catalog_path, load_catalog
from rolemodel_router.engine.limits import Limits
from rolemodel_router.estimators.registry import EstimatorError
from rolemodel_router.execute import ExecuteSettings
from rolemodel_router.http.slow_clients import HttpLimits
from rolemodel_router.server import logs
from rolemodel_router.server.app import RunningRouter, ServeSettings, TlsSettings, serve
from rolemodel_router.server.auth import TokenError, TokenRegistry
from rolemodel_router.server.binding import address_to_connect, url_to_connect
from rolemodel_router.server.workers import WorkerReady, WorkersRefused, check_workers, run_workers
from rolemodel_router.state.factory import StateUrlError, default_state_url, describe_state_url
from rolemodel_router.state.sqlite import StoreOpenError
from rolemodel_router.state.store import MIB, Retention
from rolemodel_router.withheld import parse_withheld

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
    out.print(f"\nAsk for your own: {command_name()} route --target {address} --role chore --text 'run the tests'\n")


PATH_KEYS = frozenset({"catalog", "tls_cert", "tls_key", "tls_client_ca", "tokens_file"})


#: The caps on kept state (spec 12.6): flag, Retention field, unit, what it bounds.
STATE_CAPS = (
    ("--max-conversations", "max_conversations", 1, "conversations kept; the least recently used go first"),
    ("--max-conversations-per-principal", "max_conversations_per_principal", 1, "the same for each token's principal"),
    ("--max-conversation-digest-mib", "max_conversation_digest_bytes", MIB, "MiB of digests in conversations"),
    ("--max-conversation-digest-mib-per-principal", "max_conversation_digest_bytes_per_principal", MIB,
     "the same for each principal"),
    ("--max-decisions", "max_decisions", 1, "decisions kept for outcomes; full of ones under 24 h, Route is refused"),
    ("--max-decisions-per-principal", "max_decisions_per_principal", 1, "the same for each principal"),
    ("--max-decision-digest-mib", "max_decision_digest_bytes", MIB, "MiB of digests in kept decisions"),
    ("--max-decision-digest-mib-per-principal", "max_decision_digest_bytes_per_principal", MIB,
     "the same for each principal"),
    ("--prefix-memo-mib", "prefix_memo_bytes", MIB, "MiB for the memo of verified prefixes, a cache"),
)  # fmt: skip


def state_caps(args: argparse.Namespace) -> dict[str, Any]:
    """The Retention fields the caps' options set, in bytes and counts."""
    return {attr: getattr(args, flag.removeprefix("--").replace("-", "_")) * unit for flag, attr, unit, _ in STATE_CAPS}


def reparse_with_config(parser: argparse.ArgumentParser, argv: list[str] | None, path: Path) -> argparse.Namespace:
    """Options from a YAML file as defaults, then the command line again, so that it wins."""
    try:
        data = yaml.safe_load(path.read_text()) or {}
    except (OSError, yaml.YAMLError) as error:
        parser.exit(EXIT_BAD_CONFIG, f"rolemodel serve: cannot read {path}: {error}\n")
    if not isinstance(data, dict):
        parser.exit(EXIT_BAD_CONFIG, f"rolemodel serve: {path}: expected a mapping of options\n")
    serve = getattr(parser, "serve_parser", None)
    if not isinstance(serve, argparse.ArgumentParser):
        raise TypeError("the rolemodel parser has no serve subcommand")
    options = set(vars(serve.parse_args([]))) - {"run", "config"}
    unknown = sorted(set(data) - options)
    if unknown:
        parser.exit(EXIT_BAD_CONFIG, f"rolemodel serve: {path}: unknown options {', '.join(unknown)}\n")
    defaults = {k: (path.parent / v if k in PATH_KEYS and isinstance(v, str) else v) for k, v in data.items()}
    serve.set_defaults(**defaults)
    return parser.parse_args(argv)


def _security(args: argparse.Namespace) -> tuple[TlsSettings | None, TokenRegistry | None]:
    tls = None
    if args.tls_cert or args.tls_key or args.tls_client_ca:
        if not (args.tls_cert and args.tls_key):
            raise TokenError("TLS needs both --tls-cert and --tls-key")
        tls = TlsSettings(args.tls_cert, args.tls_key, args.tls_client_ca)
    tokens = None
    if args.tokens_file:
        tokens = TokenRegistry.from_file(args.tokens_file)
    elif args.tokens_env:
        tokens = TokenRegistry.from_env(args.tokens_env)
    return tls, tokens


def run(args: argparse.Namespace) -> int:
    logs.configure(args.log_level)
    try:
        check_workers(args.workers, args.state or default_state_url(), args.metrics, args.ui)
    except WorkersRefused as error:
        print(f"rolemodel serve: {error}", file=sys.stderr)
        return EXIT_BAD_CONFIG
    try:
        tls, tokens = _security(args)
    except (TokenError, OSError) as error:
        print(f"rolemodel serve: {error}", file=sys.stderr)
        return EXIT_BAD_CONFIG
    if args.no_ui and args.ui:
        print("rolemodel serve: --ui and --no-ui contradict each other; choose one", file=sys.stderr)
        return EXIT_BAD_CONFIG
    try:
        execute = ExecuteSettings(max_attempts=args.execute_max_attempts, stall_timeout_s=args.execute_stall_timeout)
    except ValueError as error:
        print(f"rolemodel serve: execute options: {error}", file=sys.stderr)
        return EXIT_BAD_CONFIG
    try:
        withheld = parse_withheld(args.withhold_capability)
    except ValueError as error:
        print(f"rolemodel serve: --withhold-capability: {error}", file=sys.stderr)
        return EXIT_BAD_CONFIG
    try:
        http_limits = HttpLimits(
            header_timeout_s=args.http_header_timeout,
            body_timeout_s=args.http_body_timeout,
            max_connections=args.http_max_connections,
            keep_alive_s=args.http_keep_alive,
            max_requests_per_connection=args.http_max_requests_per_connection,
        )
    except ValueError as error:
        print(f"rolemodel serve: front door limits: {error}", file=sys.stderr)
        return EXIT_BAD_CONFIG
    settings = ServeSettings(
        catalog=args.catalog or default_catalog_path(),
        listen=args.listen,
        state_url=args.state or default_state_url(),
        create_state_directory=args.state is None,
        grace_s=args.grace,
        limits=Limits(max_request_bytes=args.max_request_bytes, max_messages=args.max_messages),
        deadline_margin_s=args.deadline_margin,
        retention=Retention(
            conversation_idle_ms=int(args.conversation_idle_hours * 3_600_000),
            decision_ms=int(args.decision_retention_hours * 3_600_000),
            **state_caps(args),
        ),
        prune_every_s=args.prune_every,
        default_estimator=args.default_estimator,
        execute=execute,
        http_listen=args.http,
        http_limits=http_limits,
        ui_listen=args.ui,
        dashboard=not args.no_ui,
        redis_namespace=args.redis_namespace,
        outage_policy=args.state_outage,
        tls=tls,
        tokens=tokens,
        metrics_address=args.metrics,
        otel=args.otel,
        withheld=withheld,
    )

    # The addresses printed for a user to connect to or open name the loopback where the router listens
    # on every interface (0.0.0.0): the listen address itself is printed as it is.
    def ready(router: RunningRouter) -> None:
        secure = (" with TLS" if tls else "") + (" and bearer tokens" if tokens else "")
        print(
            f"rolemodel router serving on {router.address}{secure} "
            f"(catalog '{router.core.index.catalog.name}', {len(router.core.index.endpoints)} endpoints, "
            f"state {describe_state_url(settings.state_url)})",
            flush=True,
        )
        if router.http_url:
            print(_front_door_line(router.http_url), flush=True)
        if router.ui_url:
            print(f"dashboard at {url_to_connect(router.ui_url)}", flush=True)
        if router.metrics_address:
            print(f"metrics at {url_to_connect(f'http://{router.metrics_address}/metrics')}", flush=True)
        if not args.no_sample and tls is None and tokens is None:
            asyncio.get_running_loop().create_task(_sample(address_to_connect(router.address)))

    def workers_ready(worker: WorkerReady) -> None:
        secure = (" with TLS" if tls else "") + (" and bearer tokens" if tokens else "")
        state = describe_state_url(settings.state_url)
        print(
            f"rolemodel router serving on {worker.address}{secure} with {args.workers} workers "
            f"(catalog '{worker.catalog}', {worker.endpoints} endpoints, state {state})",
            flush=True,
        )
        if worker.http_url:
            print(_front_door_line(worker.http_url) + "; the dashboard is not served with --workers", flush=True)
        if not args.no_sample and tls is None and tokens is None:
            asyncio.run(_sample(address_to_connect(worker.address)))

    try:
        if args.workers > 1:
            return run_workers(settings, args.workers, args.log_level, workers_ready)
        return asyncio.run(serve(settings, ready))
    except CatalogError as error:
        print(error, file=sys.stderr)
        return EXIT_BAD_CONFIG
    except (StateUrlError, StoreOpenError, OSError, EstimatorError) as error:
        print(f"rolemodel serve: {error}", file=sys.stderr)
        return EXIT_BAD_CONFIG


def _front_door_line(http_url: str) -> str:
    base = url_to_connect(http_url)
    return f"HTTP front door on {http_url} (OpenAI base URL {base}/v1, Anthropic base URL {base})"


def check_catalog(args: argparse.Namespace) -> int:
    try:
        loaded = load_catalog(args.catalog)
    except CatalogError as error:
        print(error, file=sys.stderr)
        return EXIT_BAD_CONFIG
    catalog = loaded.catalog
    summary = f"{catalog_size(catalog)}, digest {loaded.digest[:16]}"
    print(f"{args.catalog}: valid: {summary}")
    return 0
