"""Bring spec/registry/requirements.yaml in step with the prose.

The prose is where requirements are written. This script copies each
requirement's sentence, level and chapter into the registry, keeps the
fields only the registry has (party, capability, status), and marks
requirements that left the prose as withdrawn instead of deleting them (IDs
are never reused). New requirements get the capability their area implies;
review it before committing.

Usage: python tools/sync_requirements.py [--check]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

import yaml
from spec_requirements import SPEC, all_requirements

REGISTRY = SPEC / "registry" / "requirements.yaml"

#: The router capability an area's requirements depend on, for new entries.
AREA_CAPABILITY = {
    "AFF": ["ROUTER_CAPABILITY_AFFINITY"],
    "AUTH": ["ROUTER_CAPABILITY_AUTH"],
    "CACHE": ["ROUTER_CAPABILITY_CACHE_ACCOUNTING"],
    "DRY": ["ROUTER_CAPABILITY_DRY_RUN"],
    "ESC": ["ROUTER_CAPABILITY_ESCALATION"],
    "EXEC": ["ROUTER_CAPABILITY_EXECUTE"],
    "HANDOFF": ["ROUTER_CAPABILITY_EXECUTE", "ROUTER_CAPABILITY_HANDOFF_MESSAGES"],
    # The HTTP front door serves requests through Execute (spec chapter 14).
    "HTTP": ["ROUTER_CAPABILITY_EXECUTE"],
    "QUOTA": ["ROUTER_CAPABILITY_QUOTA"],
    "SHARE": ["ROUTER_CAPABILITY_SHARE_TARGET"],
    "SIDE": ["ROUTER_CAPABILITY_SIDE_REQUESTS"],
}
CLIENT_REQUIREMENTS = {"RM-VER-001", "RM-ERR-010", "RM-ERR-011", "RM-ERR-021", "RM-SEC-002"}

HEADER = """\
# The requirement registry of rolemodel.v1.
#
# One entry per numbered requirement of the spec prose (spec/NN-*.md):
#   id          RM-<AREA>-<NNN>, never reused
#   level       MUST, SHOULD or MAY: the strongest keyword of the sentence
#   party       who the requirement binds: router or client
#   text        the exact sentence of the prose
#   chapter     file#anchor of the section that states it
#   capability  router capabilities it depends on (any of them makes it apply); empty: always applies
#   also_requires  optional: capabilities it needs as well, every one of them (a rule that joins two)
#   status      active or withdrawn
# A test keeps this file and the prose in step in both directions;
# tools/sync_requirements.py updates it from the prose.
"""


def load_registry() -> dict[str, dict[str, Any]]:
    if not REGISTRY.exists():
        return {}
    data = yaml.safe_load(REGISTRY.read_text()) or {}
    return {entry["id"]: entry for entry in data.get("requirements", [])}


def synced() -> list[dict[str, Any]]:
    prose, _ = all_requirements()
    existing = load_registry()
    entries: list[dict[str, Any]] = []
    for req in prose:
        old = existing.get(req.id, {})
        area = req.id.split("-")[1]
        entries.append(
            {
                "id": req.id,
                "level": req.level,
                "party": old.get("party", "client" if req.id in CLIENT_REQUIREMENTS else "router"),
                "text": req.text,
                "chapter": req.chapter,
                "capability": old.get("capability", AREA_CAPABILITY.get(area, [])),
                **({"also_requires": old["also_requires"]} if old.get("also_requires") else {}),
                "status": "active",
            }
        )
    seen = {e["id"] for e in entries}
    for rid, old in existing.items():
        if rid not in seen:
            entries.append({**old, "status": "withdrawn"})
    return entries


def render(entries: list[dict[str, Any]]) -> str:
    body = yaml.safe_dump({"requirements": entries}, sort_keys=False, allow_unicode=True, width=4096)
    return HEADER + body


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--check", action="store_true", help="exit 1 if the registry is not in step")
    args = parser.parse_args()
    text = render(synced())
    if args.check:
        current = REGISTRY.read_text() if REGISTRY.exists() else ""
        sys.exit(0 if current == text else 1)
    Path(REGISTRY).write_text(text)


if __name__ == "__main__":
    main()
