"""API keys from the environment (RM-EXEC-020), a client's verdict after Execute (RM-EXEC-005), text handoffs."""

from __future__ import annotations

from pathlib import Path

import pytest

from rolemodel import ClientOptions, RetryPolicy, RoleModelError, RouterClient
from rolemodel.error_reasons import ErrorReason
from rolemodel.v1 import common_pb2, conversation_pb2, decision_pb2, outcome_pb2, router_service_pb2
from rolemodel_router.backends.scripted import Reply, ScriptedBackend
from tests.execute.catalog import CLAUDE_MODEL, KEY_ENV, LOCAL_MODEL, MINI_MODEL
from tests.execute.conftest import router_process
from tests.execute.events import execute_request, run, user
from tests.requests import new_id

C = conversation_pb2
D = decision_pb2
SECRET = "sk-test-3f9a1c5e7b"


def test_the_api_key_comes_from_the_environment_and_goes_nowhere_else(tmp_path: Path) -> None:
    with ScriptedBackend(api_key=SECRET) as backend:
        backend.configure(CLAUDE_MODEL)
        backend.script(CLAUDE_MODEL, [Reply(text="Authorised.")])
        process = router_process(backend, tmp_path, env={KEY_ENV: SECRET}, claude_key_env=KEY_ENV)
        process.log_level = "debug"
        with (
            process as router,
            RouterClient(router.address, ClientOptions(retry=RetryPolicy(max_attempts=1))) as client,
        ):
            result = run(client, execute_request([user("Hello?")], pin="ex-claude"))
            card = client.get_router_card()
            logs = router.logs()
    assert result.completed.served_endpoint_id == "ex-claude"
    assert backend.requests_for(CLAUDE_MODEL)[0].headers["x-api-key"] == SECRET
    assert SECRET not in str(result.events) and SECRET not in str(card)
    assert '"endpoint": "ex-claude"' in logs or "ex-claude" in logs, "the debug log did record the call"
    assert SECRET not in logs


def test_a_missing_key_excludes_the_endpoint_from_execute_and_is_no_failure(
    backend: ScriptedBackend, tmp_path: Path
) -> None:
    """An endpoint without its key is not configured (RM-EXEC-021, RM-EXEC-022): reported once, never failing."""
    with (
        router_process(backend, tmp_path, claude_key_env="EXECUTE_TEST_UNSET_KEY") as router,
        RouterClient(router.address, ClientOptions(retry=RetryPolicy(max_attempts=1))) as client,
    ):
        for _ in range(3):
            refused = run(client, execute_request([user("Hello?")], pin="ex-claude")).error
            assert refused is not None and refused.reason == ErrorReason.PINNED_ENDPOINT_INELIGIBLE
        assert refused is not None and refused.decision is not None
        (excluded,) = [c for c in refused.decision.candidates if c.endpoint_id == "ex-claude"]
        (exclusion,) = [x for x in excluded.exclusions if x.code == D.EXCLUSION_CODE_NOT_CONFIGURED]
        assert "EXECUTE_TEST_UNSET_KEY" in exclusion.detail
        card = client.get_router_card()
        logs = router.logs()
    assert backend.requests_for(CLAUDE_MODEL) == []
    (status,) = [p.status for p in card.endpoints if p.endpoint.id == "ex-claude"]
    assert status.observed_failure_rate == 0.0 and not status.cooldown_until.seconds
    assert logs.count("endpoint 'ex-claude' is not configured: EXECUTE_TEST_UNSET_KEY is not set") == 1


def test_a_failing_chore_escalates_after_the_client_reports_its_verdict(
    client: RouterClient, backend: ScriptedBackend
) -> None:
    conversation = new_id("chore")
    backend.script(LOCAL_MODEL, [Reply(text="Formatted the files.")])
    backend.script(CLAUDE_MODEL, [Reply(text="Fixed the failing test.")])
    first = run(client, execute_request([user("Run the formatter.")], role="chore", conversation_id=conversation))
    assert first.completed.served_endpoint_id == "ex-local"

    first_verdict = outcome_pb2.Outcome(
        decision_id=first.completed.decision_id,
        served_endpoint_id="ex-local",
        outcome_class=common_pb2.OUTCOME_CLASS_TASK_FAILED,
        idempotency_key=new_id("tests-failed"),
        detail="the test suite failed after formatting",
    )
    verdict = client.report_outcome(first_verdict)
    assert verdict.effects.escalation_level == 1
    again = outcome_pb2.Outcome()
    again.CopyFrom(first_verdict)
    again.idempotency_key = new_id("tests-failed-again")
    with pytest.raises(RoleModelError) as refused:
        client.report_outcome(again)
    assert refused.value.reason == ErrorReason.OUTCOME_ALREADY_REPORTED, "one verdict per executed answer"
    history = [user("Run the formatter."), first.completed.message, user("The tests fail now. Fix them.")]
    second = run(client, execute_request(history, role="chore", conversation_id=conversation, turn_index=1))

    decision = second.decision.decision
    assert decision.chosen_endpoint_id == "ex-claude"
    escalated = [r for r in decision.reasons if r.code == D.REASON_CODE_ESCALATED]
    assert escalated and escalated[0].attributes["triggering_decision_id"] == first.completed.decision_id
    assert second.completed.served_endpoint_id == "ex-claude"


def test_foreign_reasoning_is_kept_as_text_when_the_role_says_so(
    client: RouterClient, backend: ScriptedBackend
) -> None:
    conversation = new_id("text")
    backend.script(CLAUDE_MODEL, [Reply(text="Four.", reasoning="Two plus two is four.")])
    backend.script(MINI_MODEL, [Reply(text="Eight.")])
    role = "x-test.text-reasoning"
    first = run(client, execute_request([user("2+2?")], role=role, conversation_id=conversation, pin="ex-claude"))
    history = [user("2+2?"), first.completed.message, user("Double it?")]
    second = run(client, execute_request(history, role=role, conversation_id=conversation, turn_index=1, pin="ex-mini"))

    kinds = [t.kind for t in second.decision.decision.handoff.transforms]
    assert D.HANDOFF_TRANSFORM_KIND_REASONING_TO_TEXT in kinds
    sent = backend.requests_for(MINI_MODEL)[0].json()
    assistant = sent["messages"][1]
    assert "Two plus two is four." in str(assistant["content"])


def test_an_image_reaches_a_text_only_endpoint_as_its_description(
    client: RouterClient, backend: ScriptedBackend
) -> None:
    backend.script(MINI_MODEL, [Reply(text="A cat on a mat.")])
    picture = C.Message(
        role=C.MESSAGE_ROLE_USER,
        parts=[
            C.ContentPart(text=C.TextPart(text="What is this?")),
            C.ContentPart(image=C.ImagePart(media_type="image/png", data=b"\x89PNG", description="a cat on a mat")),
        ],
    )
    result = run(client, execute_request([picture], role="x-test.text-reasoning", pin="ex-mini"))
    assert result.completed.served_endpoint_id == "ex-mini"
    kinds = [t.kind for t in result.decision.decision.handoff.transforms]
    assert D.HANDOFF_TRANSFORM_KIND_IMAGE_PLACEHOLDER in kinds
    sent = backend.requests_for(MINI_MODEL)[0].json()
    assert "[image: a cat on a mat]" in str(sent["messages"][0]["content"])


def test_only_an_outcome_execute_recorded_accepts_a_verdict(client: RouterClient) -> None:
    """A client's own SUCCESS for a routed decision is final, whatever its idempotency key looks like."""
    decision = client.route(execute_route(role="chore"))
    recorded = outcome_pb2.Outcome(
        decision_id=decision.decision_id,
        served_endpoint_id=decision.chosen_endpoint_id,
        outcome_class=common_pb2.OUTCOME_CLASS_SUCCESS,
        idempotency_key=f"execute:{decision.decision_id}",
    )
    client.report_outcome(recorded)
    verdict = outcome_pb2.Outcome()
    verdict.CopyFrom(recorded)
    verdict.outcome_class = common_pb2.OUTCOME_CLASS_TASK_FAILED
    verdict.idempotency_key = new_id("verdict")
    with pytest.raises(RoleModelError) as refused:
        client.report_outcome(verdict)
    assert refused.value.reason == ErrorReason.OUTCOME_ALREADY_REPORTED


def execute_route(role: str) -> router_service_pb2.RouteRequest:
    request = execute_request([user("Run the formatter.")], role=role)
    return router_service_pb2.RouteRequest(conversation=request.conversation, hints=request.hints)
