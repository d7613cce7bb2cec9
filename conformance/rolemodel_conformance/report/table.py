"""The human summary: a table per status that needs attention, then the totals and the outcome."""

from __future__ import annotations

from rich.console import Console
from rich.table import Table

from rolemodel.v1 import card_pb2
from rolemodel_conformance.model import Status
from rolemodel_conformance.runner import RunReport

STYLE = {
    Status.PASS: "green",
    Status.FAIL: "bold red",
    Status.WARN: "yellow",
    Status.SKIP: "dim",
    Status.NOT_TESTABLE: "red",
    Status.ERROR: "bold magenta",
}
OUTCOME = {0: ("PASS", "bold green"), 1: ("FAIL", "bold red"), 2: ("NO VERDICT", "bold magenta")}


def print_summary(report: RunReport, console: Console, *, verbose: bool = False) -> None:
    """Print the requirements that need attention (all with ``verbose``), the totals and the outcome."""
    code = report.exit_code
    if report.harness_error is not None:
        console.print(f"[bold magenta]No verdict:[/] {report.harness_error}")
    if report.card is not None:
        capabilities = ", ".join(n.removeprefix("ROUTER_CAPABILITY_").lower() for n in sorted(_claimed(report)))
        console.print(
            f"Router [bold]{report.card.router_name or '?'}[/] {report.card.router_version} at "
            f"{report.options.transport.target}; claims: {capabilities or 'no optional capability'}"
        )
    for problem in report.profile_problems:
        console.print(f"[red]profile:[/] {problem}")
    for problem in report.setup_problems:
        console.print(f"[bold red]Fix first:[/] {problem}")
    shown = [
        v for v in report.verdicts if verbose or v.status not in (Status.PASS, Status.SKIP) or v.stale_expected_failure
    ]
    if shown:
        table = Table(title="Requirements", show_lines=False)
        table.add_column("Requirement", no_wrap=True)
        table.add_column("Level")
        table.add_column("Status", no_wrap=True)
        table.add_column("Why")
        for v in shown:
            status = v.status.value + (" (expected)" if v.expected_failure else "")
            status += " (stale)" if v.stale_expected_failure else ""
            table.add_row(v.id, v.level, f"[{STYLE[v.status]}]{status}[/]", v.summary)
        console.print(table)
    if report.card is None:
        # Nothing ran: a table of zeros would look like a result.
        word, style = OUTCOME[code]
        console.print(f"[{style}]{word}[/] (exit {code}) in {report.duration_s:.1f} s")
        return
    totals = Table(title="Totals")
    for status in Status:
        totals.add_column(status.value, justify="right")
    totals.add_column("excluded", justify="right")
    counts = [sum(1 for v in report.verdicts if v.status == s) for s in Status]
    totals.add_row(*[str(c) for c in counts], str(len(report.excluded)))
    console.print(totals)
    for stale in report.stale:
        console.print(f"[red]stale expected failure:[/] {stale} now passes; remove it from the expected-failures file")
    word, style = OUTCOME[code]
    console.print(f"[{style}]{word}[/] (exit {code}) in {report.duration_s:.1f} s")


def _claimed(report: RunReport) -> list[str]:
    if report.card is None:
        return []
    known = card_pb2.RouterCapability.values()
    return [card_pb2.RouterCapability.Name(c) for c in report.card.capabilities if c in known]
