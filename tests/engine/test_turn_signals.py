"""Reading what is new in a turn: bounded, and blind to what every turn repeats."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from rolemodel.conversation import text_message
from rolemodel.v1 import conversation_pb2 as c
from rolemodel_router.engine.turn_signals import (
    EMPTY_TURN,
    RESULT_HEAD_CHARS,
    RESULT_TAIL_CHARS,
    read_turn,
    without_reminders,
)


def call(call_id: str) -> c.Message:
    return c.Message(
        role=c.MESSAGE_ROLE_ASSISTANT,
        parts=[c.ContentPart(tool_call=c.ToolCallPart(id=call_id, name="Bash", arguments_json="{}"))],
    )


def result(call_id: str, text: str, *, is_error: bool = False) -> c.Message:
    content = [c.ToolResultContent(text=c.TextPart(text=text))]
    part = c.ToolResultPart(tool_call_id=call_id, content=content, is_error=is_error)
    return c.Message(role=c.MESSAGE_ROLE_TOOL, parts=[c.ContentPart(tool_result=part)])


def test_reminder_blocks_are_not_the_users_words() -> None:
    text = "<system-reminder>notes\n```py\nx = 1\n```</system-reminder>\nfix the bug<system-reminder>more"
    assert without_reminders(text) == "fix the bug"
    user = c.Message(
        role=c.MESSAGE_ROLE_USER,
        parts=[
            c.ContentPart(text=c.TextPart(text="<system-reminder>context</system-reminder>")),
            c.ContentPart(text=c.TextPart(text="what is the secret word?")),
        ],
    )
    turn = read_turn([text_message("system", "a long system prompt " * 1000), user])
    assert turn.user_text == "what is the secret word?"
    assert turn.first_turn
    assert turn.loop_depth == 0


def test_a_tool_loop_counts_its_rounds_and_earlier_failures() -> None:
    messages = [
        text_message("system", "agent"),
        text_message("user", "make the tests pass"),
        call("1"),
        result("1", "2 failed, 3 passed"),
        call("2"),
        result("2", "Traceback (most recent call last):\n  File 'x.py'\nKeyError"),
        call("3"),
        result("3", "5 passed in 0.1s"),
    ]
    turn = read_turn(messages)
    assert turn.user_text == ""
    assert (turn.loop_depth, turn.earlier_failures, turn.tool_results) == (3, 2, 1)
    assert (turn.failing_tests, turn.passing_tests) == (0, 1)
    assert not turn.first_turn


def test_counts_of_zero_are_not_failures() -> None:
    turn = read_turn([text_message("user", "run"), call("1"), result("1", "0 failed, 12 passed")])
    assert (turn.failing_tests, turn.passing_tests) == (0, 1)


def test_errors_traces_and_diffs() -> None:
    diff = "diff --git a/x b/x\n@@ -1,3 +1,3 @@\n" + "-old line\n+new line\n" * 30
    turn = read_turn(
        [
            text_message("user", "go"),
            call("1"),
            result("1", "bash: pytst: command not found", is_error=True),
            result("2", diff),
            result("3", "thread 'main' panicked at src/main.rs:3:5"),
        ]
    )
    assert (turn.tool_errors, turn.stack_traces, turn.diff_lines) == (1, 1, 60)


def test_a_long_result_is_read_by_its_head_and_tail() -> None:
    middle = "x" * 100 + "\nFAILED tests/test_a.py::test_b\n" + "x" * 100
    hidden = "." * RESULT_HEAD_CHARS + middle + "." * RESULT_TAIL_CHARS
    turn = read_turn([text_message("user", "go"), call("1"), result("1", hidden)])
    assert turn.failing_tests == 0
    assert turn.tool_result_chars == len(hidden)


def test_no_messages_is_the_empty_turn() -> None:
    assert read_turn([]) == EMPTY_TURN


@given(st.lists(st.tuples(st.sampled_from(["user", "assistant", "tool", "system"]), st.text(max_size=300))))
def test_any_conversation_reads_without_error(messages: list[tuple[str, str]]) -> None:
    turn = read_turn([text_message(role, text) for role, text in messages])
    assert turn.user_chars >= len(turn.user_text) - 1
    assert turn.loop_depth >= 0
