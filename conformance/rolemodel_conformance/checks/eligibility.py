"""Eligibility: hard constraints are never violated, every exclusion is recorded, pins are honoured or refused.

Expected exclusions come from ``expectations.static_exclusions``: the spec's
table of 6.3 applied to the fixture, never the router's answer. Only the codes
that follow from the request and the catalog are compared; the dynamic ones
(quota, budget, health, failures, tier) have checks of their own.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable

import grpc

from rolemodel.money import amount_to_picos
from rolemodel.v1 import catalog_pb2, common_pb2, conversation_pb2, decision_pb2, hints_pb2
from rolemodel_conformance.builders import ContentPrompt, Prompt, avoid, pin, route_request, user
from rolemodel_conformance.checks import check
from rolemodel_conformance.checks.helpers import expect_refusal
from rolemodel_conformance.context import CheckContext
from rolemodel_conformance.expectations import (
    STATIC_CODES,
    Ask,
    candidate,
    code_name,
    estimate,
    exclusion_codes,
    reasons,
    static_exclusions,
)
from rolemodel_conformance.probe import RouterRefusal

C = conversation_pb2
HARD = STATIC_CODES - {"NOT_IN_ROLE"}


def _image_prompt(ctx: CheckContext) -> ContentPrompt:
    image = C.ContentPart(image=C.ImagePart(media_type="image/png", url="https://example.invalid/cat.png"))
    text = C.ContentPart(text=C.TextPart(text=f"What is in this picture? {ctx.canary()}"))
    return ContentPrompt((C.Message(role=C.MESSAGE_ROLE_USER, parts=[text, image]),), with_counts=True)


def _listing(candidates: Iterable[decision_pb2.Candidate]) -> str:
    """Spec 6.3's form of the metadata exclusions: id:CODE,CODE entries joined by ';' in catalog order."""
    return ";".join(f"{c.endpoint_id}:" + ",".join(code_name(e.code) for e in c.exclusions) for c in candidates)


def _ask(routing: hints_pb2.RoutingHints, prompt_tokens: int, image: bool = False) -> Ask:
    modalities = set(routing.requirements.modalities) | ({common_pb2.MODALITY_IMAGE} if image else set())
    return Ask(
        role=routing.role,
        prompt_tokens=prompt_tokens,
        output_tokens=routing.expected_output_tokens if routing.HasField("expected_output_tokens") else None,
        pinned=routing.endpoint_choice.pinned_endpoint_id,
        avoided=frozenset(routing.endpoint_choice.avoid_endpoint_ids),
        capabilities=frozenset(routing.requirements.capabilities),
        modalities=frozenset(modalities),
        min_context_window=routing.requirements.min_context_window_tokens,
        locality=routing.locality,
        labels=dict(routing.labels),
    )


def compare_exclusions(ctx: CheckContext, decision: decision_pb2.Decision, ask: Ask, what: str) -> None:
    """RM-ELIG-001 for the chosen endpoint and the fallbacks, RM-ELIG-002 for every candidate."""
    for c in decision.candidates:
        want = static_exclusions(ctx.fixture, ask, c.endpoint_id)
        got = exclusion_codes(c) & STATIC_CODES
        if ctx.wants("RM-ELIG-002"):
            ctx.expect(
                "RM-ELIG-002",
                got == want,
                f"{what}: '{c.endpoint_id}' has exclusions {sorted(got)}, expected {sorted(want)}",
            )
    served = [decision.chosen_endpoint_id, *decision.fallback_endpoint_ids]
    for endpoint_id in filter(None, served):
        hard = static_exclusions(ctx.fixture, ask, endpoint_id) & HARD
        ctx.expect(
            "RM-ELIG-001", not hard, f"{what}: '{endpoint_id}' is chosen or a fallback although {sorted(hard)} applies"
        )


def _scenarios(ctx: CheckContext) -> list[tuple[str, hints_pb2.RoutingHints, int]]:
    reasoning = hints_pb2.RoutingHints(role="chat", difficulty=0.0)
    reasoning.requirements.capabilities.append(common_pb2.CAPABILITY_REASONING)
    window = hints_pb2.RoutingHints(role="chat", difficulty=0.6)
    window.requirements.min_context_window_tokens = 300_000
    combined = hints_pb2.RoutingHints(role="chat", difficulty=0.0, endpoint_choice=avoid("fx-mini"))
    combined.requirements.capabilities.append(common_pb2.CAPABILITY_REASONING)
    return [
        ("capability reasoning required", reasoning, 2000),
        ("a 131000-token prompt", hints_pb2.RoutingHints(role="chat", difficulty=0.6), 131_000),
        ("a 300000-token window required", window, 2000),
        (
            "locality local",
            hints_pb2.RoutingHints(role="chat", difficulty=0.9, locality=common_pb2.LOCALITY_LOCAL),
            500,
        ),
        ("locality remote", hints_pb2.RoutingHints(role="chat", locality=common_pb2.LOCALITY_REMOTE), 500),
        (
            "avoid fx-local and fx-mini",
            hints_pb2.RoutingHints(role="chat", endpoint_choice=avoid("fx-local", "fx-mini")),
            500,
        ),
        (
            "deny rule data=private",
            hints_pb2.RoutingHints(role="chat", difficulty=0.9, labels={"data": "private"}),
            500,
        ),
        ("reasoning, avoid fx-mini and a 131000-token prompt", combined, 131_000),
    ]


@check("eligibility", "Hard constraints exclude, and every applicable code is recorded", ("RM-ELIG-001", "RM-ELIG-002"))
def hard_constraints(ctx: CheckContext) -> None:
    for what, routing, tokens in _scenarios(ctx):
        decision = ctx.probe.route(route_request(Prompt.of([tokens]).ref(ctx.ids.conversation("elig")), routing))
        compare_exclusions(ctx, decision, _ask(routing, tokens), what)


@check(
    "eligibility", "An image in the messages requires the image modality", ("RM-HINT-020", "RM-ELIG-001", "RM-ELIG-002")
)
def image_modality(ctx: CheckContext) -> None:
    prompt = _image_prompt(ctx)
    routing = hints_pb2.RoutingHints(role="chat", difficulty=0.0)
    decision = ctx.probe.route(route_request(prompt.ref(ctx.ids.conversation("image")), routing))
    for c in decision.candidates:
        accepts = common_pb2.MODALITY_IMAGE in ctx.fixture.endpoints[c.endpoint_id].input_modalities
        ctx.expect(
            "RM-HINT-020",
            accepts != ("MODALITY_UNSUPPORTED" in exclusion_codes(c)),
            f"'{c.endpoint_id}' (image input: {accepts}) exclusions {sorted(exclusion_codes(c))}",
        )
    compare_exclusions(ctx, decision, _ask(routing, decision.prompt_tokens, image=True), "an image in the prompt")


@check(
    "eligibility",
    "Nothing eligible: NO_ELIGIBLE_ENDPOINT with every candidate's exclusions",
    ("RM-ELIG-003", "RM-ELIG-002"),
)
def nothing_eligible(ctx: CheckContext) -> None:
    routing = hints_pb2.RoutingHints(
        role="chat", locality=common_pb2.LOCALITY_LOCAL, labels={"data": "private"}, endpoint_choice=avoid("fx-mini")
    )
    prompt = _image_prompt(ctx)
    request = route_request(prompt.ref(ctx.ids.conversation("none")), routing)
    refusal = expect_refusal(
        ctx,
        "RM-ELIG-003",
        "image, local only, data=private",
        lambda: ctx.probe.route(request),
        grpc.StatusCode.FAILED_PRECONDITION,
        "NO_ELIGIBLE_ENDPOINT",
        metadata={"role": "chat"},
    )
    if refusal is None:
        return
    listing = refusal.metadata.get("exclusions", "")
    decision = refusal.decision
    ctx.expect("RM-ELIG-003", decision is not None, "a rolemodel.v1.Decision detail is attached")
    if decision is None:
        return
    ids = [c.endpoint_id for c in decision.candidates]
    ctx.expect_equal("RM-ELIG-003", "candidates of the attached decision", ids, ctx.fixture.endpoint_order)
    ctx.expect("RM-ELIG-003", not any(c.eligible for c in decision.candidates), "no candidate is marked eligible")
    what = "metadata exclusions (id:CODE,CODE;... in catalog order)"
    ctx.expect_equal("RM-ELIG-003", what, listing, _listing(decision.candidates))
    ask = _ask(routing, decision.prompt_tokens, image=True)
    for c in decision.candidates:
        want = static_exclusions(ctx.fixture, ask, c.endpoint_id)
        got = exclusion_codes(c) & STATIC_CODES
        ctx.expect(
            "RM-ELIG-002",
            got == want,
            f"refused decision: '{c.endpoint_id}' has {sorted(got)}, expected {sorted(want)}",
        )


@check(
    "eligibility",
    "Pins: honoured over soft filters, refused over hard ones, alone",
    ("RM-ELIG-005", "RM-ELIG-006", "RM-HINT-021"),
)
def pins(ctx: CheckContext) -> None:
    honoured = (
        (
            "fx-local on x-conformance.strict at difficulty 0.9 (below the required tier)",
            hints_pb2.RoutingHints(role="x-conformance.strict", difficulty=0.9, endpoint_choice=pin("fx-local")),
        ),
        (
            "fx-short-ttl on chat (not on the ladder)",
            hints_pb2.RoutingHints(role="chat", endpoint_choice=pin("fx-short-ttl")),
        ),
        (
            "fx-opus on chat at difficulty 0",
            hints_pb2.RoutingHints(role="chat", difficulty=0.0, endpoint_choice=pin("fx-opus")),
        ),
    )
    for what, routing in honoured:
        pinned = routing.endpoint_choice.pinned_endpoint_id
        try:
            decision = ctx.probe.route(route_request(Prompt.of([400]).ref(ctx.ids.conversation("pin")), routing))
        except RouterRefusal as refusal:
            for requirement in ("RM-ELIG-005", "RM-HINT-021"):
                ctx.failed(requirement, f"pin {what} was refused: {refusal}")
            continue
        for requirement in ("RM-ELIG-005", "RM-HINT-021"):
            ctx.expect_equal(requirement, f"pin {what}: chosen endpoint", decision.chosen_endpoint_id, pinned)
        ctx.expect(
            "RM-ELIG-006",
            "PINNED" in reasons(decision) and not decision.fallback_endpoint_ids,
            f"pin {what}: reason PINNED and no fallbacks; got {reasons(decision)}, "
            f"fallbacks {list(decision.fallback_endpoint_ids)}",
        )
    refused = (
        (
            "fx-deepseek with an image",
            hints_pb2.RoutingHints(role="chat", endpoint_choice=pin("fx-deepseek")),
            "MODALITY_UNSUPPORTED",
        ),
        (
            "fx-mini with data=private",
            hints_pb2.RoutingHints(role="chat", endpoint_choice=pin("fx-mini"), labels={"data": "private"}),
            "POLICY_DENIED",
        ),
    )
    for what, routing, code in refused:
        prompt = _image_prompt(ctx) if "image" in what else ContentPrompt((user(f"hello {ctx.canary()}"),))
        request = route_request(prompt.ref(ctx.ids.conversation("pin")), routing)
        for requirement in ("RM-ELIG-005", "RM-HINT-021"):
            refused_pin = expect_refusal(
                ctx,
                requirement,
                f"pin {what}",
                functools.partial(ctx.probe.route, request),
                grpc.StatusCode.FAILED_PRECONDITION,
                "PINNED_ENDPOINT_INELIGIBLE",
                metadata={"endpoint_id": routing.endpoint_choice.pinned_endpoint_id},
            )
            if refused_pin is not None and requirement == "RM-ELIG-005":
                entry = refused_pin.metadata.get("exclusions", "")
                name, _, codes = entry.partition(":")
                pinned = routing.endpoint_choice.pinned_endpoint_id
                ctx.expect(
                    requirement,
                    name == pinned and code in codes.split(",") and ";" not in entry,
                    f"pin {what}: the exclusions metadata is the pinned endpoint's one entry "
                    f"'{routing.endpoint_choice.pinned_endpoint_id}:...' naming {code}: {entry!r}",
                )


def _budget_case(ctx: CheckContext, hint_picos: int) -> tuple[hints_pb2.RoutingHints, int]:
    role = ctx.fixture.roles["x-conformance.strict"]
    budget = amount_to_picos(role.turn_budget.max_cost)
    routing = hints_pb2.RoutingHints(role="x-conformance.strict", difficulty=0.6, expected_output_tokens=100)
    if hint_picos:
        routing.limits.max_cost_picos = hint_picos
        budget = min(budget, hint_picos)
    return routing, budget


@check("eligibility", "Endpoints whose myopic cost exceeds the turn budget are excluded", ("RM-ELIG-004",))
def turn_budget(ctx: CheckContext) -> None:
    prompt = Prompt.of([1000])
    for hint in (0, 5 * 10**9, 3 * 10**8):
        routing, budget = _budget_case(ctx, hint)
        request = route_request(prompt.ref(ctx.ids.conversation("budget")), routing)
        try:
            decision = ctx.probe.route(request)
        except RouterRefusal as refusal:
            if refusal.decision is None:
                ctx.failed("RM-ELIG-004", f"budget {budget}: refused without a decision to inspect: {refusal}")
                continue
            decision = refusal.decision
        ctx.expect_equal(
            "RM-ELIG-004",
            f"hint {hint}: policy.turn_budget_picos (the smallest budget set)",
            decision.policy.turn_budget_picos,
            budget,
        )
        for endpoint_id in ("fx-mini", "fx-opus"):
            myopic = estimate(ctx.fixture, endpoint_id, prompt, output_hint=100).total_picos
            c = candidate(decision, endpoint_id)
            excluded = c is not None and "BUDGET_EXCEEDED" in exclusion_codes(c)
            ctx.expect(
                "RM-ELIG-004",
                excluded == (myopic > budget),
                f"budget {budget}: '{endpoint_id}' costs {myopic}, BUDGET_EXCEEDED {excluded}",
            )


def _tool_exclusions(ctx: CheckContext, requirement: str, tool: C.ToolDefinition, serves: set[str], what: str) -> None:
    """Offer ``tool`` to role chat: exactly the endpoints outside ``serves`` carry TOOL_UNSUPPORTED (both ways).

    The decision may come back refused (no fixture endpoint serves the tool unless the fixture says
    so); the refusal's attached decision is then the one compared.
    """
    ref = Prompt.of([400]).ref(ctx.ids.conversation("tool"))
    ref.tools.append(tool)
    try:
        decision: decision_pb2.Decision | None = ctx.probe.route(
            route_request(ref, hints_pb2.RoutingHints(role="chat"))
        )
    except RouterRefusal as refusal:
        decision = refusal.decision
    if decision is None:
        ctx.failed(requirement, "neither a decision nor a refusal with the decision attached came back")
        return
    for c in decision.candidates:
        excluded = "TOOL_UNSUPPORTED" in exclusion_codes(c)
        ctx.expect(
            requirement,
            excluded == (c.endpoint_id not in serves),
            f"'{c.endpoint_id}' ({what}: {c.endpoint_id in serves}) exclusions {sorted(exclusion_codes(c))}",
        )


@check("eligibility", "A hosted tool excludes every endpoint that does not run it", ("RM-ELIG-007",))
def hosted_tools(ctx: CheckContext) -> None:
    runs = {e.id for e in ctx.fixture.endpoints.values() if "web_search" in e.hosted_tools}
    web_search = C.ToolDefinition(name="web_search", kind=C.TOOL_KIND_HOSTED)
    _tool_exclusions(ctx, "RM-ELIG-007", web_search, runs, "runs web_search")


def _speaks_responses(endpoint: catalog_pb2.Endpoint) -> bool:
    """Spec 8.1: the connection's dialect; unspecified is Messages for Anthropic, Chat Completions otherwise."""
    return endpoint.connection.api_dialect == common_pb2.API_DIALECT_OPENAI_RESPONSES


@check("eligibility", "A custom tool excludes every endpoint that does not speak the Responses API", ("RM-ELIG-008",))
def custom_tools(ctx: CheckContext) -> None:
    speaks = {e.id for e in ctx.fixture.endpoints.values() if _speaks_responses(e)}
    patch = C.ToolDefinition(name="apply_patch", kind=C.TOOL_KIND_CUSTOM, description="Apply a patch.")
    namespace = C.ToolDefinition(name="editing", kind=C.TOOL_KIND_NAMESPACE, tools=[patch])
    _tool_exclusions(ctx, "RM-ELIG-008", patch, speaks, "speaks Responses, offered a custom tool at the top level")
    _tool_exclusions(ctx, "RM-ELIG-008", namespace, speaks, "speaks Responses, offered one inside a namespace")
