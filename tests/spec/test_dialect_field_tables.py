"""Spec 14.11 lists every request field of the two front-door dialects exactly as the codecs treat it."""

from __future__ import annotations

from pathlib import Path

import pytest

from rolemodel.dialects import anthropic_messages
from rolemodel.dialects.anthropic_messages.fields import HEADER_RULES
from rolemodel.dialects.field_rules import FieldRule
from rolemodel.dialects.openai_chat.fields import REQUEST_FIELDS as CHAT_FIELDS

SPEC = Path(__file__).resolve().parents[2] / "spec" / "14-http.md"


def _row(rule: FieldRule, name: str) -> str:
    return f"| {name} | {rule.treatment.value} | {rule.how} |"


@pytest.mark.parametrize("rule", [*anthropic_messages.REQUEST_FIELDS, *CHAT_FIELDS], ids=lambda r: r.name)
def test_every_field_rule_is_a_row_of_the_spec(rule: FieldRule) -> None:
    section = SPEC.read_text().split("## 14.11", 1)[1]
    assert _row(rule, f"`{rule.name}`") in section


def test_the_passed_through_header_is_a_row_of_the_spec() -> None:
    section = SPEC.read_text().split("## 14.11", 1)[1]
    for rule in HEADER_RULES:
        assert _row(rule, f"header `{rule.name}`") in section


def test_the_spec_lists_no_field_the_codecs_do_not_know() -> None:
    section = SPEC.read_text().split("## 14.11", 1)[1]
    listed = {line.split("|")[1].strip() for line in section.splitlines() if line.startswith("| `")}
    known = {f"`{r.name}`" for r in (*anthropic_messages.REQUEST_FIELDS, *CHAT_FIELDS)}
    assert listed == known
