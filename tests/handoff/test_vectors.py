"""The handoff vectors (spec/vectors/handoff/) reproduced by the reference implementation."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from google.protobuf import json_format

from rolemodel.v1 import catalog_pb2, conversation_pb2, decision_pb2
from rolemodel_router.handoff import HandoffTarget, apply_handoff

ROOT = Path(__file__).resolve().parents[2]
VECTORS = sorted((ROOT / "spec" / "vectors" / "handoff").glob("*.json"))
SCHEMA = json.loads((ROOT / "spec" / "vectors" / "vectors.schema.json").read_text())


def _cases() -> list[Any]:
    return [
        pytest.param(vector, id=vector["id"]) for path in VECTORS for vector in json.loads(path.read_text())["vectors"]
    ]


def test_every_file_follows_the_vector_schema() -> None:
    assert len(VECTORS) >= 5
    ids: set[str] = set()
    for path in VECTORS:
        document = json.loads(path.read_text())
        jsonschema.validate(document, SCHEMA)
        assert document["algorithm"] == "handoff"
        for vector in document["vectors"]:
            assert vector["id"] not in ids, f"vector id {vector['id']} is used twice"
            ids.add(vector["id"])


@pytest.mark.parametrize("vector", _cases())
def test_vector(vector: dict[str, Any]) -> None:
    given = vector["input"]
    endpoint = json_format.ParseDict(given["target"], catalog_pb2.Endpoint())
    policy = json_format.ParseDict(given["policy"], catalog_pb2.HandoffPolicy())
    messages = [json_format.ParseDict(m, conversation_pb2.Message()) for m in given["messages"]]

    handoff = apply_handoff(messages, HandoffTarget.of(endpoint), policy)

    expected = vector["expected"]
    produced = [json_format.MessageToDict(m, preserving_proto_field_name=True) for m in handoff.messages]
    assert produced == expected["messages"]
    transforms = [
        {"kind": decision_pb2.HandoffTransformKind.Name(t.kind), "message_indexes": list(t.message_indexes)}
        for t in handoff.transforms
    ]
    assert transforms == expected["transforms"]
    assert all(t.detail for t in handoff.transforms), "every transform explains itself"
