"""Which requirements a run scores, and which checks it therefore runs.

A requirement is scored when it is active, not excluded by the suite
(``out_of_scope.yaml``), at a selected level, matched by a ``--requirement``
glob, introduced at or before the tested protocol version, and applicable to
the router (its capability claimed, or none needed). Everything else is
reported with the reason it was not scored.
"""

from __future__ import annotations

import fnmatch
from dataclasses import dataclass

from rolemodel.versions import parse_version
from rolemodel_conformance.checks import Check
from rolemodel_conformance.registry import Requirement, applies, out_of_scope

LEVELS = {"must": ("MUST",), "should": ("MUST", "SHOULD"), "all": ("MUST", "SHOULD", "MAY")}
#: Requirements about starting the router: only the harness mode (``--router-command``) can see them.
START_UP = frozenset({"RM-CAT-001", "RM-CAT-002", "RM-CAT-003", "RM-CAT-004", "RM-CAT-005", "RM-CAT-006", "RM-CAT-009"})
NEEDS_LAUNCHER = "about start-up: the suite sees it only when it starts the router (--router-command)"
#: Durability across a restart: only the harness mode with ``{state}`` (the claim of durable state) sees it.
RESTARTS = frozenset({"RM-ROUTE-010", "RM-OUT-008"})
NEEDS_RESTART = (
    "needs a restart on durable state: the suite restarts the router only when it starts it "
    "(--router-command) with {state} in the command"
)
#: The HTTP front door's chapter: scored only for a router whose card advertises one (spec 14.9).
FRONT_DOOR_CHAPTER = "14-http.md"
NO_FRONT_DOOR = "about the HTTP front door, and the router's card advertises none (http_front_door)"


@dataclass(frozen=True)
class Selection:
    scored: tuple[Requirement, ...]
    skipped: tuple[tuple[Requirement, str], ...]
    excluded: tuple[str, ...]

    @property
    def scored_ids(self) -> frozenset[str]:
        return frozenset(r.id for r in self.scored)


def matches(requirement_id: str, globs: tuple[str, ...]) -> bool:
    return not globs or any(fnmatch.fnmatchcase(requirement_id, g) for g in globs)


def select(
    requirements: dict[str, Requirement],
    *,
    claimed: frozenset[str],
    level: str,
    globs: tuple[str, ...],
    spec_version: str,
    launches: bool = False,
    front_door: bool = False,
    durable: bool = False,
) -> Selection:
    levels = LEVELS[level]
    excluded = out_of_scope()
    tested = parse_version(spec_version)
    scored: list[Requirement] = []
    skipped: list[tuple[Requirement, str]] = []
    dropped: list[str] = []
    for requirement in requirements.values():
        if requirement.level not in levels or not matches(requirement.id, globs):
            continue
        if requirement.id in excluded:
            dropped.append(requirement.id)
        elif requirement.id in START_UP and not launches:
            skipped.append((requirement, NEEDS_LAUNCHER))
        elif requirement.id in RESTARTS and not durable:
            skipped.append((requirement, NEEDS_RESTART))
        elif requirement.chapter.startswith(FRONT_DOOR_CHAPTER) and not front_door:
            skipped.append((requirement, NO_FRONT_DOOR))
        elif parse_version(requirement.since) > tested:
            skipped.append((requirement, f"introduced in {requirement.since}; this run tests {spec_version}"))
        elif not applies(requirement, claimed):
            skipped.append((requirement, _not_claimed(requirement, claimed)))
        else:
            scored.append(requirement)
    return Selection(tuple(scored), tuple(skipped), tuple(dropped))


def _not_claimed(requirement: Requirement, claimed: frozenset[str]) -> str:
    missing = [c for c in requirement.also_requires if c not in claimed]
    if requirement.capability and not any(c in claimed for c in requirement.capability):
        missing.insert(0, " or ".join(requirement.capability))
    return "the router does not claim " + " and ".join(missing)


def checks_for(selection: Selection, checks: list[Check]) -> list[Check]:
    """The checks that cite at least one scored requirement, in run order."""
    wanted = selection.scored_ids
    return [c for c in checks if wanted.intersection(c.requirements)]
