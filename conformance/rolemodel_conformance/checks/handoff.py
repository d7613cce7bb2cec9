"""Handoff transforms, observed through include_handoff (capability ROUTER_CAPABILITY_HANDOFF_MESSAGES).

A conversation that started on fx-opus (Anthropic) carries a signed reasoning
block, a provider response id and a tool call without a result; the next turn
is pinned to fx-gpt5 (OpenAI). On chat the reasoning must be dropped, on
x-conformance.handoff turned into text; either way the signature must not
cross, the response id must go, and the system prompt and the pending call
must stay unless a transform says otherwise. A web search that OpenAI ran
must not reach DeepSeek at all.
"""

from __future__ import annotations

import grpc

from rolemodel.v1 import conversation_pb2, decision_pb2, hints_pb2
from rolemodel_conformance.builders import ContentPrompt, Prompt, pin, route_request, system, user
from rolemodel_conformance.checks import check
from rolemodel_conformance.checks.helpers import expect_refusal
from rolemodel_conformance.context import CheckContext

C = conversation_pb2
D = decision_pb2
#: Index of the assistant message whose tool call has no result.
PENDING_CALL = 3
SIGNATURE = "sig-conformance-anthropic"
ALL = ("RM-HANDOFF-001", "RM-HANDOFF-002", "RM-HANDOFF-003", "RM-HANDOFF-004", "RM-HANDOFF-005", "RM-HANDOFF-010")


def _messages(ctx: CheckContext) -> list[C.Message]:
    thinking = C.ContentPart(
        reasoning=C.ReasoningPart(text="Think it through.", provider="anthropic", signature=SIGNATURE)
    )
    answered = C.Message(
        role=C.MESSAGE_ROLE_ASSISTANT,
        parts=[thinking, C.ContentPart(text=C.TextPart(text="Done."))],
        origin_endpoint_id="fx-opus",
        provider_response_id="resp-conformance-1",
    )
    calling = C.Message(
        role=C.MESSAGE_ROLE_ASSISTANT,
        origin_endpoint_id="fx-opus",
        parts=[C.ContentPart(tool_call=C.ToolCallPart(id="toolu_9", name="search", arguments_json='{"q":"x"}'))],
    )
    return [system(f"You are careful. {ctx.canary()}"), user("First question."), answered, calling, user("Go on.")]


def _handoff(ctx: CheckContext, role: str) -> D.Decision:
    conversation = ctx.ids.conversation("handoff")
    messages = _messages(ctx)
    ctx.probe.route(
        route_request(
            ContentPrompt(tuple(messages[:2])).ref(conversation),
            hints_pb2.RoutingHints(role=role, endpoint_choice=pin("fx-opus")),
        )
    )
    request = route_request(
        ContentPrompt(tuple(messages)).ref(conversation, 1),
        hints_pb2.RoutingHints(role=role, endpoint_choice=pin("fx-gpt5")),
        include_handoff=True,
    )
    return ctx.probe.route(request)


def _kinds(plan: D.HandoffPlan) -> dict[str, list[int]]:
    return {
        D.HandoffTransformKind.Name(t.kind).removeprefix("HANDOFF_TRANSFORM_KIND_"): list(t.message_indexes)
        for t in plan.transforms
    }


def _signed(messages: list[C.Message]) -> bool:
    return any(p.reasoning.signature for m in messages for p in m.parts if p.WhichOneof("kind") == "reasoning")


@check("handoff", "Transforms across providers are applied, listed, and returned", ALL)
def across_providers(ctx: CheckContext) -> None:
    ctx.require_capability("ROUTER_CAPABILITY_HANDOFF_MESSAGES", "the transformed messages")
    for role, kind in (("chat", "REASONING_DROPPED"), ("x-conformance.handoff", "REASONING_TO_TEXT")):
        plan = _handoff(ctx, role).handoff
        kinds, sent = _kinds(plan), list(plan.messages)
        ctx.expect(
            "RM-HANDOFF-001",
            all(t.kind and t.message_indexes for t in plan.transforms) and kinds.get(kind) == [2],
            f"{role}: every transform has a kind and message indexes, {kind} names message 2: {kinds}",
        )
        ctx.expect("RM-HANDOFF-002", not _signed(sent), f"{role}: no signed reasoning reaches the OpenAI endpoint")
        texts = " ".join(p.text.text for m in sent for p in m.parts if p.WhichOneof("kind") == "text")
        converted = "Think it through." in texts
        ctx.expect(
            "RM-HANDOFF-003",
            kind in kinds and converted == (kind == "REASONING_TO_TEXT"),
            f"{role}: {kind}, reasoning text {'kept as text' if converted else 'gone'}: {kinds}",
        )
        ctx.expect(
            "RM-HANDOFF-004",
            "RESPONSE_ID_DROPPED" in kinds and not any(m.provider_response_id for m in sent),
            f"{role}: moving from fx-opus drops the provider response id: {kinds}",
        )
        kept_system = bool(sent) and sent[0].role == C.MESSAGE_ROLE_SYSTEM
        kept_call = any(p.tool_call.id for m in sent for p in m.parts if p.WhichOneof("kind") == "tool_call")
        listed = any(PENDING_CALL in t.message_indexes for t in plan.transforms)
        ctx.expect(
            "RM-HANDOFF-005",
            kept_system and (kept_call or listed),
            f"{role}: the system prompt is kept ({kept_system}); the pending call is kept ({kept_call}) or "
            f"listed ({listed})",
        )
        dropped = sum(len(i) for k, i in kinds.items() if k in ("MESSAGES_DROPPED", "MESSAGES_SUMMARIZED"))
        ctx.expect(
            "RM-HANDOFF-010",
            len(sent) >= 5 - dropped and len(sent) > 0,
            f"{role}: the plan returns the transformed messages ({len(sent)} of 5, {dropped} dropped)",
        )


@check("handoff", "include_handoff without every message's content is a field violation", ("RM-HANDOFF-011",))
def needs_content(ctx: CheckContext) -> None:
    ctx.require_capability("ROUTER_CAPABILITY_HANDOFF_MESSAGES", "include_handoff")
    request = route_request(
        Prompt.of([100, 50]).ref(ctx.ids.conversation("handoff")),
        hints_pb2.RoutingHints(role="chat"),
        include_handoff=True,
    )
    expect_refusal(
        ctx,
        "RM-HANDOFF-011",
        "include_handoff with digest-only messages",
        lambda: ctx.probe.route(request),
        grpc.StatusCode.INVALID_ARGUMENT,
        "REQUEST_INVALID",
    )


@check("handoff", "Hosted-tool items reach only a Responses endpoint of their family", ("RM-HANDOFF-008",))
def hosted_tool_items(ctx: CheckContext) -> None:
    ctx.require_capability("ROUTER_CAPABILITY_HANDOFF_MESSAGES", "the transformed messages")
    item = '{"id":"ws_1","type":"web_search_call","status":"completed"}'
    searched = C.Message(
        role=C.MESSAGE_ROLE_ASSISTANT,
        origin_endpoint_id="fx-gpt5",
        parts=[
            C.ContentPart(
                hosted_tool=C.HostedToolPart(provider="openai", type="web_search_call", item_id="ws_1", item_json=item)
            ),
            C.ContentPart(text=C.TextPart(text="Found it.")),
        ],
    )
    messages = (user(f"Search for it. {ctx.canary()}"), searched, user("And then?"))
    request = route_request(
        ContentPrompt(messages).ref(ctx.ids.conversation("hosted"), 1),
        hints_pb2.RoutingHints(role="chat", endpoint_choice=pin("fx-deepseek")),
        include_handoff=True,
    )
    plan = ctx.probe.route(request).handoff
    sent = list(plan.messages)
    kinds = _kinds(plan)
    hosted = [p for m in sent for p in m.parts if p.WhichOneof("kind") == "hosted_tool"]
    kept_text = any(p.text.text == "Found it." for m in sent for p in m.parts if p.WhichOneof("kind") == "text")
    ctx.expect(
        "RM-HANDOFF-008",
        not hosted and kinds.get("HOSTED_TOOL_DROPPED") == [1] and kept_text,
        f"to fx-deepseek: hosted items left {len(hosted)}, transforms {kinds}, text kept {kept_text}",
    )
