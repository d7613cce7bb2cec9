"""A conversation larger than the endpoint's window, compacted (spec 8.6): by Route and through Execute."""

from __future__ import annotations

from rolemodel import RouterClient
from rolemodel.v1 import conversation_pb2, decision_pb2, router_service_pb2
from rolemodel_router.backends.scripted import Reply, ScriptedBackend
from tests.execute.catalog import LOCAL_MODEL, MINI_MODEL
from tests.execute.events import execute_request, run, system, text, user

C = conversation_pb2
D = decision_pb2
WINDOW = 8192


def long_conversation() -> list[C.Message]:
    """About 19,000 tokens: a system prompt, six long exchanges, and a short new question."""
    messages = [system("You maintain the billing service.")]
    for i in range(6):
        messages.append(user(f"Question {i}: " + f"details of incident {i}. " * 400))
        messages.append(text(C.MESSAGE_ROLE_ASSISTANT, f"Answer {i}: " + f"analysis of incident {i}. " * 300))
    messages.append(user("So what is the common cause?"))
    return messages


def _transform(decision: D.Decision, kind: int) -> D.HandoffTransform:
    (found,) = [t for t in decision.handoff.transforms if t.kind == kind]
    return found


def test_route_returns_a_tail_window_that_fits_the_window(client: RouterClient) -> None:
    messages = long_conversation()
    request = execute_request(messages, role="x-test.tail")
    route = router_service_pb2.RouteRequest(
        conversation=request.conversation, hints=request.hints, include_handoff=True
    )
    decision = client.route(route)

    assert decision.chosen_endpoint_id == "ex-local", "compaction makes the small window eligible"
    dropped = _transform(decision, D.HANDOFF_TRANSFORM_KIND_MESSAGES_DROPPED)
    kept = [i for i in range(len(messages)) if i not in dropped.message_indexes]
    assert kept[0] == 0 and kept[-1] == len(messages) - 1
    assert messages[kept[1]].role == C.MESSAGE_ROLE_USER
    assert list(decision.handoff.messages) == [messages[i] for i in kept]
    assert decision.prompt_tokens > WINDOW, "the request itself is larger than the window"
    assert decision.handoff.prompt_tokens < WINDOW
    (local,) = [c for c in decision.candidates if c.endpoint_id == "ex-local"]
    assert local.cost.prompt_tokens == decision.handoff.prompt_tokens


def test_execute_sends_the_tail_window(client: RouterClient, backend: ScriptedBackend) -> None:
    backend.script(LOCAL_MODEL, [Reply(text="A shared cron job.")])
    messages = long_conversation()
    result = run(client, execute_request(messages, role="x-test.tail"))

    assert result.completed.served_endpoint_id == "ex-local"
    (sent,) = backend.requests_for(LOCAL_MODEL)
    assert sent.request is not None
    sent_messages = sent.request.messages
    assert sent_messages[0] == messages[0] and sent_messages[-1].parts[0].text.text == "So what is the common cause?"
    assert len(sent_messages) < len(messages)
    assert sent.prompt_tokens <= WINDOW


def test_execute_summarises_what_the_tail_window_leaves_out(client: RouterClient, backend: ScriptedBackend) -> None:
    backend.script(MINI_MODEL, [Reply(text="Six incidents, all during the nightly export.")])
    backend.script(LOCAL_MODEL, [Reply(text="The nightly export.")])
    messages = long_conversation()
    result = run(client, execute_request(messages, role="x-test.summary"))

    summarized = _transform(result.decision.decision, D.HANDOFF_TRANSFORM_KIND_MESSAGES_SUMMARIZED)
    assert summarized.message_indexes and 0 not in summarized.message_indexes
    (asked,) = backend.requests_for(MINI_MODEL)
    assert asked.request is not None
    assert "Summarise the conversation above" in asked.request.messages[-1].parts[0].text.text
    assert len(asked.request.messages) == len(summarized.message_indexes) + 1
    (sent,) = backend.requests_for(LOCAL_MODEL)
    assert sent.request is not None
    second = sent.request.messages[1].parts[0].text.text
    assert second.startswith("[Summary of the earlier conversation]") and "nightly export" in second
    assert result.completed.served_endpoint_id == "ex-local"
