"""The enum registries describe exactly the proto's enum values; the roles registry is well formed."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml

from rolemodel.error_reasons import ERROR_SPECS, ErrorReason
from rolemodel.v1 import decision_pb2

REGISTRY = Path(__file__).resolve().parents[2] / "spec" / "registry"


def load(name: str) -> Any:
    return yaml.safe_load((REGISTRY / name).read_text())


def test_exclusion_registry_matches_the_enum() -> None:
    described = [e["code"] for e in load("exclusions.yaml")["exclusions"]]
    values = [v for v in decision_pb2.ExclusionCode.DESCRIPTOR.values_by_name if not v.endswith("_UNSPECIFIED")]
    assert sorted(described) == sorted(values)
    assert all(e["meaning"] for e in load("exclusions.yaml")["exclusions"])


def test_reason_registry_matches_the_enum() -> None:
    described = [e["code"] for e in load("reasons.yaml")["reasons"]]
    values = [v for v in decision_pb2.ReasonCode.DESCRIPTOR.values_by_name if not v.endswith("_UNSPECIFIED")]
    assert sorted(described) == sorted(values)


def test_error_registry_and_generated_module_agree() -> None:
    entries = load("errors.yaml")["errors"]
    assert [e["reason"] for e in entries] == [r.value for r in ErrorReason]
    for entry in entries:
        spec = ERROR_SPECS[ErrorReason(entry["reason"])]
        assert spec.code.name == entry["code"]
        assert spec.retryable is entry["retryable"]
        assert spec.metadata_keys == tuple(entry["metadata"])
    assert all(re.fullmatch(r"[A-Z][A-Z0-9_]*", e["reason"]) for e in entries)


def test_roles_registry_lists_the_well_known_roles() -> None:
    roles = load("roles.yaml")
    names = [r["name"] for r in roles["roles"]]
    assert names == ["chat", "code.plan", "code.edit", "code.review", "tool.call", "chore", "summarize", "background"]
    rule = re.compile(roles["namespace_rule"])
    assert rule.match("x-acme.triage")
    assert not any(rule.match(n) for n in names)
