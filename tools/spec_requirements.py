"""Extract the numbered requirements from the spec prose.

A requirement is one line of a chapter that starts with its bold ID:

    **RM-AREA-NNN** <one sentence with MUST, SHOULD or MAY>

Used by tools/sync_requirements.py (to update the registry) and by the tests
that keep the prose and spec/registry/requirements.yaml in step.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

SPEC = Path(__file__).resolve().parent.parent / "spec"
REQUIREMENT_LINE = re.compile(r"^\*\*(RM-[A-Z]+-[0-9]{3})\*\* (.+)$")
KEYWORD = re.compile(r"\b(MUST NOT|MUST|REQUIRED|SHALL NOT|SHALL|SHOULD NOT|SHOULD|RECOMMENDED|MAY|OPTIONAL)\b")
_CODE_SPAN = re.compile(r"`[^`]*`")
_HEADING = re.compile(r"^#+ (.*?)(?: \{#([a-z0-9-]+)\})?$")


@dataclass(frozen=True)
class ProseRequirement:
    id: str
    text: str
    chapter: str  # "06-decision.md#6.3-eligibility"
    level: str  # MUST, SHOULD or MAY


def level_of(sentence: str) -> str:
    """The strongest RFC 2119 keyword of a sentence, outside code spans."""
    words = set(KEYWORD.findall(_CODE_SPAN.sub("", sentence)))
    if words & {"MUST", "MUST NOT", "REQUIRED", "SHALL", "SHALL NOT"}:
        return "MUST"
    if words & {"SHOULD", "SHOULD NOT", "RECOMMENDED"}:
        return "SHOULD"
    if words & {"MAY", "OPTIONAL"}:
        return "MAY"
    return ""


def _anchor(heading: str, explicit: str | None) -> str:
    if explicit:
        return explicit
    return re.sub(r"[^a-z0-9 .-]", "", heading.lower()).strip().replace(" ", "-")


def chapters() -> list[Path]:
    return sorted(SPEC.glob("[0-9][0-9]-*.md"))


def extract(path: Path) -> tuple[list[ProseRequirement], list[str]]:
    """The requirements of one chapter, and the stray normative lines that are not requirements."""
    found: list[ProseRequirement] = []
    stray: list[str] = []
    anchor = ""
    in_code = False
    for number, line in enumerate(path.read_text().splitlines(), start=1):
        if line.startswith("```"):
            in_code = not in_code
            continue
        if in_code:
            continue
        heading = _HEADING.match(line)
        if heading:
            anchor = _anchor(heading.group(1), heading.group(2))
            continue
        match = REQUIREMENT_LINE.match(line)
        if match:
            text = match.group(2)
            found.append(ProseRequirement(match.group(1), text, f"{path.name}#{anchor}", level_of(text)))
        elif level_of(line):
            stray.append(f"{path.name}:{number}: {line.strip()}")
    return found, stray


def all_requirements() -> tuple[list[ProseRequirement], list[str]]:
    requirements: list[ProseRequirement] = []
    stray: list[str] = []
    for chapter in chapters():
        found, lines = extract(chapter)
        requirements += found
        stray += lines
    return requirements, stray
