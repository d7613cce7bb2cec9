"""report.json: the machine-readable record of a run, with a JSON Schema of its own.

The document is what an implementer publishes. It holds the router's identity
and claims, the verdict of every requirement with the observations behind it,
the requirements the suite does not score and why, the checks with their
timings, and the exit code the run ended with. ``report.schema.json`` in the
package data is its schema; ``validate`` checks a document against it.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import jsonschema

from rolemodel.v1 import card_pb2
from rolemodel_conformance.model import Status
from rolemodel_conformance.registry import read_data
from rolemodel_conformance.runner import RunReport

REPORT_FORMAT = "rolemodel-conformance-report/1"


def schema() -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(read_data("report.schema.json"))
    return loaded


def _router(card: card_pb2.RouterCard | None) -> dict[str, Any] | None:
    if card is None:
        return None
    return {
        "name": card.router_name,
        "version": card.router_version,
        "supported_versions": list(card.supported_versions),
        "capabilities": sorted(
            card_pb2.RouterCapability.Name(c) for c in card.capabilities if c in card_pb2.RouterCapability.values()
        ),
        "catalog_name": card.catalog_name,
        "catalog_digest": card.catalog_digest,
    }


def _counts(report: RunReport) -> dict[str, int]:
    counts = {status.value: 0 for status in Status}
    for v in report.verdicts:
        counts[v.status.value] += 1
    counts["scored"] = sum(1 for v in report.verdicts if v.status != Status.SKIP)
    counts["excluded"] = len(report.excluded)
    counts["expected_failures"] = sum(1 for v in report.verdicts if v.expected_failure)
    counts["stale_expected_failures"] = len(report.stale)
    return counts


def outcome_word(code: int) -> str:
    return {0: "PASS", 1: "FAIL"}.get(code, "NO_VERDICT")


def to_document(report: RunReport) -> dict[str, Any]:
    options = report.options
    code = report.exit_code
    return {
        "format": REPORT_FORMAT,
        "suite": {"name": "rolemodel-conformance", "version": report.suite_version},
        "spec_version": options.spec_version,
        "target": options.transport.target,
        "tls": options.transport.tls,
        "selection": {"level": options.level, "requirements": list(options.requirement_globs)},
        "started_at": report.started_at.isoformat(),
        "finished_at": (report.finished_at or report.started_at).isoformat(),
        "duration_s": round(report.duration_s, 3),
        "router": _router(report.card),
        "profile_problems": list(report.profile_problems),
        "harness_error": report.harness_error,
        "outcome": outcome_word(code),
        "exit_code": code,
        "summary": _counts(report),
        "requirements": [
            {
                "id": v.id,
                "level": v.level,
                "party": v.party,
                "capability": list(v.capability),
                "chapter": v.chapter,
                "text": v.text,
                "status": v.status.value,
                "summary": v.summary,
                "expected_failure": v.expected_failure,
                "stale_expected_failure": v.stale_expected_failure,
                "checks": list(v.checks),
                "observations": [
                    {"status": o.status.value, "message": o.message, "should_part": o.should_part}
                    for o in v.observations
                ],
            }
            for v in report.verdicts
        ],
        "excluded": [{"id": e.id, "level": e.level, "reason": e.reason} for e in report.excluded],
        "checks": [
            {
                "name": c.name,
                "area": c.area,
                "title": c.title,
                "requirements": list(c.requirements),
                "status": c.status.value,
                "duration_s": round(c.duration_s, 3),
            }
            for c in report.checks
        ],
        "expected_failures": {"listed": sorted(options.expected_failures), "stale": list(report.stale)},
    }


def validate(document: dict[str, Any]) -> None:
    """Raise jsonschema.ValidationError when the document does not follow report.schema.json."""
    jsonschema.validate(document, schema())


def write(report: RunReport, directory: Path) -> Path:
    document = to_document(report)
    validate(document)
    path = directory / "report.json"
    path.write_text(json.dumps(document, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    return path
