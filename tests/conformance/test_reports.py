"""report.json follows its own schema, and junit.xml is well formed with one case per requirement."""

from __future__ import annotations

import copy
import json
import xml.etree.ElementTree as ET
from datetime import UTC, datetime
from typing import Any

import jsonschema
import pytest

from rolemodel.v1 import card_pb2
from rolemodel_conformance.connect import TransportOptions
from rolemodel_conformance.model import CheckResult, Observation, Status
from rolemodel_conformance.registry import out_of_scope, read_data, requirements
from rolemodel_conformance.report import json_report, junit
from rolemodel_conformance.runner import RunOptions, RunReport
from rolemodel_conformance.verdicts import skipped, verdict


def synthetic_report() -> RunReport:
    """A run with one verdict of each kind, made without a router."""
    reqs = requirements()
    ids = ["RM-CARD-001", "RM-ROUTE-006", "RM-VER-006", "RM-ROUTE-007", "RM-ROUTE-008"]
    observed = {
        "RM-CARD-001": Status.PASS,
        "RM-ROUTE-006": Status.FAIL,
        "RM-VER-006": Status.FAIL,
        "RM-ROUTE-007": Status.ERROR,
    }
    check = CheckResult(
        "discovery.sample",
        "discovery",
        "A sample",
        tuple(ids),
        [Observation(rid, status, f"{rid} {status.value}") for rid, status in observed.items()],
        duration_s=0.25,
    )
    report = RunReport(
        options=RunOptions(TransportOptions("127.0.0.1:1"), expected_failures=frozenset({"RM-ROUTE-006"})),
        started_at=datetime.now(UTC),
        card=card_pb2.RouterCard(
            supported_versions=["1.0"],
            router_name="sample",
            capabilities=[card_pb2.ROUTER_CAPABILITY_QUOTA, card_pb2.ROUTER_CAPABILITY_CACHE_ACCOUNTING],
        ),
        checks=[check],
    )
    report.verdicts = [verdict(reqs[rid], [check]) for rid in ids]
    report.verdicts.append(skipped(reqs["RM-QUOTA-001"], "the router does not claim ROUTER_CAPABILITY_QUOTA"))
    report.verdicts[1].expected_failure = True
    report.excluded = [out_of_scope()["RM-VER-001"]]
    report.finished_at = datetime.now(UTC)
    return report


def test_the_schema_is_a_valid_json_schema() -> None:
    schema = json.loads(read_data("report.schema.json"))
    jsonschema.Draft202012Validator.check_schema(schema)


def test_a_report_with_every_status_validates() -> None:
    document = json_report.to_document(synthetic_report())
    json_report.validate(document)
    found = {r["id"]: r["status"] for r in document["requirements"]}
    assert found == {
        "RM-CARD-001": "PASS",
        "RM-ROUTE-006": "FAIL",
        "RM-VER-006": "WARN",
        "RM-ROUTE-007": "ERROR",
        "RM-ROUTE-008": "NOT_TESTABLE",
        "RM-QUOTA-001": "SKIP",
    }
    assert document["exit_code"] == 1
    assert document["outcome"] == "FAIL"


@pytest.mark.parametrize(
    ("path", "value"),
    [
        (("requirements", 0, "status"), "GREEN"),
        (("exit_code",), 3),
        (("requirements", 0, "id"), "ROUTE-1"),
        (("summary", "PASS"), -1),
    ],
)
def test_the_schema_refuses_a_broken_report(path: tuple[str | int, ...], value: object) -> None:
    document: dict[str, Any] = copy.deepcopy(json_report.to_document(synthetic_report()))
    target: Any = document
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value
    with pytest.raises(jsonschema.ValidationError):
        json_report.validate(document)


def test_a_passing_exit_code_cannot_carry_a_harness_error() -> None:
    document = json_report.to_document(synthetic_report())
    document.update(exit_code=0, outcome="PASS", harness_error="unreachable")
    with pytest.raises(jsonschema.ValidationError):
        json_report.validate(document)


def test_junit_has_one_case_per_verdict_with_its_requirement_id() -> None:
    report = synthetic_report()
    root = ET.fromstring(ET.tostring(junit.to_xml(report).getroot()))  # noqa: S314 - the suite's own output
    cases = root.findall("./testsuite/testcase")
    assert len(cases) == len(report.verdicts) == int(root.get("tests", "0"))
    kinds = {}
    for case in cases:
        requirement = case.find("./properties/property[@name='requirement']")
        assert requirement is not None
        kinds[requirement.get("value")] = [child.tag for child in case if child.tag != "properties"]
    assert kinds == {
        "RM-CARD-001": [],
        "RM-ROUTE-006": ["skipped"],
        "RM-VER-006": ["system-out"],
        "RM-ROUTE-007": ["error"],
        "RM-ROUTE-008": ["failure"],
        "RM-QUOTA-001": ["skipped"],
    }
    assert root.get("failures") == "1"
    assert root.get("errors") == "1"
    assert root.get("skipped") == "2"
