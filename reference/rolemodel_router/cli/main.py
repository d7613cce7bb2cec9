"""The `rolemodel` command.

rolemodel demo                  the router on the example catalog with scripted models, end to end
rolemodel serve                 serve the reference router (bundled example catalog)
rolemodel card                  show a router's endpoints and roles
rolemodel route --role chore --text "run the linters"
                                ask a router for a decision and explain it
rolemodel check-catalog FILE    validate a catalog file and list every problem
rolemodel init FILE             write a commented starter catalog (--local-only, --with-subscription)
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from rolemodel import SUPPORTED_VERSIONS
from rolemodel.cli_help import ArgumentParser
from rolemodel_router import __version__
from rolemodel_router.cli import arg_types, client_commands, init_command, serve_command
from rolemodel_router.deadlines import DEFAULT_MARGIN_S
from rolemodel_router.demo import run as demo_run
from rolemodel_router.engine.limits import Limits
from rolemodel_router.estimators.registry import DEFAULT_ESTIMATOR
from rolemodel_router.execute import ExecuteSettings
from rolemodel_router.http.slow_clients import HttpLimits
from rolemodel_router.state.factory import default_state_url, describe_state_url
from rolemodel_router.state.store import Retention


def _target(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--target", default="127.0.0.1:50051", help="router address (default: %(default)s)")
    parser.add_argument("--json", action="store_true", help="print the proto3 JSON instead of a table")


def _add_serve(sub: Any, parser: argparse.ArgumentParser) -> None:
    serve = sub.add_parser(
        "serve",
        help="serve the reference router",
        description="Serve the reference router over gRPC (and, with --http, over the HTTP front door) until "
        "SIGTERM or Ctrl-C, then drain in-flight calls and exit 0. An invalid catalog is reported with the path "
        "of every problem, and the router exits 2.",
    )
    serve.add_argument("--catalog", type=Path, help="catalog file, YAML or JSON (default: the bundled example catalog)")
    serve.add_argument("--listen", default="127.0.0.1:50051", help="HOST:PORT to listen on; port 0 picks a free one")
    serve.add_argument(
        "--state",
        help="state store: memory:, sqlite:///PATH (relative to the current directory; sqlite:////PATH for an "
        "absolute path) or redis://HOST:PORT/DB (default: SQLite in the user's state directory, "
        f"{describe_state_url(default_state_url()).removeprefix('SQLite ')})",
    )
    serve.add_argument(
        "--grace", type=arg_types.seconds, default=10.0, help="seconds to drain in-flight calls on SIGTERM"
    )
    serve.add_argument(
        "--http",
        metavar="HOST:PORT",
        help="also serve the HTTP front door there: the OpenAI Chat Completions, OpenAI Responses and Anthropic "
        "Messages APIs, for tools that cannot speak gRPC; same router, TLS and tokens (see docs/clients.md)",
    )
    serve.add_argument(
        "--state-outage",
        choices=["fail-closed", "degrade"],
        default="fail-closed",
        help="when the Redis store is unreachable: refuse with STATE_STORE_UNAVAILABLE (fail-closed), or decide "
        "without shared state, refusing quota-limited endpoints (degrade)",
    )
    serve.add_argument(
        "--withhold-capability",
        action="append",
        default=[],
        metavar="NAME",
        help="do not claim this optional capability (repeatable; 'all' for every one): the router then refuses "
        "the calls that need it, for testing clients and conformance suites against smaller routers",
    )
    serve.add_argument("--redis-namespace", help="key namespace in Redis (default: derived from the catalog digest)")
    security = serve.add_argument_group("security")
    security.add_argument("--tls-cert", type=Path, help="server certificate chain (PEM); enables TLS")
    security.add_argument("--tls-key", type=Path, help="server private key (PEM)")
    security.add_argument(
        "--tls-client-ca", type=Path, help="CA bundle (PEM) that client certificates must chain to; enables mutual TLS"
    )
    security.add_argument(
        "--tokens-file", type=Path, help="bearer tokens with role scopes (YAML or JSON); enables auth"
    )
    security.add_argument(
        "--tokens-env", metavar="NAME", help="read the bearer tokens document from this environment variable"
    )
    execute = serve.add_argument_group("execute (the router calls the models itself)")
    execute.add_argument(
        "--execute-max-attempts",
        type=arg_types.positive_count,
        default=ExecuteSettings.max_attempts,
        help="endpoints one Execute call may try, the chosen one included (default: %(default)s)",
    )
    execute.add_argument(
        "--execute-stall-timeout",
        type=arg_types.positive_seconds,
        default=ExecuteSettings.stall_timeout_s,
        metavar="SECONDS",
        help="longest wait for a backend's first token or next piece; before the first token the next "
        "fallback is tried (default: %(default)s)",
    )
    front = serve.add_argument_group("front door limits (per client; also for --ui)")
    front.add_argument(
        "--http-header-timeout",
        type=arg_types.positive_seconds,
        default=HttpLimits.header_timeout_s,
        metavar="SECONDS",
        help="close a connection whose request headers take longer than this to arrive",
    )
    front.add_argument(
        "--http-body-timeout",
        type=arg_types.positive_seconds,
        default=HttpLimits.body_timeout_s,
        metavar="SECONDS",
        help="close a connection whose request body takes longer than this after its headers",
    )
    front.add_argument(
        "--http-max-connections",
        type=arg_types.positive_count,
        default=HttpLimits.max_connections,
        help="open connections at most; past it a new one replaces the one waiting longest for its headers",
    )
    front.add_argument(
        "--http-keep-alive",
        type=arg_types.positive_seconds,
        default=HttpLimits.keep_alive_s,
        metavar="SECONDS",
        help="how long an idle keep-alive connection stays open",
    )
    front.add_argument(
        "--http-max-requests-per-connection",
        type=arg_types.positive_count,
        default=HttpLimits.max_requests_per_connection,
        help="requests one keep-alive connection may carry",
    )
    observe = serve.add_argument_group("observability")
    observe.add_argument("--metrics", metavar="HOST:PORT", help="expose Prometheus metrics at http://HOST:PORT/metrics")
    observe.add_argument("--otel", choices=["console", "otlp"], help="emit OpenTelemetry spans for every call")
    observe.add_argument(
        "--ui",
        metavar="HOST:PORT",
        help="serve the dashboard there (read-only: decisions, savings, quotas, endpoints); with --http it is "
        "also on the front door under /ui; tokens need the 'ui' scope (see docs/dashboard.md)",
    )
    observe.add_argument("--no-ui", action="store_true", help="do not serve the dashboard on the front door")
    serve.add_argument(
        "--config",
        type=Path,
        help="a YAML file of serve options (same names, with underscores); command-line options override it",
    )
    serve.add_argument(
        "--log-level",
        default="info",
        choices=["debug", "info", "warning", "error"],
        help="least severe structured log line written to stderr",
    )
    serve.add_argument("--no-sample", action="store_true", help="do not print a sample decision at start-up")
    serve.add_argument(
        "--workers",
        type=arg_types.positive_count,
        default=1,
        help="router processes sharing the listening ports and the SQLite or Redis state, one per core you "
        "give it (default: %(default)s); not with the memory store, --metrics or --ui",
    )
    serve.add_argument(
        "--deadline-margin",
        type=arg_types.seconds,
        default=DEFAULT_MARGIN_S,
        metavar="SECONDS",
        help="time a call must have left of its deadline once its decision is made, kept for committing and "
        "answering; with less, it is refused with DEADLINE_TOO_SHORT and changes nothing (default: %(default)s)",
    )
    serve.add_argument(
        "--max-request-bytes",
        type=arg_types.positive_count,
        default=Limits().max_request_bytes,
        help="largest request accepted, in bytes; larger ones are refused with REQUEST_TOO_LARGE",
    )
    serve.add_argument(
        "--max-messages",
        type=arg_types.positive_count,
        default=Limits().max_messages,
        help="most messages in a conversation",
    )
    serve.add_argument(
        "--conversation-idle-hours",
        type=arg_types.positive_seconds,
        default=Retention.conversation_idle_ms / 3_600_000,
        help="drop a conversation's state after this long without a turn (default: %(default)s)",
    )
    serve.add_argument(
        "--decision-retention-hours",
        type=arg_types.positive_seconds,
        default=Retention.decision_ms / 3_600_000,
        help="keep decisions (for ReportOutcome) this long; the spec asks for at least 24 (default: %(default)s)",
    )
    for flag, attr, unit, what in serve_command.STATE_CAPS:
        serve.add_argument(
            flag,
            type=arg_types.positive_count,
            default=getattr(Retention, attr) // unit,
            help=f"{what} (default: %(default)s; spec 12.6, docs/state-limits.md)",
        )
    serve.add_argument(
        "--prune-every", type=arg_types.positive_seconds, default=60.0, help="seconds between retention sweeps"
    )
    serve.add_argument(
        "--default-estimator",
        default=DEFAULT_ESTIMATOR,
        help="difficulty estimator for roles whose catalog names none (default: %(default)s; see docs/difficulty.md)",
    )
    serve.set_defaults(run=serve_command.run)
    parser.serve_parser = serve  # type: ignore[attr-defined]  # for --config defaults


def _add_route(sub: Any) -> None:
    route = sub.add_parser(
        "route",
        help="ask a router for a decision and explain it",
        description="Ask a router where a request should go, and print the decision: the chosen endpoint, "
        "the reasons, every candidate with its cost and score or exclusion, and the handoff plan.",
    )
    _target(route)
    route.add_argument("--role", required=True, help="the role, for example chore, code.edit or chat")
    route.add_argument("--text", default="", help="the new user message (sent as content; tokens are estimated)")
    route.add_argument(
        "--tokens", type=arg_types.count, help="send only a token count for the new message instead of text"
    )
    route.add_argument(
        "--history-tokens", type=arg_types.count, default=0, help="tokens of earlier conversation to pretend"
    )
    route.add_argument("--conversation", help="conversation id (default: a new one)")
    route.add_argument("--turn", type=arg_types.count, default=0, help="turn index")
    route.add_argument("--difficulty", type=float, help="difficulty in [0, 1]; estimated when absent")
    route.add_argument(
        "--strategy",
        choices=["cost", "balanced", "quality", "latency"],
        help="what to weigh most when scoring candidates (default: the role's own strategy)",
    )
    route.add_argument("--pin", help="serve on exactly this endpoint")
    route.add_argument("--avoid", action="append", default=[], help="never serve on this endpoint (repeatable)")
    route.add_argument(
        "--locality",
        choices=["local", "remote"],
        help="serve only on endpoints of this machine, or only on remote ones",
    )
    route.add_argument("--expected-output", type=arg_types.count, help="output tokens expected")
    route.add_argument("--side-request", choices=["isolated", "merge"], help="make it a side request")
    route.add_argument(
        "--label", type=arg_types.label, action="append", default=[], metavar="KEY=VALUE", help="a label (repeatable)"
    )
    route.add_argument("--dry-run", action="store_true", help="decide without recording anything")
    route.set_defaults(run=client_commands.route)


def build_parser() -> argparse.ArgumentParser:
    parser = ArgumentParser(
        prog="rolemodel",
        description="The reference router of the role-model protocol (rolemodel.v1).",
        epilog="Run 'rolemodel COMMAND --help' for the options of a command.",
    )
    parser.add_argument(
        "--version",
        action="version",
        version=f"%(prog)s {__version__} (protocol rolemodel.v1, versions {', '.join(SUPPORTED_VERSIONS)})",
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    _add_serve(sub, parser)

    card = sub.add_parser(
        "card",
        help="show a router's endpoints and roles",
        description="Print a router's card: its protocol versions, capabilities, roles and endpoints.",
    )
    _target(card)
    card.set_defaults(run=client_commands.card)

    _add_route(sub)
    demo_run.add_parser(sub)

    check = sub.add_parser(
        "check-catalog",
        help="validate a catalog file",
        description="Validate a catalog file against the schema and the semantic rules, as serve does at "
        "start-up, and list every problem with its path. Exit 0 when it is valid, 2 when it is not.",
    )
    check.add_argument("catalog", type=Path, metavar="FILE", help="the catalog, YAML or JSON")
    check.set_defaults(run=serve_command.check_catalog)
    init_command.add_parser(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if getattr(args, "config", None) is not None:
        args = serve_command.reparse_with_config(parser, argv, args.config)
    code: int = args.run(args)
    return code


if __name__ == "__main__":
    sys.exit(main())
