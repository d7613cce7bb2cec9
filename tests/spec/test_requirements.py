"""The prose and the requirement registry say the same thing, in both directions."""

from __future__ import annotations

import re
import sys
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tools"))

from spec_requirements import all_requirements, chapters  # noqa: E402

from rolemodel.v1 import card_pb2  # noqa: E402

REGISTRY = ROOT / "spec" / "registry" / "requirements.yaml"


def registry() -> list[dict[str, Any]]:
    entries: list[dict[str, Any]] = yaml.safe_load(REGISTRY.read_text())["requirements"]
    return entries


def test_every_normative_sentence_in_the_prose_is_a_numbered_requirement() -> None:
    _, stray = all_requirements()
    assert stray == [], "normative keywords outside a requirement line:\n" + "\n".join(stray)


def test_every_prose_requirement_is_in_the_registry_with_the_same_text_and_level() -> None:
    prose, _ = all_requirements()
    by_id = {e["id"]: e for e in registry()}
    for req in prose:
        entry = by_id.get(req.id)
        assert entry is not None, f"{req.id} is missing from the registry"
        assert entry["text"] == req.text, req.id
        assert entry["level"] == req.level, req.id
        assert entry["chapter"] == req.chapter, req.id
        assert entry["status"] == "active", req.id


def test_every_active_registry_entry_is_in_the_prose() -> None:
    prose_ids = {r.id for r in all_requirements()[0]}
    active = {e["id"] for e in registry() if e["status"] == "active"}
    assert active - prose_ids == set()


def test_ids_are_unique_and_well_formed() -> None:
    ids = [e["id"] for e in registry()]
    assert len(ids) == len(set(ids))
    assert all(re.fullmatch(r"RM-[A-Z]+-[0-9]{3}", i) for i in ids)
    prose_ids = [r.id for r in all_requirements()[0]]
    assert len(prose_ids) == len(set(prose_ids))


def test_every_requirement_has_exactly_one_level_keyword_family() -> None:
    for entry in registry():
        assert entry["level"] in {"MUST", "SHOULD", "MAY"}
        assert entry["party"] in {"router", "client"}


def test_capabilities_name_router_capabilities() -> None:
    known = set(card_pb2.RouterCapability.keys()) - {"ROUTER_CAPABILITY_UNSPECIFIED"}
    for entry in registry():
        assert set(entry["capability"]) | set(entry.get("also_requires", ())) <= known, entry["id"]


def test_chapter_anchors_exist() -> None:
    names = {p.name for p in chapters()}
    for entry in registry():
        assert entry["chapter"].split("#")[0] in names


def test_the_registry_is_what_the_sync_tool_would_write() -> None:
    from sync_requirements import render, synced

    assert REGISTRY.read_text() == render(synced()), "run: python tools/sync_requirements.py"
