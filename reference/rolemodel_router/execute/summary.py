"""Compaction's summary (spec 8.6): the side request that summarises dropped turns, and the message made of its answer.

The summary is asked of the ``summarize`` role as an isolated side request (no merge-back),
so it never moves the conversation it summarises. Its answer becomes one user message
that opens the kept tail, marked so that a reader knows it is not the client's words.
"""

from __future__ import annotations

from rolemodel.v1 import conversation_pb2, hints_pb2, router_service_pb2
from rolemodel_router.engine.route_input import RouteInput

SUMMARIZE_ROLE = "summarize"
SUMMARY_INSTRUCTION = (
    "Summarise the conversation above for the assistant that continues it: the goal, decisions made, "
    "facts established, files and names involved, and what is still open. Be complete and brief."
)
SUMMARY_PREFIX = "[Summary of the earlier conversation]"


def _user_text(text: str) -> conversation_pb2.Message:
    return conversation_pb2.Message(
        role=conversation_pb2.MESSAGE_ROLE_USER,
        parts=[conversation_pb2.ContentPart(text=conversation_pb2.TextPart(text=text))],
    )


def summary_request(route_input: RouteInput, dropped: tuple[int, ...]) -> router_service_pb2.ExecuteRequest:
    """The side request that asks the summarize role for the turns at ``dropped``."""
    messages = [route_input.messages[i] for i in dropped]
    messages.append(_user_text(SUMMARY_INSTRUCTION))
    return router_service_pb2.ExecuteRequest(
        conversation=conversation_pb2.ConversationRef(
            conversation_id=route_input.conversation_id,
            turn_index=route_input.turn_index,
            messages=[conversation_pb2.MessageRef(message=m) for m in messages],
        ),
        hints=hints_pb2.RoutingHints(role=SUMMARIZE_ROLE, side_request=hints_pb2.SideRequest(merge_back=False)),
    )


def summary_message(answer: conversation_pb2.Message) -> conversation_pb2.Message | None:
    """The summary as the message that opens the tail; None when the answer has no text."""
    text = "".join(p.text.text for p in answer.parts if p.HasField("text")).strip()
    return _user_text(f"{SUMMARY_PREFIX}\n{text}") if text else None
