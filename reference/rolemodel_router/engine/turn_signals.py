"""What is new in a turn, read from the canonical messages for difficulty estimation (spec 6.2).

An agent re-sends its whole conversation on every turn: the system prompt, the tool definitions
and every earlier message are the same as last time and say nothing about how hard *this* turn
is. A coding agent's first turn carries a system prompt of tens of thousands of tokens even when
the user asks for a one-line answer. So the estimate reads only the turn's new part:

- the **user's text** since the last assistant message, without the context blocks agents wrap in
  ``<system-reminder>`` tags (directory listings, project notes), which recur on every turn;
- the **tool results** since the last assistant message, and what they show: failing or passing
  tests, errors, stack traces, the size of a diff;
- the turn's **place in a tool loop** (how many assistant tool-call rounds since the user last
  wrote) and the **failures earlier** in the loop (tool results flagged as errors or showing
  failing tests).

Everything is bounded, so the cost does not grow with the conversation: at most
:data:`MAX_MESSAGES_SCANNED` messages are visited and :data:`MAX_EARLIER_READ` earlier results
read (through their last :data:`EARLIER_TAIL_CHARS` characters), each new tool result is read through a window of
its first :data:`RESULT_HEAD_CHARS` and last :data:`RESULT_TAIL_CHARS` characters with substring
tests (no regular expressions: with many alternatives they cost milliseconds on a few kilobytes),
and the user text is cut to :data:`USER_TEXT_CHARS` characters (its full length is kept as a
number).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from rolemodel.v1 import conversation_pb2

C = conversation_pb2

#: Messages visited, newest first; older ones do not change the estimate. A long-loop cue stops
#: growing after 16 rounds, which take 32 messages.
MAX_MESSAGES_SCANNED = 40
#: Earlier tool results read for failures, newest first.
MAX_EARLIER_READ = 8
#: Tool results of the new turn that are read for cues; more are counted but not read.
MAX_RESULTS_READ = 8
RESULT_HEAD_CHARS = 800
RESULT_TAIL_CHARS = 1600
#: The user text handed to text estimators: its head and tail up to this many characters.
USER_TEXT_CHARS = 4000
#: Earlier tool results are read through a shorter tail window (a test summary is at the end).
EARLIER_TAIL_CHARS = 600

REMINDER_OPEN = "<system-reminder>"
REMINDER_CLOSE = "</system-reminder>"

# Cues are found with substring tests, which run in C; a regular expression over a few kilobytes
# with many alternatives costs milliseconds in Python's engine. A count before " failed" must not be 0.
_COUNTED_FAILURES = (" failed", " failing", " failures", " errors")
_FAILING = ("FAILED", "FAIL:", "\nFAIL ", "AssertionError", "assertion failed", "\nnot ok ", "\nE   ", "✗", "✕")
_COUNTED_PASSES = (" passed", " passing")
_PASSING = ("\nOK", "\nPASS ", "test result: ok", "ll tests passed")
_EARLIER_FAILING = ("FAILED", "AssertionError", "\nnot ok ", "\nFAIL ")
_TRACES = ("Traceback (most recent call last)", "\n    at ", "panicked at", "Exception in thread", "\ngoroutine ")
_ERRORS = (
    "error:",
    "Error:",
    "ERROR",
    "error[E",
    "command not found",
    "No such file or directory",
    "Permission denied",
    "SyntaxError",
    "TypeError",
    "NameError",
)
_EXIT_CODES = ("exit code ", "exit status ")
#: How many occurrences of one needle are looked at before giving up on it.
MAX_OCCURRENCES = 8


@dataclass(frozen=True)
class TurnSignals:
    """The new part of a turn, as counts and a bounded text; see the module docstring."""

    user_text: str  # the user's new words, head and tail, without reminder blocks
    user_chars: int  # the full length of those words
    tool_results: int  # tool results since the last assistant message
    tool_result_chars: int
    tool_errors: int  # flagged is_error, or showing an error
    failing_tests: int  # results showing failing tests
    passing_tests: int  # results showing only passing tests
    stack_traces: int
    diff_lines: int  # added or removed lines of diffs in the results' windows
    loop_depth: int  # assistant tool-call rounds since the user last wrote
    earlier_failures: int  # failed tool results before this turn, within the scanned messages
    first_turn: bool  # no assistant message yet

    @property
    def has_new_results(self) -> bool:
        return self.tool_results > 0


EMPTY_TURN = TurnSignals("", 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, True)


def without_reminders(text: str) -> str:
    """``text`` without ``<system-reminder>`` blocks (an unclosed one runs to the end)."""
    start = text.find(REMINDER_OPEN)
    if start < 0:
        return text
    kept: list[str] = []
    position = 0
    while start >= 0:
        kept.append(text[position:start])
        end = text.find(REMINDER_CLOSE, start)
        if end < 0:
            position = len(text)
            break
        position = end + len(REMINDER_CLOSE)
        start = text.find(REMINDER_OPEN, position)
    kept.append(text[position:])
    return "".join(kept).strip()


def bounded(text: str, limit: int) -> str:
    """The head and tail of ``text``, at most ``limit`` characters in all (plus a joining newline)."""
    if len(text) <= limit:
        return text
    head = limit * 3 // 4
    return text[:head] + "\n" + text[len(text) - (limit - head) :]


def _window(text: str, head: int, tail: int) -> str:
    if len(text) <= head + tail:
        return text
    return text[:head] + "\n" + text[len(text) - tail :]


@dataclass(frozen=True)
class _ResultCues:
    failing: bool
    passing: bool
    trace: bool
    error: bool
    diff_lines: int


def _counted(window: str, needles: tuple[str, ...]) -> bool:
    """Whether some needle follows a count other than zero ("2 failed", not "0 failed")."""
    for needle in needles:
        start = window.find(needle)
        seen = 0
        while start > 0 and seen < MAX_OCCURRENCES:
            digits = start
            while digits > 0 and window[digits - 1].isdigit():
                digits -= 1
            if digits < start and window[digits:start].strip("0"):
                return True
            start = window.find(needle, start + 1)
            seen += 1
    return False


def _nonzero_exit(window: str) -> bool:
    for needle in _EXIT_CODES:
        start = window.find(needle)
        if start >= 0 and window[start + len(needle) : start + len(needle) + 1] in "123456789":
            return True
    return False


def _diff_lines(window: str) -> int:
    """Added and removed lines, when the window holds a diff (a hunk header or a git diff header)."""
    if "@@" not in window and "diff --git" not in window:
        return 0
    changed = window.count("\n+") + window.count("\n-") - window.count("\n+++") - window.count("\n---")
    return max(0, changed)


def _read_result(window: str) -> _ResultCues:
    failing = _counted(window, _COUNTED_FAILURES) or any(mark in window for mark in _FAILING)
    return _ResultCues(
        failing=failing,
        passing=_counted(window, _COUNTED_PASSES) or any(mark in window for mark in _PASSING),
        trace=any(mark in window for mark in _TRACES),
        error=any(mark in window for mark in _ERRORS) or _nonzero_exit(window),
        diff_lines=_diff_lines(window),
    )


def _result_text(part: conversation_pb2.ContentPart) -> str:
    pieces = [c.text.text for c in part.tool_result.content if c.WhichOneof("kind") == "text"]
    return pieces[0] if len(pieces) == 1 else "\n".join(pieces)


def _earlier_failure(part: conversation_pb2.ContentPart) -> bool:
    """A failure in an earlier result: flagged, or failing tests or a trace at the end of its text."""
    result = part.tool_result
    if result.is_error:
        return True
    text = _result_text(part)
    tail = text[len(text) - EARLIER_TAIL_CHARS :] if len(text) > EARLIER_TAIL_CHARS else text
    return (
        _counted(tail, _COUNTED_FAILURES[:2])
        or any(mark in tail for mark in _EARLIER_FAILING)
        or any(mark in tail for mark in _TRACES)
    )


def read_turn(messages: Sequence[conversation_pb2.Message]) -> TurnSignals:
    """The signals of the newest turn of ``messages`` (oldest first); :data:`EMPTY_TURN` for none."""
    user_parts: list[str] = []
    results: list[conversation_pb2.ContentPart] = []
    index = len(messages) - 1
    stop = max(-1, len(messages) - 1 - MAX_MESSAGES_SCANNED)
    # 1. the new part: everything after the last assistant message
    while index > stop and messages[index].role != C.MESSAGE_ROLE_ASSISTANT:
        message = messages[index]
        if message.role in (C.MESSAGE_ROLE_USER, C.MESSAGE_ROLE_TOOL):
            for part in reversed(message.parts):
                kind = part.WhichOneof("kind")
                if kind == "text" and not part.text.text.startswith(REMINDER_OPEN):
                    user_parts.append(part.text.text)
                elif kind == "tool_result":
                    results.append(part)
        index -= 1
    first_turn = index < 0  # reached the start without an assistant message (not merely the scan's end)
    # 2. the loop: assistant tool-call rounds since the user last wrote, and failures on the way
    loop_depth = 0
    earlier_failures = 0
    earlier_read = 0
    user_wrote = bool(user_parts)
    while index > stop and not (user_wrote and earlier_read >= MAX_EARLIER_READ):
        message = messages[index]
        role = message.role
        if role == C.MESSAGE_ROLE_ASSISTANT:
            # tool calls end an assistant message, so its last part tells
            if not user_wrote and message.parts and message.parts[-1].HasField("tool_call"):
                loop_depth += 1
        elif role == C.MESSAGE_ROLE_TOOL:
            for part in message.parts:
                if earlier_read < MAX_EARLIER_READ and part.HasField("tool_result"):
                    earlier_read += 1
                    earlier_failures += _earlier_failure(part)
        elif role == C.MESSAGE_ROLE_USER:
            user_wrote = user_wrote or any(
                p.HasField("text") and not p.text.text.startswith(REMINDER_OPEN) for p in message.parts
            )
        index -= 1
    user_text = without_reminders("\n".join(reversed(user_parts))) if user_parts else ""
    return _summarise(user_text, results, loop_depth, earlier_failures, first_turn)


def _summarise(
    user_text: str,
    results: list[conversation_pb2.ContentPart],
    loop_depth: int,
    earlier_failures: int,
    first_turn: bool,
) -> TurnSignals:
    errors = failing = passing = traces = diff_lines = chars = 0
    for read, part in enumerate(results):
        text = _result_text(part)
        chars += len(text)
        if read >= MAX_RESULTS_READ:
            errors += part.tool_result.is_error
            continue
        reminder = text.find(REMINDER_OPEN, max(0, len(text) - RESULT_TAIL_CHARS))
        if reminder >= 0:
            text = text[:reminder]
        cues = _read_result(_window(text, RESULT_HEAD_CHARS, RESULT_TAIL_CHARS))
        errors += part.tool_result.is_error or cues.error
        failing += cues.failing
        passing += cues.passing and not cues.failing
        traces += cues.trace
        diff_lines += cues.diff_lines
    return TurnSignals(
        user_text=bounded(user_text, USER_TEXT_CHARS),
        user_chars=len(user_text),
        tool_results=len(results),
        tool_result_chars=chars,
        tool_errors=errors,
        failing_tests=failing,
        passing_tests=passing,
        stack_traces=traces,
        diff_lines=diff_lines,
        loop_depth=loop_depth,
        earlier_failures=earlier_failures,
        first_turn=first_turn,
    )
