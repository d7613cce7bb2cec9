"""What the spec says a router must answer, computed from the fixture alone.

These functions restate spec chapters 6 and 7 for the fixture: the static
exclusions of an endpoint (6.3), the difficulty tier (6.5), and cost estimates
(7.2, 7.3, 7.5) through the SDK's normative arithmetic, which the suite first
checks against the published vectors (``--vectors``). They never look at the
router's answer, so a router cannot pass by agreeing with itself.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass, field

from rolemodel import cost
from rolemodel.v1 import catalog_pb2, common_pb2, decision_pb2
from rolemodel_conformance.builders import Prompt
from rolemodel_conformance.fixture import Fixture

D = decision_pb2
#: Exclusions that follow from the request and the catalog alone, never from state.
STATIC_CODES = frozenset(
    {
        "NOT_IN_ROLE",
        "NOT_PINNED",
        "AVOIDED",
        "CAPABILITY_MISSING",
        "MODALITY_UNSUPPORTED",
        "CONTEXT_WINDOW_EXCEEDED",
        "LOCALITY_MISMATCH",
        "POLICY_DENIED",
    }
)


def code_name(code: D.ExclusionCode.ValueType) -> str:
    return D.ExclusionCode.Name(code).removeprefix("EXCLUSION_CODE_")


def reason_name(code: D.ReasonCode.ValueType) -> str:
    return D.ReasonCode.Name(code).removeprefix("REASON_CODE_")


@dataclass(frozen=True)
class Ask:
    """The parts of a request that decide static eligibility."""

    role: str
    prompt_tokens: int
    output_tokens: int | None = None
    pinned: str = ""
    avoided: frozenset[str] = frozenset()
    capabilities: frozenset[int] = frozenset()
    modalities: frozenset[int] = frozenset()
    min_context_window: int = 0
    locality: int = common_pb2.LOCALITY_UNSPECIFIED
    labels: Mapping[str, str] = field(default_factory=dict)


def expected_output(fixture: Fixture, endpoint_id: str, hinted: int | None) -> int:
    return cost.expected_output_tokens(fixture.economics(endpoint_id), hinted)


def _denied(fixture: Fixture, ask: Ask, endpoint: catalog_pb2.Endpoint) -> bool:
    for rule in fixture.catalog.policies.deny_rules:
        if rule.roles and ask.role not in rule.roles:
            continue
        if any(ask.labels.get(k) != v for k, v in rule.labels.items()):
            continue
        if endpoint.id in rule.endpoint_ids or (rule.locality and rule.locality == endpoint.locality):
            return True
    return False


def static_exclusions(fixture: Fixture, ask: Ask, endpoint_id: str) -> set[str]:
    """The exclusion codes of spec 6.3 that follow from the request and the catalog alone."""
    endpoint = fixture.endpoints[endpoint_id]
    role = fixture.roles[ask.role]
    codes: set[str] = set()
    if ask.pinned and ask.pinned != endpoint_id:
        codes.add("NOT_PINNED")
    if fixture.tier_of(ask.role, endpoint_id) is None:
        codes.add("NOT_IN_ROLE")
    if endpoint_id in ask.avoided:
        codes.add("AVOIDED")
    needed = set(role.required_capabilities) | set(ask.capabilities)
    if needed - set(endpoint.capabilities):
        codes.add("CAPABILITY_MISSING")
    accepted = set(endpoint.input_modalities) | {common_pb2.MODALITY_TEXT}
    if set(ask.modalities) - accepted:
        codes.add("MODALITY_UNSUPPORTED")
    output = expected_output(fixture, endpoint_id, ask.output_tokens)
    window = endpoint.context_window_tokens
    if ask.prompt_tokens + output > window or ask.min_context_window > window:
        codes.add("CONTEXT_WINDOW_EXCEEDED")
    if ask.locality and ask.locality != endpoint.locality:
        codes.add("LOCALITY_MISMATCH")
    if _denied(fixture, ask, endpoint):
        codes.add("POLICY_DENIED")
    return codes


def difficulty_tier(fixture: Fixture, role: str, difficulty: float, top_threshold: float | None = None) -> int:
    """The highest tier whose min_difficulty is set and at most the difficulty (spec 6.5); tier 0 always."""
    ladder = fixture.roles[role].ladder
    tier = 0
    for index in range(1, len(ladder)):
        floor = ladder[index].min_difficulty if ladder[index].HasField("min_difficulty") else None
        if index == len(ladder) - 1 and top_threshold is not None:
            floor = top_threshold
        if floor is not None and difficulty >= floor:
            tier = index
    return tier


@dataclass(frozen=True)
class Held:
    """What an endpoint holds for a conversation: a prompt prefix and the reply tokens after it."""

    prompt: Prompt
    reply_tokens: int


def cached_tokens(fixture: Fixture, endpoint_id: str, prompt: Prompt, held: Held | None) -> tuple[int, int]:
    """(matched, C) for a live entry, as spec 7.3 defines; (0, 0) without an entry."""
    if held is None:
        return 0, 0
    econ = fixture.economics(endpoint_id)
    matched_messages = cost.matched_prefix_messages(list(prompt.digests), list(held.prompt.digests))
    matched = cost.matched_prefix_tokens(
        prompt.cumulative,
        matched_messages=matched_messages,
        held_messages=len(held.prompt.digests),
        reply_tokens=held.reply_tokens,
        includes_output=econ.includes_output,
        generation_prompt_tokens=econ.generation_prompt_tokens,
    )
    return matched, cost.cacheable_tokens(econ, matched)


def estimate(
    fixture: Fixture,
    endpoint_id: str,
    prompt: Prompt,
    *,
    held: Held | None = None,
    output_hint: int | None = None,
    horizon: int = 1,
) -> decision_pb2.CostEstimate:
    """The CostEstimate a router must report for ``endpoint_id`` (spec 7.2 to 7.5)."""
    econ = fixture.economics(endpoint_id)
    _, cached = cached_tokens(fixture, endpoint_id, prompt, held)
    output = cost.expected_output_tokens(econ, output_hint)
    amortized = cost.amortized_cost(
        econ,
        prompt_tokens=prompt.tokens,
        cached_tokens=cached,
        new_tokens=prompt.new_tokens,
        output_tokens=output,
        horizon_turns=horizon,
    )
    return cost.to_proto(amortized.turn, econ.currency, amortized)


#: The fields of one turn's CostEstimate (spec 7.2); a reported cost has only these.
TURN_COST_FIELDS = (
    "currency",
    "prompt_tokens",
    "cached_tokens",
    "uncached_tokens",
    "cache_write_tokens",
    "output_tokens",
    "cache_read_picos",
    "uncached_input_picos",
    "cache_write_picos",
    "output_picos",
    "total_picos",
)
#: A candidate's estimate adds the amortisation (spec 7.5).
COST_FIELDS = (*TURN_COST_FIELDS, "horizon_turns", "steady_turn_picos", "amortized_picos")


def cost_differences(
    got: decision_pb2.CostEstimate, want: decision_pb2.CostEstimate, fields: Collection[str] = COST_FIELDS
) -> list[str]:
    """Field-by-field differences, as 'field: got X, expected Y'."""
    return [
        f"{name}: got {getattr(got, name)}, expected {getattr(want, name)}"
        for name in fields
        if getattr(got, name) != getattr(want, name)
    ]


def candidate(decision: decision_pb2.Decision, endpoint_id: str) -> decision_pb2.Candidate | None:
    for c in decision.candidates:
        if c.endpoint_id == endpoint_id:
            return c
    return None


def reasons(decision: decision_pb2.Decision) -> list[str]:
    return [reason_name(r.code) for r in decision.reasons]


def reason(decision: decision_pb2.Decision, name: str) -> decision_pb2.SelectionReason | None:
    for r in decision.reasons:
        if reason_name(r.code) == name:
            return r
    return None


def exclusion_codes(c: decision_pb2.Candidate) -> set[str]:
    return {code_name(e.code) for e in c.exclusions}
