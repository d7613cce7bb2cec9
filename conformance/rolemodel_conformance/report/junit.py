"""junit.xml: one test case per scored or skipped requirement, for CI dashboards.

Each test case is named by its requirement id and carries it again as the
property ``requirement``, with its level and status, so a dashboard can link a
red line to the spec. FAIL, NOT_TESTABLE and a stale expected failure are
``failure``; ERROR is ``error``; SKIP and an expected failure are ``skipped``;
PASS and WARN pass (WARN keeps its message in ``system-out``), which matches
the exit code.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections import defaultdict
from pathlib import Path

from rolemodel_conformance.model import RequirementVerdict, Status
from rolemodel_conformance.runner import RunReport

UNSCORED_AREA = "unscored"


def _area_of(report: RunReport) -> dict[str, str]:
    area: dict[str, str] = {}
    for check in report.checks:
        for requirement in check.requirements:
            area.setdefault(requirement, check.area)
    return area


def _case(parent: ET.Element, verdict: RequirementVerdict, area: str, seconds: float) -> str:
    case = ET.SubElement(
        parent,
        "testcase",
        name=f"{verdict.id} {verdict.text[:100]}",
        classname=f"rolemodel_conformance.{area}",
        time=f"{seconds:.3f}",
    )
    properties = ET.SubElement(case, "properties")
    for name, value in (("requirement", verdict.id), ("level", verdict.level), ("status", verdict.status.value)):
        ET.SubElement(properties, "property", name=name, value=value)
    if verdict.stale_expected_failure:
        ET.SubElement(case, "failure", message="stale expected failure: the requirement now passes", type="STALE")
        return "failure"
    if verdict.expected_failure:
        ET.SubElement(case, "skipped", message=f"expected failure ({verdict.status.value}): {verdict.summary}")
        return "skipped"
    if verdict.status in (Status.FAIL, Status.NOT_TESTABLE):
        ET.SubElement(case, "failure", message=verdict.summary, type=verdict.status.value)
        return "failure"
    if verdict.status == Status.ERROR:
        ET.SubElement(case, "error", message=verdict.summary, type="ERROR")
        return "error"
    if verdict.status == Status.SKIP:
        ET.SubElement(case, "skipped", message=verdict.summary)
        return "skipped"
    if verdict.status == Status.WARN:
        ET.SubElement(case, "system-out").text = f"WARN: {verdict.summary}"
    return "passed"


def to_xml(report: RunReport) -> ET.ElementTree[ET.Element]:
    area_of = _area_of(report)
    seconds: dict[str, float] = defaultdict(float)
    for check in report.checks:
        for requirement in check.requirements:
            seconds[requirement] += check.duration_s / max(1, len(check.requirements))
    by_area: dict[str, list[RequirementVerdict]] = defaultdict(list)
    for verdict in report.verdicts:
        by_area[area_of.get(verdict.id, UNSCORED_AREA)].append(verdict)
    root = ET.Element("testsuites", name="rolemodel-conformance", time=f"{report.duration_s:.3f}")
    if report.harness_error is not None:
        suite = ET.SubElement(root, "testsuite", name="harness", tests="1", failures="0", errors="1", skipped="0")
        case = ET.SubElement(suite, "testcase", name="harness", classname="rolemodel_conformance.harness", time="0")
        ET.SubElement(case, "error", message=report.harness_error, type="HARNESS")
    for area, verdicts in by_area.items():
        suite = ET.SubElement(root, "testsuite", name=area)
        counts: dict[str, int] = defaultdict(int)
        for verdict in verdicts:
            counts[_case(suite, verdict, area, seconds[verdict.id])] += 1
        suite.set("tests", str(len(verdicts)))
        for kind, attribute in (("failure", "failures"), ("error", "errors"), ("skipped", "skipped")):
            suite.set(attribute, str(counts[kind]))
    totals = {"tests": 0, "failures": 0, "errors": 0, "skipped": 0}
    for suite in root:
        for key in totals:
            totals[key] += int(suite.get(key, "0"))
    for key, value in totals.items():
        root.set(key, str(value))
    return ET.ElementTree(root)


def write(report: RunReport, directory: Path) -> Path:
    path = directory / "junit.xml"
    tree = to_xml(report)
    ET.indent(tree)
    tree.write(path, encoding="utf-8", xml_declaration=True)
    return path
