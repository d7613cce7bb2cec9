"""Helpers that read an Execute stream the way a client would."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from rolemodel import RoleModelError, RouterClient
from rolemodel.v1 import conversation_pb2, hints_pb2, router_service_pb2
from tests.requests import new_id

C = conversation_pb2


@dataclass
class Run:
    events: list[router_service_pb2.ExecuteResponse]
    error: RoleModelError | None

    @property
    def kinds(self) -> list[str]:
        return [str(e.WhichOneof("event")) for e in self.events]

    @property
    def text(self) -> str:
        return "".join(e.delta.text for e in self.events if e.HasField("delta"))

    @property
    def decision(self) -> router_service_pb2.ExecuteStarted:
        return self.events[0].started

    @property
    def completed(self) -> router_service_pb2.ExecuteCompleted:
        (done,) = [e.completed for e in self.events if e.HasField("completed")]
        return done

    @property
    def failed(self) -> router_service_pb2.ExecuteFailed:
        (failed,) = [e.failed for e in self.events if e.HasField("failed")]
        return failed

    @property
    def attempts_failed(self) -> list[router_service_pb2.AttemptFailed]:
        return [e.attempt_failed for e in self.events if e.HasField("attempt_failed")]

    @property
    def attempts_started(self) -> list[tuple[int, str]]:
        """Each ``attempt_started`` event as (number, endpoint id)."""
        return [
            (e.attempt_started.attempt, e.attempt_started.endpoint_id)
            for e in self.events
            if e.HasField("attempt_started")
        ]


def text(role: C.MessageRole.ValueType, value: str) -> C.Message:
    return C.Message(role=role, parts=[C.ContentPart(text=C.TextPart(text=value))])


def user(value: str) -> C.Message:
    return text(C.MESSAGE_ROLE_USER, value)


def system(value: str) -> C.Message:
    return text(C.MESSAGE_ROLE_SYSTEM, value)


def execute_request(
    messages: Sequence[C.Message],
    *,
    role: str = "chat",
    conversation_id: str | None = None,
    turn_index: int = 0,
    pin: str = "",
    tools: Sequence[C.ToolDefinition] = (),
) -> router_service_pb2.ExecuteRequest:
    hints = hints_pb2.RoutingHints(role=role)
    if pin:
        hints.endpoint_choice.pinned_endpoint_id = pin
    return router_service_pb2.ExecuteRequest(
        conversation=C.ConversationRef(
            conversation_id=conversation_id or new_id("exec"),
            turn_index=turn_index,
            messages=[C.MessageRef(message=m) for m in messages],
            tools=list(tools),
        ),
        hints=hints,
    )


def run(
    client: RouterClient,
    request: router_service_pb2.ExecuteRequest,
    timeout_s: float = 30.0,
    client_credential: dict[str, str] | None = None,
) -> Run:
    events: list[router_service_pb2.ExecuteResponse] = []
    try:
        # keeps what arrived before an error
        events.extend(client.execute(request, timeout_s=timeout_s, client_credential=client_credential))
    except RoleModelError as error:
        return Run(events, error)
    return Run(events, None)
