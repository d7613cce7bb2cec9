"""The spec's registries as the suite reads them: requirements, error reasons, and what the suite leaves out.

The files are the spec's own (``spec/registry/*.yaml``), shipped inside the
package as links so that an installed suite carries the registry it was
written against. ``out_of_scope.yaml`` is the suite's: every MUST or SHOULD
that no check observes, each with the reason a black-box suite cannot or
should not score it.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from importlib import resources
from typing import Any

import yaml

from rolemodel_conformance.model import Exclusion

DEFAULT_SINCE = "1.0"


@dataclass(frozen=True)
class Requirement:
    id: str
    level: str
    party: str
    text: str
    chapter: str
    capability: tuple[str, ...]
    status: str
    #: Capabilities needed as well, every one of them (a rule that joins two capabilities).
    also_requires: tuple[str, ...] = ()
    #: The protocol version that introduced it; the registry may add the key, else 1.0.
    since: str = DEFAULT_SINCE

    @property
    def scored_level(self) -> bool:
        return self.level in ("MUST", "SHOULD")


@dataclass(frozen=True)
class ErrorSpec:
    reason: str
    code: str
    retryable: bool
    bad_request: bool
    metadata: tuple[str, ...]


def read_data(name: str) -> str:
    return (resources.files("rolemodel_conformance") / "data" / name).read_text(encoding="utf-8")


def _yaml(name: str) -> Any:
    return yaml.safe_load(read_data(name))


@functools.cache
def requirements() -> dict[str, Requirement]:
    """Every active requirement, by id, in registry order."""
    out: dict[str, Requirement] = {}
    for entry in _yaml("requirements.yaml")["requirements"]:
        if entry.get("status", "active") != "active":
            continue
        out[entry["id"]] = Requirement(
            id=entry["id"],
            level=entry["level"],
            party=entry["party"],
            text=entry["text"],
            chapter=entry["chapter"],
            capability=tuple(entry.get("capability") or ()),
            status=entry.get("status", "active"),
            also_requires=tuple(entry.get("also_requires") or ()),
            since=str(entry.get("since", DEFAULT_SINCE)),
        )
    return out


@functools.cache
def error_specs() -> dict[str, ErrorSpec]:
    """The error registry (spec/registry/errors.yaml), by reason."""
    data = _yaml("errors.yaml")
    return {
        e["reason"]: ErrorSpec(
            e["reason"], e["code"], bool(e["retryable"]), bool(e["bad_request"]), tuple(e["metadata"])
        )
        for e in data["errors"]
    }


@functools.cache
def error_domain() -> str:
    domain: str = _yaml("errors.yaml")["domain"]
    return domain


@functools.cache
def reason_attributes() -> dict[str, tuple[str, ...]]:
    """The machine-readable attributes the reason registry lists for each reason code."""
    return {r["code"]: tuple(r["attributes"]) for r in _yaml("reasons.yaml")["reasons"]}


@functools.cache
def reason_stages() -> dict[str, int]:
    """The step of spec 6.9 that gives each reason code; a decision's reasons never go back a step (RM-ROUTE-005)."""
    return {r["code"]: int(r["stage"]) for r in _yaml("reasons.yaml")["reasons"]}


@functools.cache
def out_of_scope() -> dict[str, Exclusion]:
    """Requirements the suite does not score, with the reason, by id."""
    reqs = requirements()
    out: dict[str, Exclusion] = {}
    for entry in _yaml("out_of_scope.yaml")["excluded"]:
        req = reqs.get(entry["id"])
        level = req.level if req else "?"
        out[entry["id"]] = Exclusion(entry["id"], level, " ".join(str(entry["reason"]).split()))
    return out


def applies(requirement: Requirement, claimed: frozenset[str]) -> bool:
    """Any of ``capability`` claimed (or none named), and every one of ``also_requires`` claimed."""
    some = not requirement.capability or any(c in claimed for c in requirement.capability)
    return some and all(c in claimed for c in requirement.also_requires)
