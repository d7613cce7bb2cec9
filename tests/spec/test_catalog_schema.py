"""Example catalogs validate against the generated JSON Schema, and the schema catches mistakes."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml
from google.protobuf import json_format

from rolemodel.v1 import catalog_pb2

ROOT = Path(__file__).resolve().parents[2]
SCHEMA = json.loads((ROOT / "spec" / "schemas" / "catalog.schema.json").read_text())
CATALOGS = sorted([*ROOT.glob("examples/*.yaml"), *ROOT.glob("conformance/fixtures/*.yaml")])


def load(path: Path) -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load(path.read_text())
    return data


@pytest.mark.parametrize("path", CATALOGS, ids=lambda p: str(p.relative_to(ROOT)))
def test_bundled_catalogs_validate(path: Path) -> None:
    data = load(path)
    jsonschema.Draft202012Validator(SCHEMA).validate(data)
    json_format.ParseDict(data, catalog_pb2.Catalog())  # and the proto JSON mapping accepts it


def _errors(data: dict[str, Any]) -> list[str]:
    return [e.message for e in jsonschema.Draft202012Validator(SCHEMA).iter_errors(data)]


def test_schema_rejects_typos_bad_prices_and_bad_enums() -> None:
    good = load(ROOT / "examples" / "catalog.yaml")
    typo = copy.deepcopy(good)
    typo["endpoints"][0]["contxt_window_tokens"] = 5
    assert any("contxt_window_tokens" in m for m in _errors(typo))
    price = copy.deepcopy(good)
    price["endpoints"][0]["pricing"]["input_per_mtok"] = "-1"
    assert _errors(price)
    enum = copy.deepcopy(good)
    enum["endpoints"][0]["locality"] = "LOCALITY_MARS"
    assert _errors(enum)
    quality = copy.deepcopy(good)
    quality["endpoints"][0]["role_quality"]["chat"] = 1.5
    assert _errors(quality)
    missing = copy.deepcopy(good)
    del missing["endpoints"][0]["model"]
    assert any("'model' is a required property" in m for m in _errors(missing))
