"""The SDK reproduces every published vector in spec/vectors/."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from google.protobuf import json_format

from rolemodel import cost
from rolemodel.digest import canonical_message, digest_chain
from rolemodel.tokens import estimate_message_tokens, estimate_tools_tokens
from rolemodel.v1 import catalog_pb2, conversation_pb2
from rolemodel_conformance.vectors import capacity_vector, cost_vector, latency_vector

VECTORS = Path(__file__).resolve().parents[2] / "spec" / "vectors"
SCHEMA = json.loads((VECTORS / "vectors.schema.json").read_text())


def load(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((VECTORS / name).read_text())
    return data


def vectors(name: str) -> list[Any]:
    return [pytest.param(v, id=v["id"]) for v in load(name)["vectors"]]


@pytest.mark.parametrize("path", sorted(p.name for p in VECTORS.glob("*.json") if p.name != "vectors.schema.json"))
def test_vector_file_matches_its_schema(path: str) -> None:
    jsonschema.validate(load(path), SCHEMA)


def test_vector_ids_are_unique_across_files() -> None:
    ids = [v["id"] for p in VECTORS.glob("*.json") if p.name != "vectors.schema.json" for v in load(p.name)["vectors"]]
    assert len(ids) == len(set(ids))


def _messages(raw: list[dict[str, Any]]) -> list[conversation_pb2.Message]:
    return [json_format.ParseDict(m, conversation_pb2.Message()) for m in raw]


@pytest.mark.parametrize("vector", vectors("digest.json"))
def test_digest_chain(vector: dict[str, Any]) -> None:
    messages = _messages(vector["input"]["messages"])
    expected = vector["expected"]
    assert [canonical_message(m).decode() for m in messages] == expected["canonical"]
    assert [d.hex() for d in digest_chain(messages)] == expected["chain"]


@pytest.mark.parametrize("vector", vectors("tokens.json"))
def test_token_estimate(vector: dict[str, Any]) -> None:
    if "messages" in vector["input"]:
        got = [estimate_message_tokens(m) for m in _messages(vector["input"]["messages"])]
        assert got == vector["expected"]["message_tokens"]
    else:
        tools = [json_format.ParseDict(t, conversation_pb2.ToolDefinition()) for t in vector["input"]["tools"]]
        assert estimate_tools_tokens(tools) == vector["expected"]["tools_tokens"]


@pytest.mark.parametrize("vector", vectors("cost.json"))
def test_turn_cost(vector: dict[str, Any]) -> None:
    assert cost_vector(vector["input"]) == vector["expected"]


@pytest.mark.parametrize("comparison", load("cost.json")["comparisons"], ids=lambda c: c["id"])
def test_cost_comparisons(comparison: dict[str, Any]) -> None:
    by_id = {v["id"]: v for v in load("cost.json")["vectors"]}
    a = cost_vector(by_id[comparison["a"]]["input"])[comparison["by"]]
    b = cost_vector(by_id[comparison["b"]]["input"])[comparison["by"]]
    cheaper = comparison["a"] if a < b else comparison["b"]
    assert cheaper == comparison["cheaper"]


def test_comparisons_cover_both_directions_of_the_seed_question() -> None:
    """Each side (warm expensive, cold cheap) must win at least once."""
    data = load("cost.json")
    winners = {c["cheaper"] for c in data["comparisons"]}
    by_id = {v["id"]: v for v in data["vectors"]}
    cold_wins = [w for w in winners if by_id[w]["input"]["cache"] is None]
    warm_wins = [w for w in winners if by_id[w]["input"]["cache"] is not None]
    assert cold_wins and warm_wins


@pytest.mark.parametrize("vector", vectors("expiry.json"))
def test_cache_expiry(vector: dict[str, Any]) -> None:
    caching = json_format.ParseDict(vector["input"]["caching"], catalog_pb2.CachingBehavior())
    endpoint = catalog_pb2.Endpoint(
        pricing=catalog_pb2.EndpointPricing(currency="USD", input_per_mtok="1", output_per_mtok="1"), caching=caching
    )
    econ = cost.economics_from_endpoint(endpoint)
    expires = 0
    got_expiry, got_warm = [], []
    for event in vector["input"]["events"]:
        now, kind = event["at_ms"], event["kind"]
        live = expires > now
        if kind == "store":
            expires = cost.expiry_after_turn(
                econ, now_ms=now, previous_expires_ms=expires, stored_prefix=True, cache_hit=False
            )
        elif kind == "hit":
            expires = cost.expiry_after_turn(
                econ, now_ms=now, previous_expires_ms=expires, stored_prefix=False, cache_hit=live
            )
        got_expiry.append(expires)
        got_warm.append(expires > now)
    assert got_expiry == vector["expected"]["expires_at_ms"]
    assert got_warm == vector["expected"]["warm"]


@pytest.mark.parametrize("vector", vectors("pacing.json"))
def test_pacing_vectors(vector: dict[str, Any]) -> None:
    from rolemodel_conformance.vectors import pacing_vector

    assert pacing_vector(vector["input"]) == vector["expected"]


@pytest.mark.parametrize("vector", vectors("latency.json"))
def test_expected_latency(vector: dict[str, Any]) -> None:
    got = latency_vector(vector["input"])
    assert got == pytest.approx(vector["expected"], rel=1e-9)


@pytest.mark.parametrize("vector", vectors("capacity.json"))
def test_cache_capacity(vector: dict[str, Any]) -> None:
    assert capacity_vector(vector["input"]) == vector["expected"]
