"""Cost estimates to the unit: the published vectors replayed over the wire, and cold estimates (spec 7).

The fixture's fx-gpt5, fx-mini, fx-opus and fx-deepseek have the prices and
caching rules of the vectors in spec/vectors/cost.json. For every vector whose
endpoint is in the fixture (and whose cache has not expired), the check
builds the vector's situation in a fresh conversation (a pinned first turn
leaves the held prefix, with the reply tokens as its expected output) and
compares the router's estimate with the vector's expected figures, field by
field. Integer equality at these prices is also what shows the arithmetic is
exact (RM-COST-001).
"""

from __future__ import annotations

from typing import Any

from google.protobuf import json_format

from rolemodel.v1 import catalog_pb2, decision_pb2, hints_pb2
from rolemodel_conformance.builders import Prompt, pin, route_request
from rolemodel_conformance.checks import check
from rolemodel_conformance.context import CheckContext
from rolemodel_conformance.expectations import candidate, cost_differences, estimate
from rolemodel_conformance.vectors import load

ROLE = "x-conformance.cost"
COMPARED = (
    "cached_tokens",
    "uncached_tokens",
    "cache_write_tokens",
    "output_tokens",
    "cache_read_picos",
    "uncached_input_picos",
    "cache_write_picos",
    "output_picos",
    "total_picos",
    "steady_turn_picos",
    "amortized_picos",
)


def fixture_endpoint_for(ctx: CheckContext, raw: dict[str, Any]) -> str | None:
    """The fixture endpoint with exactly the vector endpoint's pricing, caching and maximum output."""
    wanted = json_format.ParseDict(raw, catalog_pb2.Endpoint())
    for endpoint in ctx.fixture.catalog.endpoints:
        if ctx.fixture.tier_of(ROLE, endpoint.id) is None:
            continue
        if (endpoint.pricing, endpoint.caching, endpoint.max_output_tokens) == (
            wanted.pricing,
            wanted.caching,
            wanted.max_output_tokens,
        ):
            return endpoint.id
    return None


def _replay(ctx: CheckContext, vector: dict[str, Any], endpoint_id: str) -> decision_pb2.Candidate | None:
    inputs = vector["input"]
    prompt = Prompt.of(inputs["prompt"]["message_tokens"], tools_tokens=inputs["prompt"]["tools_tokens"])
    conversation = ctx.ids.conversation(vector["id"])
    held = inputs["cache"]
    turn = 0
    if held is not None:
        warm = hints_pb2.RoutingHints(
            role=ROLE, endpoint_choice=pin(endpoint_id), expected_output_tokens=held["reply_tokens"]
        )
        ctx.probe.route(route_request(prompt.head(held["held_messages"]).ref(conversation), warm))
        turn = 1
    routing = hints_pb2.RoutingHints(role=ROLE, horizon_turns=inputs["horizon_turns"])
    if inputs["output_tokens"] is not None:
        routing.expected_output_tokens = inputs["output_tokens"]
    decision = ctx.probe.route(route_request(prompt.ref(conversation, turn), routing))
    return candidate(decision, endpoint_id)


@check(
    "cost",
    "The cost vectors, replayed over the wire, match to the unit",
    ("RM-COST-001", "RM-COST-002", "RM-COST-010", "RM-CACHE-001", "RM-ROUTE-003"),
)
def vectors_over_the_wire(ctx: CheckContext) -> None:
    accounting = ctx.claims("ROUTER_CAPABILITY_CACHE_ACCOUNTING")
    for vector in load("cost")["vectors"]:
        inputs = vector["input"]
        endpoint_id = fixture_endpoint_for(ctx, inputs["endpoint"])
        held = inputs["cache"]
        if endpoint_id is None or (held is not None and (held["expired"] or "matched_messages" in held)):
            continue
        if "breakpoints" in inputs["prompt"] or (held is not None and "held_points" in held):
            continue  # a breakpoint layout needs message bodies; the front-door tests replay those
        if held is not None and not accounting:
            continue
        got = _replay(ctx, vector, endpoint_id)
        name = f"{vector['id']} on '{endpoint_id}'"
        if got is None or not got.HasField("cost"):
            ctx.failed("RM-ROUTE-003", f"{name}: the candidate has no cost estimate")
            continue
        ctx.passed("RM-ROUTE-003", f"{name}: the eligible candidate carries a cost estimate")
        expected = vector["expected"]
        wrong = [
            f"{k}: got {getattr(got.cost, k)}, expected {expected[k]}"
            for k in COMPARED
            if getattr(got.cost, k) != expected[k]
        ]
        parts = [w for w in wrong if not w.startswith(("steady", "amortized"))]
        ctx.expect("RM-COST-002", not parts, f"{name}: " + ("; ".join(parts) or "every part matches the vector"))
        ctx.expect("RM-COST-001", not wrong, f"{name}: integer picounits " + ("; ".join(wrong) or "match exactly"))
        horizon = [w for w in wrong if w.startswith(("steady", "amortized"))]
        ctx.expect(
            "RM-COST-010",
            not horizon and got.cost.horizon_turns == inputs["horizon_turns"],
            f"{name}: horizon {got.cost.horizon_turns}; " + ("; ".join(horizon) or "steady and amortised match"),
        )
        if held is not None:
            ctx.expect(
                "RM-CACHE-001",
                got.cache.matched_tokens == expected["matched_tokens"]
                and got.cost.cached_tokens == expected["cached_tokens"],
                f"{name}: matched {got.cache.matched_tokens} (expected {expected['matched_tokens']}), "
                f"cached {got.cost.cached_tokens} (expected {expected['cached_tokens']})",
            )


@check(
    "cost",
    "Cold estimates of every costed candidate follow 7.2 and 7.5",
    ("RM-COST-002", "RM-COST-010", "RM-ROUTE-003"),
)
def cold_estimates(ctx: CheckContext) -> None:
    prompt = Prompt.of([12345, 678, 91], tools_tokens=57)
    for horizon, output in ((1, None), (4, 333)):
        routing = hints_pb2.RoutingHints(role=ROLE, horizon_turns=horizon)
        if output is not None:
            routing.expected_output_tokens = output
        decision = ctx.probe.route(route_request(prompt.ref(ctx.ids.conversation("cold")), routing))
        for c in decision.candidates:
            if ctx.fixture.tier_of(ROLE, c.endpoint_id) is None:
                continue
            ctx.expect(
                "RM-ROUTE-003",
                c.eligible and c.HasField("cost"),
                f"'{c.endpoint_id}' is eligible and carries a cost estimate",
            )
            want = estimate(ctx.fixture, c.endpoint_id, prompt, output_hint=output, horizon=horizon)
            wrong = cost_differences(c.cost, want)
            parts = [w for w in wrong if not w.startswith(("horizon", "steady", "amortized"))]
            ctx.expect("RM-COST-002", not parts, f"'{c.endpoint_id}' H={horizon}: " + ("; ".join(parts) or "exact"))
            amortised = [w for w in wrong if w.startswith(("horizon", "steady", "amortized"))]
            ctx.expect(
                "RM-COST-010",
                not amortised,
                f"'{c.endpoint_id}' H={horizon}: " + ("; ".join(amortised) or "steady and amortised exact"),
            )
