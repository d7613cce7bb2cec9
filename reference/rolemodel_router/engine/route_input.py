"""Validate a RouteRequest and turn it into the engine's input (spec chapters 4 and 5).

Validation runs before any state is read, collects every violation into
one BadRequest, and then verifies digests. What comes out is plain data the
engine can trust: digests and cumulative token counts, the resolved role,
the effective requirements.
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from dataclasses import dataclass

from rolemodel.v1 import catalog_pb2, common_pb2, conversation_pb2, hints_pb2, router_service_pb2
from rolemodel_router.engine.catalog_index import CatalogIndex, RoleIndex
from rolemodel_router.engine.conversation_input import EMPTY_READING, read_conversation
from rolemodel_router.engine.digest_chain import DigestChain
from rolemodel_router.engine.errors import Violations
from rolemodel_router.engine.limits import (
    MAX_COUNT_TOKENS,
    MAX_DECISION_ID,
    MAX_FORCE_LEVEL,
    MAX_HORIZON_TURNS,
    MAX_PROMPT_TOKENS,
    Limits,
)
from rolemodel_router.engine.message_checks import CONVERSATION_ID, check_string, tool_loop
from rolemodel_router.engine.verified_prefix import VerifiedPrefix, Wire

__all__ = ["CONVERSATION_ID", "FAILURE_CLASSES", "RouteInput", "build_route_input"]

_STRATEGIES = frozenset(common_pb2.Strategy.values())
_CAPABILITIES = frozenset(common_pb2.Capability.values()) - {common_pb2.CAPABILITY_UNSPECIFIED}
_MODALITIES = frozenset(common_pb2.Modality.values()) - {common_pb2.MODALITY_UNSPECIFIED}
_LOCALITIES = frozenset(common_pb2.Locality.values())
_OUTCOMES = frozenset(common_pb2.OutcomeClass.values())
FAILURE_CLASSES = frozenset(
    {
        common_pb2.OUTCOME_CLASS_RATE_LIMITED,
        common_pb2.OUTCOME_CLASS_TIMEOUT,
        common_pb2.OUTCOME_CLASS_SERVER_ERROR,
        common_pb2.OUTCOME_CLASS_CONTEXT_OVERFLOW,
    }
)


@dataclass(frozen=True)
class RouteInput:
    """A validated request, in the terms of the engine."""

    conversation_id: str
    turn_index: int
    digests: DigestChain
    cumulative_tokens: tuple[int, ...]  # through each message, tools included
    tools_tokens: int
    prompt_tokens: int
    new_tokens: int
    estimated_messages: int
    tool_call_pending: bool
    has_images: bool
    role: RoleIndex
    hints: hints_pb2.RoutingHints
    strategy: common_pb2.Strategy.ValueType
    difficulty: float | None
    capabilities: frozenset[common_pb2.Capability.ValueType]
    modalities: frozenset[common_pb2.Modality.ValueType]
    min_context_window: int
    locality: common_pb2.Locality.ValueType
    pinned: str
    avoided: frozenset[str]
    expected_output_tokens: int | None
    horizon_turns: int | None
    side_request: bool
    merge_back: bool
    force_level: int | None
    previous_decision_id: str
    previous_failed: bool
    max_cost_picos: int
    latency_target_ms: int
    include_handoff: bool
    plan_handoff: bool  # the router applies the handoff: include_handoff, or Execute
    dry_run: bool
    #: List only the candidates that bear on the request, counting the others (spec 6.1, RM-ROUTE-012).
    compact_candidates: bool
    messages: Sequence[conversation_pb2.Message]  # empty unless every message carries content
    hosted_tools: frozenset[str] = frozenset()  # types of the hosted tools the request offers
    custom_tools: frozenset[str] = frozenset()  # names of the custom (free-form) tools, which only Responses has
    # Execute only: the router calls the model, so an endpoint that needs the client's own credential
    # is eligible only when the call carries every header it names (spec 12.4). Names, never values.
    executes: bool = False
    credential_names: frozenset[str] = frozenset()
    #: Execute only: endpoints whose key variable (connection.api_key_env) is not set (spec 10.3).
    unconfigured: frozenset[str] = frozenset()
    #: This request's messages as verified, when asked for: the next request of the conversation builds on it.
    verified: VerifiedPrefix | None = None
    #: Each message's first content block, and the client's cache breakpoints as (message, part, TTL):
    #: read once with the messages, so that an explicit cache's layout (spec 7.2.1) reads no message again.
    block_starts: tuple[int, ...] = ()
    cache_marks: tuple[tuple[int, int, int], ...] = ()

    @property
    def isolated(self) -> bool:
        """An isolated side request: it must leave the conversation's state untouched."""
        return self.side_request and not self.merge_back


def _enum_list(v: Violations, field: str, values: list[int], allowed: frozenset[int]) -> None:
    for i, value in enumerate(values):
        if value not in allowed:
            v.add(f"{field}[{i}]", f"unknown or unspecified value {value}")


def _validate_endpoint_choice(
    v: Violations, choice: hints_pb2.EndpointChoice, index: CatalogIndex, limits: Limits
) -> None:
    s = limits.max_string_bytes
    pinned = choice.pinned_endpoint_id
    if pinned:
        if len(pinned.encode()) > s:
            v.add("hints.endpoint_choice.pinned_endpoint_id", f"longer than {s} bytes")
        elif pinned not in index.endpoints:
            v.unknown_endpoint("hints.endpoint_choice.pinned_endpoint_id", pinned)
        if pinned in choice.avoid_endpoint_ids:
            v.add("hints.endpoint_choice.pinned_endpoint_id", "is also in avoid_endpoint_ids")
    if len(choice.avoid_endpoint_ids) > limits.max_labels:
        v.add("hints.endpoint_choice.avoid_endpoint_ids", f"more than {limits.max_labels} entries")
        return
    for i, endpoint_id in enumerate(choice.avoid_endpoint_ids):
        if len(endpoint_id.encode()) > s:
            v.add(f"hints.endpoint_choice.avoid_endpoint_ids[{i}]", f"longer than {s} bytes")
        elif endpoint_id not in index.endpoints:
            v.unknown_endpoint(f"hints.endpoint_choice.avoid_endpoint_ids[{i}]", endpoint_id)


def _validate_escalation(v: Violations, esc: hints_pb2.EscalationHint) -> None:
    if esc.failure_class not in _OUTCOMES:
        v.add("hints.escalation.failure_class", f"unknown value {esc.failure_class}")
    if len(esc.previous_decision_id) > MAX_DECISION_ID:
        v.add("hints.escalation.previous_decision_id", f"longer than {MAX_DECISION_ID} characters")
    if esc.HasField("force_level") and esc.force_level > MAX_FORCE_LEVEL:
        v.add("hints.escalation.force_level", f"above {MAX_FORCE_LEVEL}")


def _validate_labels(v: Violations, hints: hints_pb2.RoutingHints, limits: Limits) -> None:
    s = limits.max_string_bytes
    if len(hints.labels) > limits.max_labels:
        v.add("hints.labels", f"more than {limits.max_labels} labels")
        return
    for key, value in hints.labels.items():
        if len(key.encode()) > s or len(value.encode()) > s:
            field = f"hints.labels[{json.dumps(key[:32], ensure_ascii=False)}]"
            v.add(field, f"key and value are limited to {s} bytes")


def _validate_numbers(v: Violations, hints: hints_pb2.RoutingHints) -> None:
    if hints.HasField("difficulty") and not (math.isfinite(hints.difficulty) and 0.0 <= hints.difficulty <= 1.0):
        v.add("hints.difficulty", "must be a number in [0, 1]")
    if hints.limits.max_cost_picos < 0:
        v.add("hints.limits.max_cost_picos", "must not be negative")
    if hints.HasField("expected_output_tokens") and hints.expected_output_tokens > MAX_COUNT_TOKENS:
        v.add("hints.expected_output_tokens", f"above {MAX_COUNT_TOKENS}")
    if hints.HasField("horizon_turns") and not 1 <= hints.horizon_turns <= MAX_HORIZON_TURNS:
        v.add("hints.horizon_turns", f"must be 1 to {MAX_HORIZON_TURNS}")


def _validate_hints(v: Violations, hints: hints_pb2.RoutingHints, index: CatalogIndex, limits: Limits) -> None:
    s = limits.max_string_bytes
    if not hints.role:
        v.add("hints.role", "required")
    elif len(hints.role.encode()) > s:
        v.add("hints.role", f"longer than {s} bytes")
    elif hints.role not in index.roles:
        v.unknown_role("hints.role", hints.role)
    check_string(v, "hints.task", hints.task, s)
    if hints.strategy not in _STRATEGIES:
        v.add("hints.strategy", f"unknown value {hints.strategy}")
    if hints.locality not in _LOCALITIES:
        v.add("hints.locality", f"unknown value {hints.locality}")
    _enum_list(v, "hints.requirements.capabilities", list(hints.requirements.capabilities), _CAPABILITIES)
    _enum_list(v, "hints.requirements.modalities", list(hints.requirements.modalities), _MODALITIES)
    _validate_numbers(v, hints)
    _validate_endpoint_choice(v, hints.endpoint_choice, index, limits)
    _validate_escalation(v, hints.escalation)
    _validate_labels(v, hints, limits)


def build_route_input(
    request: router_service_pb2.RouteRequest,
    index: CatalogIndex,
    limits: Limits,
    *,
    require_content: bool = False,
    violations: Violations | None = None,
    known: VerifiedPrefix | None = None,
    remember: bool = False,
    wire: Wire | None = None,
) -> RouteInput:
    """Validate and resolve a RouteRequest; raises RouterError (spec 5.2 and 4.2).

    ``require_content`` is Execute's rule (RM-EXEC-004): each message without content is a
    violation of its own. ``violations`` may already hold the caller's own findings, so that one
    error reports every problem of the request. ``known`` is what an earlier request of the
    conversation verified: the messages this request repeats byte for byte are not read again.
    ``remember`` fills ``RouteInput.verified`` for the next request to build on. ``wire`` is the
    conversation's bytes as received, when the transport kept them.
    """
    v = violations if violations is not None else Violations()
    conv = request.conversation
    reading = EMPTY_READING
    if not request.HasField("conversation"):
        v.add("conversation", "required")
    else:
        reading = read_conversation(
            v, conv, limits, known=known, remember=remember, wire=wire, require_content=require_content
        )
    if not request.HasField("hints"):
        v.add("hints", "required")
    else:
        _validate_hints(v, request.hints, index, limits)
    if require_content:
        for i in reading.without_content:
            v.add(f"conversation.messages[{i}]", "Execute needs the content of every message")
    elif request.include_handoff and not reading.all_content:
        v.add("include_handoff", "needs the content of every message")
    v.raise_if_any()
    reading.raise_mismatch()

    cumulative = reading.cumulative_tokens
    prompt_tokens = cumulative[-1]
    if prompt_tokens > MAX_PROMPT_TOKENS:
        v.add("conversation.messages", f"the prompt exceeds {MAX_PROMPT_TOKENS} tokens")
        v.raise_if_any()
    hints = request.hints
    role = index.roles[hints.role]
    messages = reading.messages
    pending = conv.tool_call_pending or (bool(messages) and tool_loop(messages))
    modalities = set(hints.requirements.modalities)
    if reading.has_images and role.role.handoff.images != catalog_pb2.IMAGE_HANDOFF_PLACEHOLDER:
        modalities.add(common_pb2.MODALITY_IMAGE)
    side = hints.HasField("side_request")
    if side and hints.side_request.HasField("merge_back"):
        merge_back = hints.side_request.merge_back
    else:
        merge_back = role.role.side_requests.merge_back if side else True
    esc = hints.escalation
    return RouteInput(
        conversation_id=conv.conversation_id,
        turn_index=conv.turn_index,
        digests=reading.digests,
        cumulative_tokens=cumulative,
        tools_tokens=reading.tools_tokens,
        prompt_tokens=prompt_tokens,
        new_tokens=cumulative[-1] - (cumulative[-2] if len(cumulative) > 1 else reading.tools_tokens),
        estimated_messages=reading.estimated_messages,
        tool_call_pending=pending,
        has_images=reading.has_images,
        role=role,
        hints=hints,
        strategy=hints.strategy or role.role.default_strategy or common_pb2.STRATEGY_BALANCED,
        difficulty=hints.difficulty if hints.HasField("difficulty") else None,
        capabilities=role.required_capabilities | frozenset(hints.requirements.capabilities),
        modalities=frozenset(modalities),
        min_context_window=hints.requirements.min_context_window_tokens,
        locality=hints.locality,
        pinned=hints.endpoint_choice.pinned_endpoint_id,
        avoided=frozenset(hints.endpoint_choice.avoid_endpoint_ids),
        expected_output_tokens=hints.expected_output_tokens if hints.HasField("expected_output_tokens") else None,
        horizon_turns=hints.horizon_turns if hints.HasField("horizon_turns") else None,
        side_request=side,
        merge_back=merge_back,
        force_level=esc.force_level if esc.HasField("force_level") else None,
        previous_decision_id=esc.previous_decision_id,
        previous_failed=esc.failure_class in FAILURE_CLASSES,
        max_cost_picos=hints.limits.max_cost_picos,
        latency_target_ms=hints.limits.latency_target_ms,
        include_handoff=request.include_handoff,
        plan_handoff=request.include_handoff or require_content,
        dry_run=request.dry_run,
        compact_candidates=request.compact_candidates,
        messages=messages,
        hosted_tools=frozenset(t.name for t in conv.tools if t.kind == conversation_pb2.TOOL_KIND_HOSTED),
        custom_tools=frozenset(
            t.name for tool in conv.tools for t in (tool, *tool.tools) if t.kind == conversation_pb2.TOOL_KIND_CUSTOM
        ),
        verified=reading.verified,
        block_starts=reading.block_starts,
        cache_marks=reading.cache_marks,
    )
