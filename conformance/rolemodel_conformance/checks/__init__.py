"""The check registry: every check, its area, and the requirement ids it cites.

A check is a function of a ``CheckContext``, declared with ``@check``. It runs
when at least one of its requirements applies to the router (its capability is
claimed, or it needs none) and is selected by ``--requirement`` and
``--level``. The order of ``AREAS`` is the order of the run: cheap and
stateless areas first, time-dependent ones later, the audits last.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass

from rolemodel_conformance.context import CheckContext

AREAS = (
    "discovery",
    "start-up",
    "versioning",
    "validation",
    "limits",
    "eligibility",
    "tiers",
    "scoring",
    "cost",
    "cache",
    "affinity",
    "side-requests",
    "dry-run",
    "escalation",
    "outcomes",
    "health",
    "quota",
    "share",
    "concurrency",
    "deadlines",
    "handoff",
    "execute",
    "front-door",
    "auth",
    "audit",
)

MODULES = (
    "discovery",
    "startup",
    "restarts",
    "versioning",
    "validation",
    "conversation",
    "limits",
    "eligibility",
    "tiers",
    "scoring",
    "cost",
    "cache",
    "cache_outcomes",
    "explicit_cache",
    "local_cache",
    "affinity",
    "side_requests",
    "dry_run",
    "escalation",
    "outcomes",
    "health",
    "quota",
    "usage_windows",
    "share",
    "concurrency",
    "deadlines",
    "handoff",
    "handoff_targets",
    "compaction",
    "execute",
    "execute_failures",
    "execute_outcomes",
    "credentials",
    "front_door",
    "front_door_plan",
    "front_door_errors",
    "front_door_attempts",
    "front_door_requests",
    "front_door_responses",
    "front_door_auth",
    "auth",
    "audit",
)

CheckFunction = Callable[[CheckContext], None]


@dataclass(frozen=True)
class Check:
    name: str
    area: str
    title: str
    requirements: tuple[str, ...]
    function: CheckFunction
    #: Whether the check's expectations depend on the fixture (all but a few discovery checks do).
    needs_profile: bool = True


_REGISTRY: dict[str, Check] = {}


def check(
    area: str, title: str, requirements: tuple[str, ...], *, needs_profile: bool = True
) -> Callable[[CheckFunction], CheckFunction]:
    """Register a check under ``area`` citing ``requirements``."""
    if area not in AREAS:
        raise ValueError(f"unknown area {area!r}")

    def register(function: CheckFunction) -> CheckFunction:
        name = f"{area}.{function.__name__}"
        if name in _REGISTRY:
            raise ValueError(f"duplicate check {name}")
        _REGISTRY[name] = Check(name, area, title, requirements, function, needs_profile)
        return function

    return register


def all_checks() -> list[Check]:
    """Every registered check, in run order."""
    for module in MODULES:
        importlib.import_module(f"rolemodel_conformance.checks.{module}")
    order = {area: i for i, area in enumerate(AREAS)}
    indexed = list(enumerate(_REGISTRY.values()))
    return [c for _, c in sorted(indexed, key=lambda pair: (order[pair[1].area], pair[0]))]
