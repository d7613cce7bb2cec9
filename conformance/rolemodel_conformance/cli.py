"""The ``rolemodel-conformance`` command.

    rolemodel-conformance --target 127.0.0.1:50051 --report-dir reports/

Start the router under test with the fixture catalog first (see
docs/conformance.md). The command waits for the router's health check, reads
its card, runs every check that applies, prints a summary and writes
``report.json`` and ``junit.xml``. Exit codes: 0 every applicable MUST passed,
1 a MUST failed (or was not testable, or errored) or an expected failure is
stale, 2 no verdict (harness error, or nothing was scored).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from rolemodel.cli_help import ArgumentParser
from rolemodel_conformance import __version__, vectors
from rolemodel_conformance.checks import Check
from rolemodel_conformance.connect import HarnessError, TransportOptions
from rolemodel_conformance.expected_failures import load as load_expected_failures
from rolemodel_conformance.fixture import DEFAULT_BACKEND_PORTS, fixture_text, parse_backend_ports
from rolemodel_conformance.report import json_report, junit, table
from rolemodel_conformance.runner import RunOptions, RunReport, run
from rolemodel_conformance.verdicts import EXIT_NO_VERDICT

EPILOG = """\
exit codes:
  0  every applicable MUST requirement passed
  1  a MUST failed, was NOT_TESTABLE or ERROR, or an expected failure is stale
  2  no verdict: the harness failed (unreachable router, bad options) or nothing was scored
  3  the conformance extra is not installed: pip install 'rolemodel-protocol[conformance]'

statuses: PASS, FAIL (MUST violated), WARN (SHOULD violated), SKIP (capability not
claimed, or a later protocol version), NOT_TESTABLE and ERROR (both count as failures).

examples:
  rolemodel-conformance --print-fixture > catalog.yaml
  rolemodel serve --catalog catalog.yaml --state memory: --listen 127.0.0.1:50051
  rolemodel-conformance --target 127.0.0.1:50051 --report-dir reports/
  rolemodel-conformance --target 127.0.0.1:50051 --requirement 'RM-QUOTA-*' --report-dir reports/
  rolemodel-conformance --router-command "rolemodel serve --catalog {catalog} --listen {address} --state memory:"
  rolemodel-conformance --router-command "rolemodel serve --catalog {catalog} --listen {address} \\
      --state sqlite:///{state}/router.db"
  rolemodel-conformance --vectors
  rolemodel-conformance --print-fixture --backend-ports 19081,19082,19083 > catalog-19081.yaml
  rolemodel-conformance --target 127.0.0.1:50052 --backend-ports 19081,19082,19083
"""


def build_parser() -> argparse.ArgumentParser:
    parser = ArgumentParser(
        prog="rolemodel-conformance",
        description="Check a rolemodel.v1 router against the spec over gRPC, and report a verdict per requirement. "
        "The router must run the suite's fixture catalog, which --print-fixture writes (see docs/conformance.md).",
        epilog=EPILOG,
    )
    parser.add_argument("--target", help="HOST:PORT of the router under test")
    parser.add_argument(
        "--router-command",
        metavar="TEMPLATE",
        help="start the router yourself: a command with {catalog} and {address}, e.g. "
        '"my-router --catalog {catalog} --listen {address}"; also checks start-up and bad catalogs (RM-CAT-*), '
        "and with {state} (a directory for durable state) that decisions and outcomes survive a restart",
    )
    parser.add_argument("--tls", action="store_true", help="connect with TLS")
    parser.add_argument("--ca-file", type=Path, help="PEM file of the CA that signed the router's certificate")
    parser.add_argument("--token-file", type=Path, help="file holding the bearer token, for routers that claim auth")
    parser.add_argument(
        "--scoped-token-file",
        type=Path,
        help="file holding a second token that the router limits to the role chat (checks RM-AUTH-002)",
    )
    parser.add_argument("--spec-version", default="1.0", help="protocol version to test (default: %(default)s)")
    parser.add_argument(
        "--level",
        choices=["must", "should", "all"],
        default="all",
        help="score MUST only, MUST and SHOULD, or all levels (default: %(default)s)",
    )
    parser.add_argument(
        "--requirement",
        action="append",
        default=[],
        metavar="GLOB",
        help="score only requirements matching this glob, e.g. 'RM-QUOTA-*' (repeatable)",
    )
    parser.add_argument("--expected-failures", type=Path, metavar="FILE", help="requirement ids known to fail")
    parser.add_argument("--report-dir", type=Path, metavar="DIR", help="write report.json and junit.xml here")
    parser.add_argument(
        "--wait", type=float, default=30.0, metavar="SECONDS", help="how long to wait for the router to report SERVING"
    )
    parser.add_argument("--json", action="store_true", help="print report.json to stdout instead of the tables")
    parser.add_argument("--verbose", action="store_true", help="list every requirement, passed ones included")
    parser.add_argument(
        "--vectors",
        action="store_true",
        help="only check that the suite's arithmetic reproduces the published test vectors",
    )
    parser.add_argument(
        "--print-fixture", action="store_true", help="print the fixture catalog the router under test must load"
    )
    parser.add_argument(
        "--backend-ports",
        metavar="A,B,C",
        default=",".join(str(p) for p in DEFAULT_BACKEND_PORTS),
        help="loopback ports of the suite's three scripted model backends (default: %(default)s); give the same "
        "value to --print-fixture for the router's catalog, so that two runs can share one machine",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    return parser


def _run_with_progress(options: RunOptions, err: Console) -> RunReport:
    """Run with a progress bar on stderr, naming the area and check in progress."""
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    with Progress(*columns, console=err, transient=True) as progress:
        task = progress.add_task("connecting", total=None)

        def hook(index: int, total: int, check: Check) -> None:
            progress.update(task, total=total, completed=index, description=f"{check.area}: {check.title}")

        report = run(options, progress=hook)
        progress.update(task, completed=len(report.checks))
    return report


def _options(args: argparse.Namespace) -> RunOptions:
    if bool(args.target) == bool(args.router_command):
        raise HarnessError("give either --target HOST:PORT or --router-command TEMPLATE (or use --vectors)")
    expected = load_expected_failures(args.expected_failures) if args.expected_failures else frozenset()
    return RunOptions(
        transport=TransportOptions(args.target or "", args.tls, args.ca_file, args.token_file, args.scoped_token_file),
        spec_version=args.spec_version,
        level=args.level,
        requirement_globs=tuple(args.requirement),
        expected_failures=expected,
        wait_s=args.wait,
        backend_ports=_backend_ports(args),
        router_command=args.router_command,
    )


def _backend_ports(args: argparse.Namespace) -> tuple[int, int, int]:
    try:
        return parse_backend_ports(args.backend_ports)
    except ValueError as error:
        raise HarnessError(str(error)) from None


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    out = Console()
    err = Console(stderr=True)
    if args.vectors:
        return vectors.main(out)
    try:
        if args.print_fixture:
            sys.stdout.write(fixture_text(_backend_ports(args)))
            return 0
        options = _options(args)
        if args.report_dir is not None:
            args.report_dir.mkdir(parents=True, exist_ok=True)
    except (HarnessError, OSError) as error:
        # One line however narrow the terminal (a mistake is one line), and the message printed as it is.
        err.print(f"[bold magenta]rolemodel-conformance:[/] {escape(str(error))}", soft_wrap=True)
        return EXIT_NO_VERDICT
    report = _run_with_progress(options, err)
    if args.report_dir is not None:
        json_report.write(report, args.report_dir)
        junit.write(report, args.report_dir)
    if args.json:
        sys.stdout.write(json.dumps(json_report.to_document(report), indent=2) + "\n")
    else:
        table.print_summary(report, out, verbose=args.verbose)
        if args.report_dir is not None:
            out.print(f"Reports: {args.report_dir / 'report.json'}, {args.report_dir / 'junit.xml'}")
    return report.exit_code


if __name__ == "__main__":
    sys.exit(main())
