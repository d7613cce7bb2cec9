"""The catalog's client model rules are validated at start-up (RM-CAT-009)."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from rolemodel_router.config.catalog_loader import CatalogError, load_catalog

ROOT = Path(__file__).resolve().parents[2]


def test_rules_with_an_unknown_role_or_an_empty_pattern_are_refused_with_their_paths(tmp_path: Path) -> None:
    data = yaml.safe_load((ROOT / "examples" / "catalog.yaml").read_text())
    data["policies"]["client_model_rules"] = [
        {"model_pattern": "claude-haiku-*", "role": "background"},
        {"model_pattern": "", "role": "chat"},
        {"model_pattern": "gpt-*", "role": "coding"},
    ]
    path = tmp_path / "catalog.yaml"
    path.write_text(yaml.safe_dump(data))
    with pytest.raises(CatalogError) as caught:
        load_catalog(path)
    assert caught.value.problems == [
        "policies.client_model_rules[1].model_pattern: a rule needs a pattern, for example 'claude-haiku-*'",
        "policies.client_model_rules[2].role: unknown role 'coding'",
    ]


def test_a_rule_without_a_role_fails_the_schema(tmp_path: Path) -> None:
    data = yaml.safe_load((ROOT / "examples" / "catalog.yaml").read_text())
    data["policies"]["client_model_rules"] = [{"model_pattern": "claude-*"}]
    path = tmp_path / "catalog.yaml"
    path.write_text(yaml.safe_dump(data))
    with pytest.raises(CatalogError, match=r"policies.client_model_rules\[0\]: 'role' is a required property"):
        load_catalog(path)
