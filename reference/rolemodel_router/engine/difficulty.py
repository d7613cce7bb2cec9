"""Difficulty estimation when the client gives none (spec 6.2).

An estimator answers: how likely is the cheapest tier's answer to be worse
than the strongest tier's? Estimators are pluggable; the decision records the
name and version of the one used. The built-in ``heuristic`` estimator is a
transparent placeholder: a per-role prior nudged by cues in what is new in the
turn, added in log-odds so that no score saturates. It is deliberately simple,
so its mistakes are easy to see; a client that knows its phase (a chore, a
plan) beats it by saying so.

    prior by role      chore .15, background .05, summarize .25, tool.call .25,
                       chat .35, code.edit .45, code.review .5, code.plan .6,
                       anything else .4
    + .65   code in the user's new text (fences, definitions, braces)
    + .45   mathematics (equations, "prove", "integral", "derivative")
    + .45   multi-step work ("step by step", "design", "refactor", "architecture")
    + .22 * log2(new tokens / 200), between 0 and .65
    + .01 * ln(1 + characters of the new text), which breaks ties between texts
    - .45   a tool result the model is waiting for (the continuation is routine)
    + the agent cues of :mod:`.agent_cues` (failing tests, stack traces, ...)
    all in log-odds, then the logistic function

What it reads is bounded: the user's new text through :func:`read_window`'s
head and tail, never the system prompt, the tool definitions or the reminder
blocks agents attach to every turn (:mod:`.turn_signals`).
"""

from __future__ import annotations

import functools
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from rolemodel_router.engine.agent_cues import agent_offsets, log_odds, logistic
from rolemodel_router.engine.turn_signals import TurnSignals


@dataclass(frozen=True)
class DifficultyQuery:
    role: str
    task: str
    text: str  # the newest user or tool text, when the request carries content
    new_tokens: int
    prompt_tokens: int
    message_count: int
    tool_call_pending: bool
    #: What is new in the turn, when the request carries its messages; ``None`` for a request by
    #: digest only, where ``text`` is empty and the token counts are all there is.
    turn: TurnSignals | None = None


class DifficultyEstimator(Protocol):
    name: str
    version: str

    def estimate(self, query: DifficultyQuery) -> float:
        """A probability in [0, 1]."""
        ...


_PRIORS = {
    "chore": 0.15,
    "background": 0.05,
    "summarize": 0.25,
    "tool.call": 0.25,
    "chat": 0.35,
    "code.edit": 0.45,
    "code.review": 0.5,
    "code.plan": 0.6,
}
DEFAULT_PRIOR = 0.4
CODE = 0.65
MATH = 0.45
MULTI_STEP = 0.45
LENGTH_PER_DOUBLING = 0.22
MAX_LENGTH = 0.65
TIE_BREAK = 0.01
TOOL_CALL_PENDING = -0.45
#: New tokens beyond which a longer message counts as harder.
LONG_MESSAGE_TOKENS = 200
#: The heuristic reads this many characters from the start of the text and from its end.
HEAD_CHARS = 1500
TAIL_CHARS = 500
#: Texts whose cues are remembered: a text is at most USER_TEXT_CHARS (4,000) characters.
TEXT_CUES_CACHED = 256

_ARITHMETIC = re.compile(r"[0-9]\s*[-+*/^=]\s*[0-9]")
_CODE_MARKS = ("```", "def ", "class ", "function", "=>", "#include", ";\n", "{\n")
_MATH_MARKS = ("prove", "proof", "integral", "derivative", "equation", "theorem")
_MULTI_STEP_MARKS = ("step by step", "design", "refactor", "architecture", " plan ", " plan.", " plan,")


def read_window(text: str) -> str:
    """The part of ``text`` the heuristic reads: all of it, or its head and its tail."""
    if len(text) <= HEAD_CHARS + TAIL_CHARS:
        return text
    return text[:HEAD_CHARS] + "\n" + text[-TAIL_CHARS:]


@functools.lru_cache(maxsize=TEXT_CUES_CACHED)
def text_cues(text: str) -> tuple[tuple[str, float], ...]:
    """The code, mathematics and multi-step cues of ``text``, in log-odds.

    Substring tests, which run in C, and one regular-expression search, all over the bounded window:
    about 30 to 60 us on a 2,000-character window, paid twice per decision (the estimate, then its
    explanation) and again when a request is decided anew, so the last texts' cues are remembered.
    """
    window = read_window(text)
    lower = window.lower()
    found: list[tuple[str, float]] = []
    if any(mark in window for mark in _CODE_MARKS) or window.rstrip().endswith((";", "{")):
        found.append(("code", CODE))
    if any(mark in lower for mark in _MATH_MARKS) or _ARITHMETIC.search(window):
        found.append(("mathematics", MATH))
    first = lower.find("first")
    if any(mark in lower for mark in _MULTI_STEP_MARKS) or (first >= 0 and lower.find(" then", first) > first):
        found.append(("multi_step", MULTI_STEP))
    return tuple(found)


class HeuristicEstimator:
    name = "heuristic"
    version = "0.2"

    def explain(self, query: DifficultyQuery) -> Sequence[tuple[str, float]]:
        """Each signal that moved the estimate, by name, with its contribution in log-odds."""
        turn = query.turn
        found = [("role_prior", log_odds(_PRIORS.get(query.role, DEFAULT_PRIOR)))]
        text = turn.user_text if turn is not None else query.text
        if text:
            found += text_cues(text)
        tokens = (turn.user_chars // 4) if turn is not None else query.new_tokens
        if tokens > LONG_MESSAGE_TOKENS:
            found.append(("length", min(MAX_LENGTH, LENGTH_PER_DOUBLING * math.log2(tokens / LONG_MESSAGE_TOKENS))))
        characters = turn.user_chars + turn.tool_result_chars if turn is not None else len(query.text)
        if characters:
            found.append(("tie_break", TIE_BREAK * math.log1p(characters)))
        if query.tool_call_pending:
            found.append(("tool_call_pending", TOOL_CALL_PENDING))
        if turn is not None:
            found += agent_offsets(turn)
        return found

    def estimate(self, query: DifficultyQuery) -> float:
        return logistic(sum(value for _, value in self.explain(query)))
