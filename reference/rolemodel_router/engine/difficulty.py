"""Difficulty estimation when the client gives none (spec 6.2).

An estimator answers: how likely is the cheapest tier's answer to be worse
than the strongest tier's? Estimators are pluggable; the decision records the
name and version of the one used. The built-in ``heuristic`` estimator is a
transparent placeholder: a per-role prior nudged by cues in the newest
message. It is deliberately simple, so its mistakes are easy to see; a
client that knows its phase (a chore, a plan) beats it by saying so.

    prior by role      chore .15, background .05, summarize .25, tool.call .25,
                       chat .35, code.edit .45, code.review .5, code.plan .6,
                       anything else .4
    + .15   code in the text (fences, definitions, braces with semicolons)
    + .10   mathematics (equations, "prove", "integral", "derivative")
    + .10   multi-step work ("step by step", "design", "refactor", "architecture")
    + .05 * log2(new tokens / 200), between 0 and .15
    - .10   a tool result the model is waiting for (the continuation is routine)
    clamped to [0, 1]
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True)
class DifficultyQuery:
    role: str
    task: str
    text: str  # the newest user or tool text, when the request carries content
    new_tokens: int
    prompt_tokens: int
    message_count: int
    tool_call_pending: bool


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
_CODE = re.compile(r"```|\bdef |\bclass |\bfunction\b|=>|#include|;\s*$|\{\s*$", re.MULTILINE)
_MATH = re.compile(r"\b(prove|proof|integral|derivative|equation|theorem)\b|[0-9]\s*[-+*/^=]\s*[0-9]", re.IGNORECASE)
_MULTI_STEP = re.compile(
    r"step by step|\bdesign\b|\brefactor|\barchitecture\b|\bplan\b|\bfirst\b.*\bthen\b", re.IGNORECASE | re.DOTALL
)


#: New tokens beyond which a longer message counts as harder.
LONG_MESSAGE_TOKENS = 200


class HeuristicEstimator:
    name = "heuristic"
    version = "0.1"

    def estimate(self, query: DifficultyQuery) -> float:
        score = _PRIORS.get(query.role, 0.4)
        text = query.text
        if text:
            if _CODE.search(text):
                score += 0.15
            if _MATH.search(text):
                score += 0.10
            if _MULTI_STEP.search(text):
                score += 0.10
        if query.new_tokens > LONG_MESSAGE_TOKENS:
            score += min(0.15, 0.05 * math.log2(query.new_tokens / LONG_MESSAGE_TOKENS))
        if query.tool_call_pending:
            score -= 0.10
        return min(1.0, max(0.0, score))
