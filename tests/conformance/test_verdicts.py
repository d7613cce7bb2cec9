"""Statuses that cannot lie: the aggregation and exit-code rules of spec 13.2, on hand-made observations."""

from __future__ import annotations

import pytest

from rolemodel_conformance.connect import HarnessError
from rolemodel_conformance.expected_failures import parse
from rolemodel_conformance.model import CheckResult, Observation, Status
from rolemodel_conformance.registry import requirements
from rolemodel_conformance.selection import select
from rolemodel_conformance.verdicts import apply_expected_failures, exit_code, skipped, verdict

MUST = requirements()["RM-ROUTE-006"]
SHOULD = requirements()["RM-VER-006"]


def result(*observations: Observation, requirements: tuple[str, ...] = (MUST.id, SHOULD.id)) -> CheckResult:
    return CheckResult("area.check", "area", "a check", requirements, list(observations))


def test_a_requirement_nobody_observed_is_not_testable_never_pass() -> None:
    assert verdict(MUST, [result()]).status == Status.NOT_TESTABLE
    assert verdict(MUST, []).status == Status.NOT_TESTABLE


def test_one_failed_observation_fails_a_must_and_warns_a_should() -> None:
    results = [
        result(
            Observation(MUST.id, Status.PASS, "fine"),
            Observation(MUST.id, Status.FAIL, "broken"),
            Observation(SHOULD.id, Status.FAIL, "broken"),
        )
    ]
    assert verdict(MUST, results).status == Status.FAIL
    assert verdict(MUST, results).summary == "broken"
    assert verdict(SHOULD, results).status == Status.WARN


def test_a_failed_should_clause_of_a_must_only_warns() -> None:
    results = [result(Observation(MUST.id, Status.FAIL, "no cooldown", should_part=True))]
    assert verdict(MUST, results).status == Status.WARN


def test_a_violation_outranks_a_harness_problem_which_outranks_unobservable() -> None:
    observed = [Observation(MUST.id, s, s.value) for s in (Status.PASS, Status.NOT_TESTABLE, Status.ERROR)]
    assert verdict(MUST, [result(*observed)]).status == Status.ERROR
    assert verdict(MUST, [result(*observed, Observation(MUST.id, Status.FAIL, "x"))]).status == Status.FAIL


def test_exit_code_two_when_nothing_was_scored_or_the_harness_failed() -> None:
    assert exit_code([], None) == 2
    assert exit_code([skipped(MUST, "not claimed")], None) == 2
    passing = verdict(MUST, [result(Observation(MUST.id, Status.PASS, "ok"))])
    assert exit_code([passing], "unreachable") == 2


@pytest.mark.parametrize("status", [Status.FAIL, Status.NOT_TESTABLE, Status.ERROR])
def test_exit_code_one_when_a_must_fails_is_not_testable_or_errors(status: Status) -> None:
    failing = verdict(MUST, [result(Observation(MUST.id, status, "bad"))])
    assert failing.status == status
    assert exit_code([failing], None) == 1


def test_exit_code_zero_with_warnings_only() -> None:
    must = verdict(MUST, [result(Observation(MUST.id, Status.PASS, "ok"))])
    should = verdict(SHOULD, [result(Observation(SHOULD.id, Status.FAIL, "meh"))])
    assert should.status == Status.WARN
    assert exit_code([must, should], None) == 0


def test_an_expected_failure_is_excused_and_a_passing_one_is_stale() -> None:
    failing = verdict(MUST, [result(Observation(MUST.id, Status.FAIL, "known bug"))])
    assert apply_expected_failures([failing], {MUST.id}) == []
    assert failing.expected_failure
    assert exit_code([failing], None) == 0
    passing = verdict(MUST, [result(Observation(MUST.id, Status.PASS, "fixed"))])
    assert apply_expected_failures([passing], {MUST.id}) == [MUST.id]
    assert exit_code([passing], None) == 1


def test_the_expected_failures_file_takes_ids_and_comments_and_refuses_typos() -> None:
    assert parse("# known gaps\nRM-ROUTE-006   # issue 12\n\nRM-VER-006\n") == {"RM-ROUTE-006", "RM-VER-006"}
    with pytest.raises(HarnessError, match="not a requirement"):
        parse("RM-ROUTE-999\n")
    with pytest.raises(HarnessError, match="one requirement id per line"):
        parse("RM-ROUTE-006 RM-VER-006\n")


def test_selection_skips_unclaimed_capabilities_and_later_versions() -> None:
    selection = select(
        requirements(), claimed=frozenset(), level="all", globs=("RM-QUOTA-*", "RM-ROUTE-00*"), spec_version="1.0"
    )
    assert {r.id for r in selection.scored} == {f"RM-ROUTE-00{i}" for i in range(1, 9)}
    assert all("ROUTER_CAPABILITY_QUOTA" in why for _, why in selection.skipped)
    assert {r.id for r, _ in selection.skipped} == {r for r in requirements() if r.startswith("RM-QUOTA-")}
    assert set(selection.excluded) == {"RM-ROUTE-009"}


def test_level_must_leaves_should_requirements_unscored() -> None:
    selection = select(requirements(), claimed=frozenset(), level="must", globs=("RM-VER-*",), spec_version="1.0")
    assert SHOULD.id not in selection.scored_ids
    assert "RM-VER-002" in selection.scored_ids
