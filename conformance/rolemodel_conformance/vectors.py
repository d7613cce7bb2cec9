"""The spec's test vectors, run against the arithmetic the suite itself relies on.

The suite computes its cost, token and digest expectations with the rolemodel
SDK, and its handoff expectations with ``handoff_rules``. Before those
expectations are held against a router, this module checks that they reproduce
every published vector (``spec/vectors/*.json`` and ``spec/vectors/handoff/``)
field by field: a suite whose own arithmetic drifted from the spec must not
judge anyone. ``rolemodel-conformance --vectors`` prints the result per vector; the
runner refuses to run (exit 2) when any vector fails.

Implementers in other languages run the same files in their own unit tests;
docs/conformance.md explains how to read each algorithm's input and expected
output.
"""

from __future__ import annotations

import functools
import json
import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import jsonschema
from google.protobuf import json_format
from rich.console import Console

from rolemodel import cache_capacity, cost, explicit_cache, latency, pacing
from rolemodel.digest import canonical_message, digest_chain
from rolemodel.tokens import estimate_message_tokens, estimate_tools_tokens
from rolemodel.v1 import catalog_pb2, conversation_pb2, decision_pb2
from rolemodel_conformance.handoff_rules import expected_handoff
from rolemodel_conformance.registry import read_data

HANDOFF_FILES = ("reasoning", "response-ids", "tool-ids", "images", "breakpoints", "kept", "responses")
FILES = (
    "digest",
    "tokens",
    "cost",
    "expiry",
    "pacing",
    "latency",
    "capacity",
    *(f"handoff.{name}" for name in HANDOFF_FILES),
)
#: Latency vectors hold milliseconds as floats; everything else compares exactly.
RELATIVE_TOLERANCE = 1e-9


@dataclass(frozen=True)
class VectorResult:
    file: str
    id: str
    ok: bool
    detail: str


def load(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(read_data(f"vectors.{name}.json"))
    return data


def _messages(raw: list[dict[str, Any]]) -> list[conversation_pb2.Message]:
    return [json_format.ParseDict(m, conversation_pb2.Message()) for m in raw]


def digest_vector(inputs: dict[str, Any]) -> dict[str, Any]:
    messages = _messages(inputs["messages"])
    return {
        "canonical": [canonical_message(m).decode() for m in messages],
        "chain": [d.hex() for d in digest_chain(messages)],
    }


def token_vector(inputs: dict[str, Any]) -> dict[str, Any]:
    if "messages" in inputs:
        return {"message_tokens": [estimate_message_tokens(m) for m in _messages(inputs["messages"])]}
    tools = [json_format.ParseDict(t, conversation_pb2.ToolDefinition()) for t in inputs["tools"]]
    return {"tools_tokens": estimate_tools_tokens(tools)}


def cost_vector(inputs: dict[str, Any]) -> dict[str, Any]:
    """Spec 7.2 to 7.5 for one vector: match the held prefix, apply minimum and granularity, price, amortise.

    An explicit-caching vector may give the prompt's ``breakpoints`` ({tokens, block, ttl_seconds}) and
    the cache's ``held_points`` ({tokens, block}, placed in this prompt); without them the prompt has
    one breakpoint on its last message, the held prefix one point at its end, and each message is a block.
    """
    endpoint = json_format.ParseDict(inputs["endpoint"], catalog_pb2.Endpoint())
    econ = cost.economics_from_endpoint(endpoint)
    prompt = inputs["prompt"]
    cumulative, running = [], prompt["tools_tokens"]
    for tokens in prompt["message_tokens"]:
        running += tokens
        cumulative.append(running)
    held, matched, cached = inputs["cache"], 0, 0
    breakpoints = None
    if econ.explicit:
        given = prompt.get("breakpoints")
        breakpoints = (
            [explicit_cache.Breakpoint(b["tokens"], b["block"], b.get("ttl_seconds", 0)) for b in given]
            if given is not None
            else list(explicit_cache.at_prompt_end(cumulative[-1], len(cumulative)))
        )
    if held is not None and econ.explicit:
        points = held.get("held_points")
        if points is None:
            points = [{"tokens": cumulative[held["held_messages"] - 1], "block": held["held_messages"] - 1}]
        found = [explicit_cache.HeldPoint(h["tokens"], h["block"]) for h in points]
        matched = max((h.tokens for h in found), default=0)
        read = explicit_cache.read_tokens(found, breakpoints or [])
        cached = 0 if held["expired"] else cost.cacheable_tokens(econ, read)
    elif held is not None:
        matched = cost.matched_prefix_tokens(
            cumulative,
            matched_messages=held.get("matched_messages", held["held_messages"]),
            held_messages=held["held_messages"],
            reply_tokens=held["reply_tokens"],
            includes_output=econ.includes_output,
            generation_prompt_tokens=econ.generation_prompt_tokens,
        )
        cached = 0 if held["expired"] else cost.cacheable_tokens(econ, matched)
    output = cost.expected_output_tokens(econ, inputs["output_tokens"])
    amortized = cost.amortized_cost(
        econ,
        prompt_tokens=cumulative[-1],
        cached_tokens=cached,
        new_tokens=prompt["message_tokens"][-1],
        output_tokens=output,
        horizon_turns=inputs["horizon_turns"],
        breakpoints=breakpoints,
    )
    turn = amortized.turn
    return {
        "matched_tokens": matched,
        "cached_tokens": turn.cached_tokens,
        "uncached_tokens": turn.uncached_tokens,
        "cache_write_tokens": turn.cache_write_tokens,
        "output_tokens": turn.output_tokens,
        "cache_read_picos": turn.cache_read_picos,
        "uncached_input_picos": turn.uncached_input_picos,
        "cache_write_picos": turn.cache_write_picos,
        "output_picos": turn.output_picos,
        "total_picos": turn.total_picos,
        "steady_turn_picos": amortized.steady.total_picos,
        "amortized_picos": amortized.amortized_picos,
    }


def expiry_vector(inputs: dict[str, Any]) -> dict[str, Any]:
    caching = json_format.ParseDict(inputs["caching"], catalog_pb2.CachingBehavior())
    pricing = catalog_pb2.EndpointPricing(currency="USD", input_per_mtok="1", output_per_mtok="1")
    econ = cost.economics_from_endpoint(catalog_pb2.Endpoint(pricing=pricing, caching=caching))
    expires, expiries, warm = 0, [], []
    for event in inputs["events"]:
        now, kind = event["at_ms"], event["kind"]
        if kind in ("store", "hit"):
            expires = cost.expiry_after_turn(
                econ,
                now_ms=now,
                previous_expires_ms=expires,
                stored_prefix=kind == "store",
                cache_hit=kind == "hit" and expires > now,
            )
        expiries.append(expires)
        warm.append(expires > now)
    return {"expires_at_ms": expiries, "warm": warm}


def latency_vector(inputs: dict[str, Any]) -> dict[str, Any]:
    """Spec 6.6.1 for one vector: the expected time to first token and the latency component's parts."""
    estimate = latency.estimate(
        base_ms=inputs["base_ms"],
        prefill_tokens=inputs["prompt_tokens"] - inputs["cached_tokens"],
        prefill_tokens_per_second=inputs["prefill_tokens_per_second"],
        output_tokens=inputs["output_tokens"],
        output_tokens_per_second=inputs["output_tokens_per_second"],
        evicted_tokens=inputs["evicted_tokens"],
        cached_tokens=inputs["cached_tokens"],
        half_speed_depth_tokens=inputs.get("prefill_half_speed_depth_tokens", 0),
    )
    return {
        "prefill_tokens": estimate.prefill_tokens,
        "prefill_depth_tokens": estimate.prefill_depth_tokens,
        "prefill_ms": estimate.prefill_ms,
        "ttft_ms": estimate.ttft_ms,
        "output_ms": estimate.output_ms,
        "eviction_ms": estimate.eviction_ms,
        "total_ms": estimate.total_ms,
    }


def capacity_vector(inputs: dict[str, Any]) -> dict[str, Any]:
    """Spec 7.7 for one vector: admit each event in order, from an empty cache."""
    capacity = cache_capacity.Capacity(inputs["capacity"]["max_sequences"], inputs["capacity"]["max_tokens"])
    residents: tuple[cache_capacity.Resident, ...] = ()
    admissions = []
    for event in inputs["events"]:
        admission = cache_capacity.admit(residents, capacity, event["key"], event["tokens"], event["at_ms"])
        residents = admission.residents
        admissions.append(
            {
                "slot": admission.slot,
                "evicted": [r.key for r in admission.evicted],
                "residents": [r.key for r in residents],
            }
        )
    return {"admissions": admissions}


def handoff_vector(inputs: dict[str, Any]) -> dict[str, Any]:
    """Spec chapter 8 for one vector: the transformed messages, and each transform kind in kind order."""
    target = json_format.ParseDict(inputs["target"], catalog_pb2.Endpoint())
    policy = json_format.ParseDict(inputs["policy"], catalog_pb2.HandoffPolicy())
    handoff = expected_handoff(_messages(inputs["messages"]), target, policy)
    kinds = sorted(handoff.transforms, key=lambda name: decision_pb2.HandoffTransformKind.Value(_KIND + name))
    return {
        "messages": [json_format.MessageToDict(m, preserving_proto_field_name=True) for m in handoff.messages],
        "transforms": [{"kind": _KIND + name, "message_indexes": handoff.transforms[name]} for name in kinds],
    }


def _round(value: float) -> float:
    """Pacing vectors publish six decimals: enough to tell every rule apart, robust to float order."""
    return round(value, 6)


def pacing_vector(inputs: dict[str, Any]) -> dict[str, Any]:
    """Replay each window's events from an empty state, then pace at ``now_ms`` (spec 9.8)."""
    states, rules = [], []
    for window in inputs["windows"]:
        rule = window["rule"]
        rules.append(pacing.WindowRule(rule["prior_per_turn"], rule["window_seconds"], rule["target"]))
        state = pacing.UsageWindowState()
        for event in window["events"]:
            if event["kind"] == "turns":
                for _ in range(event["count"]):
                    state = pacing.record_turn(state, event["at_ms"])
            elif event["kind"] == "routable":
                for _ in range(event["count"]):
                    state = pacing.record_routable(state, event["at_ms"])
            elif event["kind"] == "report":
                state = pacing.record_report(state, event["used"], event["resets_at_ms"], event["at_ms"])
            else:
                raise ValueError(f"unknown event kind {event['kind']!r}")
        states.append(state)
    rate = inputs["turns_per_hour"]
    result = pacing.pace(states, rules, inputs["now_ms"], rate / 3_600_000 if rate else None)
    return {
        "share": _round(result.share),
        "binding": result.binding,
        "hard_stop": result.hard_stop,
        "windows": [
            {
                "share": _round(w.share),
                "used_estimate": _round(w.used_estimate),
                "per_turn": _round(w.per_turn),
                "backed": w.backed,
                "hard_stop": w.hard_stop,
            }
            for w in result.windows
        ],
    }


_KIND = "HANDOFF_TRANSFORM_KIND_"
EVALUATORS: dict[str, Callable[[dict[str, Any]], dict[str, Any]]] = {
    "digest": digest_vector,
    "tokens": token_vector,
    "cost": cost_vector,
    "expiry": expiry_vector,
    "pacing": pacing_vector,
    "latency": latency_vector,
    "capacity": capacity_vector,
    **{f"handoff.{name}": handoff_vector for name in HANDOFF_FILES},
}


def _same(got: Any, expected: Any) -> bool:
    if isinstance(got, float) or isinstance(expected, float):
        return math.isclose(float(got), float(expected), rel_tol=RELATIVE_TOLERANCE, abs_tol=RELATIVE_TOLERANCE)
    return bool(got == expected)


def _compare(got: dict[str, Any], expected: dict[str, Any]) -> list[str]:
    """Compare the fields the vector publishes (digest vectors also publish per-message hashes)."""
    return [
        f"{k}: got {got[k]!r}, expected {expected[k]!r}"
        for k in got
        if k in expected and not _same(got[k], expected[k])
    ]


@functools.cache
def results() -> tuple[VectorResult, ...]:
    schema = json.loads(read_data("vectors.schema.json"))
    out: list[VectorResult] = []
    for name in FILES:
        data = load(name)
        jsonschema.validate(data, schema)
        for vector in data["vectors"]:
            try:
                problems = _compare(EVALUATORS[name](vector["input"]), vector["expected"])
            except (ValueError, KeyError) as error:
                problems = [f"cannot evaluate: {error}"]
            out.append(VectorResult(name, vector["id"], not problems, "; ".join(problems)))
    return tuple(out)


def failures() -> list[VectorResult]:
    return [r for r in results() if not r.ok]


def main(console: Console) -> int:
    """Print one line per vector; 0 when all reproduce, 1 otherwise."""
    for result in results():
        mark = "[green]ok[/]" if result.ok else f"[red]FAIL[/] {result.detail}"
        console.print(f"{result.file:22} {result.id:12} {mark}")
    bad = failures()
    console.print(f"{len(results()) - len(bad)} of {len(results())} vectors reproduced")
    return 0 if not bad else 1
