"""Derived conversation ids and turn indexes (spec 14.4)."""

from __future__ import annotations

from rolemodel.dialects import anthropic_messages, openai_chat
from rolemodel.digest import digest_chain
from rolemodel.v1 import conversation_pb2
from rolemodel_router.http.conversation_id import (
    DERIVED_PREFIX,
    conversation_id,
    derive_conversation_id,
    opening,
    turn_index,
)

SYSTEM = "You are a coding agent."
ENVIRONMENT = "<environment_context>cwd=/src/app</environment_context>"


def openai_turns(first_request: str) -> list[list[conversation_pb2.Message]]:
    """Three requests of one OpenAI-dialect conversation, each re-sending the whole history."""
    history: list[dict[str, object]] = [
        {"role": "system", "content": SYSTEM},
        {"role": "user", "content": ENVIRONMENT},
        {"role": "user", "content": first_request},
    ]
    turns = [openai_chat.decode_request({"model": "m", "messages": list(history)}).messages]
    history += [
        {
            "role": "assistant",
            "content": None,
            "tool_calls": [{"id": "c1", "type": "function", "function": {"name": "ls", "arguments": "{}"}}],
        },
        {"role": "tool", "tool_call_id": "c1", "content": "main.py"},
    ]
    turns.append(openai_chat.decode_request({"model": "m", "messages": list(history)}).messages)
    history += [{"role": "assistant", "content": "Done."}, {"role": "user", "content": "Thanks"}]
    turns.append(openai_chat.decode_request({"model": "m", "messages": list(history)}).messages)
    return turns


def test_every_turn_of_a_conversation_gets_the_same_derived_id() -> None:
    turns = openai_turns("Fix the failing test.")
    ids = {derive_conversation_id(messages) for messages in turns}
    assert len(ids) == 1
    (derived,) = ids
    assert derived.startswith(DERIVED_PREFIX) and len(derived) == len(DERIVED_PREFIX) + 32
    assert [turn_index(messages) for messages in turns] == [0, 1, 2]


def test_the_id_is_the_digest_of_the_messages_before_the_first_answer() -> None:
    messages = openai_turns("Fix the failing test.")[2]
    assert len(opening(messages)) == 3
    assert derive_conversation_id(messages) == DERIVED_PREFIX + digest_chain(messages[:3])[-1].hex()[:32]


def test_conversations_with_the_same_preamble_but_another_request_differ() -> None:
    first = derive_conversation_id(openai_turns("Fix the failing test.")[1])
    second = derive_conversation_id(openai_turns("Add a README.")[1])
    assert first != second


def test_both_dialects_derive_the_same_id_for_the_same_conversation() -> None:
    from_openai = openai_chat.decode_request(
        {"model": "m", "messages": [{"role": "system", "content": SYSTEM}, {"role": "user", "content": "Hi"}]}
    )
    from_anthropic = anthropic_messages.decode_request(
        {"model": "m", "max_tokens": 10, "system": SYSTEM, "messages": [{"role": "user", "content": "Hi"}]}
    )
    assert derive_conversation_id(from_openai.messages) == derive_conversation_id(from_anthropic.messages)


def test_a_header_wins_and_an_empty_conversation_derives_nothing() -> None:
    messages = openai_turns("Fix the failing test.")[0]
    assert conversation_id({"x-rolemodel-conversation": " session-42 "}, messages) == "session-42"
    assert conversation_id({}, messages) == derive_conversation_id(messages)
    assert derive_conversation_id([]) == ""
    answer_first = [conversation_pb2.Message(role=conversation_pb2.MESSAGE_ROLE_ASSISTANT)]
    assert opening(answer_first) == answer_first
