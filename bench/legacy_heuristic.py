"""The heuristic estimator as it was before it read turns (version 0.1), kept as a benchmark baseline.

It read the newest message that had any text, whole (reminder blocks and tool results included),
with three regular expressions over all of it, and added its cues to a per-role prior in
probability, clamped to [0, 1]. The agent benchmark compares the current estimators with it; it
is not registered with the router.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence

from rolemodel.v1 import conversation_pb2

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
LONG_MESSAGE_TOKENS = 200


def newest_text(messages: Sequence[conversation_pb2.Message]) -> str:
    """The text of the newest message that has any, tool results included, as version 0.1 read it."""
    for message in reversed(messages):
        pieces = [p.text.text for p in message.parts if p.WhichOneof("kind") == "text"]
        pieces += [
            c.text.text for p in message.parts if p.WhichOneof("kind") == "tool_result" for c in p.tool_result.content
        ]
        if pieces:
            return "\n".join(pieces)
    return ""


def legacy_estimate(role: str, text: str, new_tokens: int, tool_call_pending: bool) -> float:
    score = _PRIORS.get(role, 0.4)
    if text:
        if _CODE.search(text):
            score += 0.15
        if _MATH.search(text):
            score += 0.10
        if _MULTI_STEP.search(text):
            score += 0.10
    if new_tokens > LONG_MESSAGE_TOKENS:
        score += min(0.15, 0.05 * math.log2(new_tokens / LONG_MESSAGE_TOKENS))
    if tool_call_pending:
        score -= 0.10
    return min(1.0, max(0.0, score))
