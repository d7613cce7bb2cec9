"""The conformance suite's stability goals: many runs in a row against one router, and two suites at once.

A suite that isolates itself from its own earlier checks passes again and again
against the same router (fresh conversation ids, dedicated endpoints, windows
and cooldowns that have expired by the time the next run needs them), and one
whose backend ports move (``--backend-ports``) shares a machine with another.
This runs both as a user would, with the ``rolemodel-conformance`` command
against the reference router serving its HTTP front door (memory store): first
``--runs`` runs in a row against one router, then two routers, each with the
fixture's backends moved to free ports of its own, and a suite against each at
the same time. A run passes when the suite exits 0 with nothing but PASS and
SKIP; the table says, per run, the counts, the seconds and the load average.

    python bench/conformance_repeats.py [--runs 10] [--json FILE]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from tests.conformance.routers import Router, running_router  # noqa: E402
from tests.conformance.suite import run_suite  # noqa: E402

FRONT_DOOR = ("--http", "127.0.0.1:0")
FAILING = ("FAIL", "WARN", "NOT_TESTABLE", "ERROR")


def one_run(router: Router, label: str, reports: Path) -> dict[str, Any]:
    """One suite run against ``router``: its exit code, counts, seconds and the load average around it."""
    folder = reports / label
    before = os.getloadavg()[0]
    started = time.monotonic()
    done = run_suite(*router.target_args, "--report-dir", str(folder))
    seconds = time.monotonic() - started
    report = json.loads((folder / "report.json").read_text()) if (folder / "report.json").exists() else {}
    summary = report.get("summary", {})
    failing = {r["id"]: r["status"] for r in report.get("requirements", []) if r["status"] in FAILING}
    return {
        "label": label,
        "exit_code": done.returncode,
        "outcome": report.get("outcome", "no report"),
        "passed": done.returncode == 0 and not failing,
        "pass": summary.get("PASS", 0),
        "skip": summary.get("SKIP", 0),
        "failing": failing,
        "seconds": round(seconds, 1),
        "load_average": [round(before, 2), round(os.getloadavg()[0], 2)],
    }


def in_a_row(runs: int, reports: Path, console: Console) -> list[dict[str, Any]]:
    results = []
    with running_router("memory:", extra=FRONT_DOOR) as router:
        for index in range(runs):
            results.append(one_run(router, f"in-a-row-{index + 1}", reports))
            console.print(f"run {index + 1} of {runs}: {results[-1]['outcome']} in {results[-1]['seconds']} s")
    return results


def at_once(reports: Path) -> list[dict[str, Any]]:
    with running_router("memory:", extra=FRONT_DOOR) as first, running_router("memory:", extra=FRONT_DOOR) as second:
        pairs = [(first, "at-once-a"), (second, "at-once-b")]
        with ThreadPoolExecutor(max_workers=2) as pool:
            return list(pool.map(lambda pair: one_run(pair[0], pair[1], reports), pairs))


def table(results: list[dict[str, Any]]) -> Table:
    shown = Table(title="Conformance suite against the reference router (front door served, memory store)")
    for column in ("run", "outcome", "PASS", "SKIP", "failing", "seconds", "load average"):
        shown.add_column(column)
    for r in results:
        failing = ", ".join(f"{k} {v}" for k, v in r["failing"].items()) or "none"
        load = f"{r['load_average'][0]:.2f} → {r['load_average'][1]:.2f}"
        shown.add_row(r["label"], r["outcome"], str(r["pass"]), str(r["skip"]), failing, str(r["seconds"]), load)
    return shown


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=10, help="runs in a row against one router (default 10)")
    parser.add_argument("--json", type=Path, help="also write the results here")
    options = parser.parse_args(argv)
    if options.runs < 1:
        parser.error("--runs needs at least 1")
    console = Console()
    with tempfile.TemporaryDirectory(prefix="rmc-repeats-") as scratch:
        row = in_a_row(options.runs, Path(scratch), console)
        both = at_once(Path(scratch))
    console.print(table([*row, *both]))
    document = {
        "in_a_row": row,
        "at_once": both,
        "in_a_row_passed": sum(r["passed"] for r in row),
        "at_once_passed": sum(r["passed"] for r in both),
        "load_average_range": [
            min(min(r["load_average"]) for r in [*row, *both]),
            max(max(r["load_average"]) for r in [*row, *both]),
        ],
    }
    console.print(
        f"in a row: {document['in_a_row_passed']} of {len(row)} passed; at once: "
        f"{document['at_once_passed']} of {len(both)} passed; load average {document['load_average_range']}"
    )
    if options.json is not None:
        options.json.write_text(json.dumps(document, indent=2) + "\n")
    return 0 if document["in_a_row_passed"] == len(row) and document["at_once_passed"] == len(both) else 1


if __name__ == "__main__":
    sys.exit(main())
