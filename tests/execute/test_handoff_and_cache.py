"""Handoff through Execute (chapter 8) and the cache the backend reports (RM-EXEC-002)."""

from __future__ import annotations

from rolemodel import RouterClient
from rolemodel.v1 import conversation_pb2, decision_pb2
from rolemodel_router.backends.scripted import Reply, ScriptedBackend, ToolCall
from tests.execute.catalog import CLAUDE_MODEL, MINI_MODEL
from tests.execute.events import execute_request, run, system, user
from tests.requests import new_id

C = conversation_pb2
D = decision_pb2
#: About 1,500 tokens: above both providers' minimum cacheable prefix.
LONG_SYSTEM = "You are a meticulous assistant. " + "Follow the house rules to the letter. " * 160


def _kinds(decision: D.Decision) -> set[str]:
    return {
        D.HandoffTransformKind.Name(t.kind).removeprefix("HANDOFF_TRANSFORM_KIND_") for t in decision.handoff.transforms
    }


def test_signed_reasoning_never_reaches_another_provider(client: RouterClient, backend: ScriptedBackend) -> None:
    conversation = new_id("handoff")
    backend.script(CLAUDE_MODEL, [Reply(text="Paris.", reasoning="The user asks about France.")])
    backend.script(MINI_MODEL, [Reply(text="About 2.1 million.")])
    first = run(client, execute_request([user("Capital of France?")], conversation_id=conversation, pin="ex-claude"))
    answer = first.completed.message
    (signature,) = [p.reasoning.signature for p in answer.parts if p.HasField("reasoning")]
    assert signature, "Anthropic signs its thinking"
    assert answer.origin_endpoint_id == "ex-claude"

    history = [user("Capital of France?"), answer, user("Its population?")]
    second = run(client, execute_request(history, conversation_id=conversation, turn_index=1, pin="ex-mini"))

    assert second.completed.served_endpoint_id == "ex-mini"
    assert "REASONING_DROPPED" in _kinds(second.decision.decision)
    (sent,) = backend.requests_for(MINI_MODEL)
    assert sent.request is not None
    assert not any(p.HasField("reasoning") for m in sent.request.messages for p in m.parts)
    assert signature not in sent.body.decode()


def test_tool_call_ids_the_target_cannot_take_are_remapped_consistently(
    client: RouterClient, backend: ScriptedBackend
) -> None:
    backend.script(CLAUDE_MODEL, [Reply(text="It is sunny.")])
    odd_id = "call:weather/1"
    call = C.Message(
        role=C.MESSAGE_ROLE_ASSISTANT,
        parts=[C.ContentPart(tool_call=C.ToolCallPart(id=odd_id, name="weather", arguments_json='{"city":"Paris"}'))],
    )
    result_message = C.Message(
        role=C.MESSAGE_ROLE_TOOL,
        parts=[
            C.ContentPart(
                tool_result=C.ToolResultPart(
                    tool_call_id=odd_id, content=[C.ToolResultContent(text=C.TextPart(text="sunny"))]
                )
            )
        ],
    )
    tool = C.ToolDefinition(name="weather", parameters_json_schema='{"type":"object"}')
    result = run(
        client,
        execute_request([user("Weather in Paris?"), call, result_message], pin="ex-claude", tools=[tool]),
    )

    assert result.completed.served_endpoint_id == "ex-claude"
    (transform,) = [
        t for t in result.decision.decision.handoff.transforms if t.kind == D.HANDOFF_TRANSFORM_KIND_TOOL_IDS_REMAPPED
    ]
    assert list(transform.message_indexes) == [1, 2]
    body = backend.requests_for(CLAUDE_MODEL)[0].json()
    use = body["messages"][1]["content"][0]
    answer = body["messages"][2]["content"][0]
    assert use["type"] == "tool_use" and answer["type"] == "tool_result"
    assert use["id"] == answer["tool_use_id"] != odd_id
    assert use["id"].startswith("rm_")


def test_breakpoints_make_the_next_turn_read_the_explicit_cache(client: RouterClient, backend: ScriptedBackend) -> None:
    conversation = new_id("cache")
    backend.script(CLAUDE_MODEL, [Reply(text="First answer."), Reply(text="Second answer.")])
    first = run(
        client,
        execute_request([system(LONG_SYSTEM), user("Question one?")], conversation_id=conversation, pin="ex-claude"),
    )
    assert "CACHE_BREAKPOINT_PLACED" in _kinds(first.decision.decision)
    assert first.completed.usage.cache_write_tokens > 1000
    assert first.completed.usage.cache_read_tokens == 0

    history = [system(LONG_SYSTEM), user("Question one?"), first.completed.message, user("Question two?")]
    second = run(client, execute_request(history, conversation_id=conversation, turn_index=1, pin="ex-claude"))

    done = second.completed
    assert done.usage.cache_read_tokens >= first.completed.usage.cache_write_tokens
    assert done.effects.cached_prefix_tokens >= done.usage.input_tokens - 50
    planned = second.decision.decision.handoff
    assert planned.action == D.HANDOFF_ACTION_CONTINUE
    assert planned.cached_prefix_tokens > 1000, "the router expected the hit it got"
    read = done.reported_cost.cache_read_picos
    assert 0 < read < done.reported_cost.total_picos


def test_the_automatic_cache_is_reported_on_the_second_turn(client: RouterClient, backend: ScriptedBackend) -> None:
    conversation = new_id("auto")
    backend.script(MINI_MODEL, [Reply(text="One."), Reply(text="Two.")])
    first = run(
        client, execute_request([system(LONG_SYSTEM), user("One?")], conversation_id=conversation, pin="ex-mini")
    )
    history = [system(LONG_SYSTEM), user("One?"), first.completed.message, user("Two?")]
    second = run(client, execute_request(history, conversation_id=conversation, turn_index=1, pin="ex-mini"))

    assert first.completed.usage.cache_read_tokens == 0
    assert second.completed.usage.cache_read_tokens >= 1024
    assert second.completed.usage.cache_read_tokens % 128 == 0


def test_tool_calls_from_one_provider_reach_another_with_their_results(
    client: RouterClient, backend: ScriptedBackend
) -> None:
    conversation = new_id("tools")
    tool = C.ToolDefinition(name="search", parameters_json_schema='{"type":"object"}')
    backend.script(CLAUDE_MODEL, [Reply(tool_calls=[ToolCall("search", {"q": "rust"})])])
    backend.script(MINI_MODEL, [Reply(text="Rust is a systems language.")])
    first = run(
        client, execute_request([user("What is Rust?")], conversation_id=conversation, pin="ex-claude", tools=[tool])
    )
    call = first.completed.message
    (call_part,) = [p.tool_call for p in call.parts if p.HasField("tool_call")]
    answer = C.Message(
        role=C.MESSAGE_ROLE_TOOL,
        parts=[
            C.ContentPart(
                tool_result=C.ToolResultPart(
                    tool_call_id=call_part.id, content=[C.ToolResultContent(text=C.TextPart(text="a language"))]
                )
            )
        ],
    )
    history = [user("What is Rust?"), call, answer]
    second = run(
        client, execute_request(history, conversation_id=conversation, turn_index=1, pin="ex-mini", tools=[tool])
    )

    assert second.completed.served_endpoint_id == "ex-mini"
    body = backend.requests_for(MINI_MODEL)[0].json()
    assistant, tool_message = body["messages"][1], body["messages"][2]
    assert assistant["tool_calls"][0]["id"] == tool_message["tool_call_id"] == call_part.id
