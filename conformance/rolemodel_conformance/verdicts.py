"""From observations to verdicts, and from verdicts to an exit code (spec 13.2).

The rules, in one place:

* a requirement the run does not score is SKIP (capability not claimed, or a
  later protocol version) or is listed as excluded, with its reason;
* a scored requirement without a single observation is NOT_TESTABLE: nothing
  passes by default;
* otherwise the worst observation decides; a failed check of a SHOULD (or of
  a SHOULD clause, ``should_part``) is WARN, never FAIL;
* the exit code is 2 when nothing was scored or the harness failed, 1 when a
  MUST is FAIL, NOT_TESTABLE or ERROR and not listed as an expected failure, or
  when a listed expected failure now passes (stale), and 0 otherwise.
"""

from __future__ import annotations

from collections.abc import Iterable

from rolemodel_conformance.model import CheckResult, Observation, RequirementVerdict, Status, worst
from rolemodel_conformance.registry import Requirement

EXIT_PASS = 0
EXIT_FAIL = 1
EXIT_NO_VERDICT = 2


def effective(observation: Observation, requirement: Requirement) -> Status:
    if observation.status == Status.FAIL and (requirement.level != "MUST" or observation.should_part):
        return Status.WARN
    return observation.status


def _summary(status: Status, observations: list[Observation], requirement: Requirement) -> str:
    if status == Status.PASS:
        return f"{len(observations)} observation(s) passed"
    bad = [o for o in observations if effective(o, requirement) == status]
    return bad[0].message if bad else status.value


def verdict(requirement: Requirement, results: Iterable[CheckResult]) -> RequirementVerdict:
    """The verdict of a scored requirement from every check that cites it."""
    observations: list[Observation] = []
    checks: list[str] = []
    for result in results:
        if requirement.id in result.requirements:
            checks.append(result.name)
            observations.extend(o for o in result.observations if o.requirement == requirement.id)
    if not observations:
        status = Status.NOT_TESTABLE
        summary = "no check observed this requirement" if checks else "no check cites this requirement"
    else:
        status = worst([effective(o, requirement) for o in observations])
        summary = _summary(status, observations, requirement)
    return RequirementVerdict(
        id=requirement.id,
        level=requirement.level,
        party=requirement.party,
        text=requirement.text,
        chapter=requirement.chapter,
        capability=requirement.capability,
        status=status,
        summary=summary,
        checks=checks,
        observations=observations,
    )


def skipped(requirement: Requirement, why: str) -> RequirementVerdict:
    return RequirementVerdict(
        id=requirement.id,
        level=requirement.level,
        party=requirement.party,
        text=requirement.text,
        chapter=requirement.chapter,
        capability=requirement.capability,
        status=Status.SKIP,
        summary=why,
    )


def apply_expected_failures(verdicts: list[RequirementVerdict], expected: set[str]) -> list[str]:
    """Mark listed failures as expected; returns the listed ids that now pass (stale entries)."""
    stale = []
    for v in verdicts:
        if v.id not in expected:
            continue
        if v.status == Status.PASS:
            v.stale_expected_failure = True
            stale.append(v.id)
        elif v.status in (Status.FAIL, Status.WARN, Status.NOT_TESTABLE, Status.ERROR):
            v.expected_failure = True
    return stale


def exit_code(verdicts: list[RequirementVerdict], harness_error: str | None) -> int:
    if harness_error is not None:
        return EXIT_NO_VERDICT
    scored = [v for v in verdicts if v.status != Status.SKIP]
    if not scored:
        return EXIT_NO_VERDICT
    if any(v.counts_against_exit or v.stale_expected_failure for v in verdicts):
        return EXIT_FAIL
    return EXIT_PASS
