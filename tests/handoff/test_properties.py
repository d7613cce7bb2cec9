"""Properties of the handoff that must hold for any conversation and any target (spec chapter 8)."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from rolemodel.v1 import catalog_pb2, common_pb2, conversation_pb2, decision_pb2
from rolemodel_router.handoff import HandoffTarget, apply_handoff
from rolemodel_router.handoff.families import accepts_tool_id, provider_family
from rolemodel_router.handoff.reasoning import is_foreign
from tests.strategies import texts

C = conversation_pb2
KINDS = [
    common_pb2.PROVIDER_KIND_OPENAI,
    common_pb2.PROVIDER_KIND_ANTHROPIC,
    common_pb2.PROVIDER_KIND_DEEPSEEK,
    common_pb2.PROVIDER_KIND_OPENAI_COMPATIBLE,
]
tool_ids = st.text(alphabet="abcXYZ019_-:/.é ", min_size=0, max_size=70)


@st.composite
def reasoning_parts(draw: st.DrawFn) -> C.ContentPart:
    redacted = draw(st.booleans())
    return C.ContentPart(
        reasoning=C.ReasoningPart(
            text="" if redacted else draw(texts),
            provider=draw(st.sampled_from(["anthropic", "openai", "deepseek", ""])),
            signature=draw(st.sampled_from(["", "sig-1", "EqQBCkgIARAB"])),
            redacted=redacted,
        )
    )


@st.composite
def exchanges(draw: st.DrawFn) -> list[C.Message]:
    """A conversation: system prompts, then user turns, assistant turns with reasoning and calls, tool results."""
    messages = [C.Message(role=C.MESSAGE_ROLE_SYSTEM, parts=[C.ContentPart(text=C.TextPart(text=draw(texts)))])]
    for _ in range(draw(st.integers(1, 4))):
        messages.append(C.Message(role=C.MESSAGE_ROLE_USER, parts=[C.ContentPart(text=C.TextPart(text=draw(texts)))]))
        parts = draw(st.lists(reasoning_parts(), max_size=2))
        calls = draw(st.lists(tool_ids, max_size=2, unique=True))
        parts += [C.ContentPart(tool_call=C.ToolCallPart(id=i, name="tool", arguments_json="{}")) for i in calls]
        if draw(st.booleans()) or not parts:
            parts.append(C.ContentPart(text=C.TextPart(text=draw(texts))))
        messages.append(
            C.Message(
                role=C.MESSAGE_ROLE_ASSISTANT, parts=parts, provider_response_id=draw(st.sampled_from(["", "r1"]))
            )
        )
        results = [
            C.ContentPart(
                tool_result=C.ToolResultPart(tool_call_id=i, content=[C.ToolResultContent(text=C.TextPart(text="ok"))])
            )
            for i in calls
        ]
        if results:
            messages.append(C.Message(role=C.MESSAGE_ROLE_TOOL, parts=results))
    return messages


@st.composite
def targets(draw: st.DrawFn) -> tuple[HandoffTarget, catalog_pb2.HandoffPolicy]:
    endpoint = catalog_pb2.Endpoint(
        id=draw(st.sampled_from(["a", "b"])),
        provider_kind=draw(st.sampled_from(KINDS)),
        caching=catalog_pb2.CachingBehavior(
            mode=draw(st.sampled_from([catalog_pb2.CACHE_MODE_NONE, catalog_pb2.CACHE_MODE_EXPLICIT])), ttl_seconds=300
        ),
    )
    policy = catalog_pb2.HandoffPolicy(
        reasoning=draw(st.sampled_from([catalog_pb2.REASONING_HANDOFF_DROP, catalog_pb2.REASONING_HANDOFF_TO_TEXT]))
    )
    return HandoffTarget.of(endpoint), policy


def _calls(messages: list[C.Message]) -> list[tuple[str, str]]:
    return [(p.tool_call.id, p.tool_call.name) for m in messages for p in m.parts if p.HasField("tool_call")]


def _results(messages: list[C.Message]) -> list[str]:
    return [p.tool_result.tool_call_id for m in messages for p in m.parts if p.HasField("tool_result")]


@given(exchanges(), targets())
def test_no_signed_reasoning_reaches_a_foreign_family(
    messages: list[C.Message], target: tuple[HandoffTarget, catalog_pb2.HandoffPolicy]
) -> None:
    handoff = apply_handoff(messages, *target)
    family = provider_family(target[0].endpoint.provider_kind)
    for message in handoff.messages:
        for part in message.parts:
            if part.HasField("reasoning"):
                assert not is_foreign(part.reasoning, family)


@given(exchanges(), targets())
def test_every_call_and_result_still_match_and_the_target_accepts_every_id(
    messages: list[C.Message], target: tuple[HandoffTarget, catalog_pb2.HandoffPolicy]
) -> None:
    handoff = apply_handoff(messages, *target)
    out = list(handoff.messages)
    assert len(_calls(out)) == len(_calls(messages)), "no tool call is dropped (RM-HANDOFF-005)"
    kind = target[0].endpoint.provider_kind
    calls = {call_id for call_id, _ in _calls(out)}
    assert all(accepts_tool_id(kind, call_id) for call_id in calls)
    assert set(_results(out)) <= calls, "every result still answers a call"


@given(exchanges(), targets())
def test_system_prompts_survive_and_indexes_point_into_the_request(
    messages: list[C.Message], target: tuple[HandoffTarget, catalog_pb2.HandoffPolicy]
) -> None:
    handoff = apply_handoff(messages, *target)
    systems = [m for m in handoff.messages if m.role == C.MESSAGE_ROLE_SYSTEM]
    assert [m.parts[0].text.text for m in systems] == [messages[0].parts[0].text.text]
    for transform in handoff.transforms:
        assert transform.kind != decision_pb2.HANDOFF_TRANSFORM_KIND_UNSPECIFIED
        assert list(transform.message_indexes) == sorted(set(transform.message_indexes))
        assert all(0 <= i < len(messages) for i in transform.message_indexes)


@given(exchanges(), targets())
def test_the_handoff_is_deterministic_and_a_second_pass_changes_nothing_more(
    messages: list[C.Message], target: tuple[HandoffTarget, catalog_pb2.HandoffPolicy]
) -> None:
    first = apply_handoff(messages, *target)
    again = apply_handoff(messages, *target)
    assert list(first.messages) == list(again.messages) and list(first.transforms) == list(again.transforms)
    second = apply_handoff(list(first.messages), *target)
    assert list(second.messages) == list(first.messages)
    assert not second.transforms
