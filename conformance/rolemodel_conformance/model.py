"""Statuses and results: the vocabulary of spec 13.2, and nothing that can round a failure up.

A requirement's verdict is built from observations. An observation is one
comparison a check made (expected against got) and says which requirement it
bears on. Verdicts are only ever derived from observations, so a requirement
that no check observed cannot PASS: it is NOT_TESTABLE.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field


class Status(enum.StrEnum):
    """Verdicts of spec 13.2."""

    PASS = "PASS"  # noqa: S105 - a verdict, not a password
    FAIL = "FAIL"
    WARN = "WARN"
    SKIP = "SKIP"
    NOT_TESTABLE = "NOT_TESTABLE"
    ERROR = "ERROR"

    @property
    def is_failure(self) -> bool:
        """Whether the status counts as a failure (spec 13.2's last column)."""
        return self in (Status.FAIL, Status.NOT_TESTABLE, Status.ERROR)


#: When a requirement has several observations, the worst decides; a violation outranks a harness problem.
SEVERITY = {
    Status.PASS: 0,
    Status.SKIP: 1,
    Status.WARN: 2,
    Status.NOT_TESTABLE: 3,
    Status.ERROR: 4,
    Status.FAIL: 5,
}


def worst(statuses: list[Status]) -> Status:
    return max(statuses, key=SEVERITY.__getitem__)


@dataclass(frozen=True)
class Observation:
    """One thing a check saw about one requirement.

    ``status`` is PASS, FAIL, NOT_TESTABLE or ERROR. A FAIL of a SHOULD
    requirement becomes WARN in the verdict; ``should_part`` marks a failed
    SHOULD clause inside a requirement the registry files as MUST (see
    RM-EXEC-021 and RM-HANDOFF-051), which also only warns.
    """

    requirement: str
    status: Status
    message: str
    should_part: bool = False


@dataclass
class CheckResult:
    """What one check recorded, and how long it ran."""

    name: str
    area: str
    title: str
    requirements: tuple[str, ...]
    observations: list[Observation] = field(default_factory=list)
    duration_s: float = 0.0
    skipped_reason: str = ""

    @property
    def status(self) -> Status:
        if self.skipped_reason:
            return Status.SKIP
        if not self.observations:
            return Status.NOT_TESTABLE
        return worst([o.status for o in self.observations])


@dataclass
class RequirementVerdict:
    """The verdict of one requirement, with the checks that made it."""

    id: str
    level: str
    party: str
    text: str
    chapter: str
    capability: tuple[str, ...]
    status: Status
    summary: str
    checks: list[str] = field(default_factory=list)
    observations: list[Observation] = field(default_factory=list)
    expected_failure: bool = False
    stale_expected_failure: bool = False

    @property
    def counts_against_exit(self) -> bool:
        """A MUST that failed, could not be observed or errored, and was not listed as expected."""
        return self.level == "MUST" and self.status.is_failure and not self.expected_failure


@dataclass(frozen=True)
class Exclusion:
    """A requirement the suite does not score, with the reason."""

    id: str
    level: str
    reason: str
