"""How an agent turn's signals move a difficulty estimate, in log-odds (spec 6.2).

These are *priors set by hand*, not learned: no public data set labels agent turns with whether a
cheap model would have failed them. They encode what a developer watching a coding agent sees:

=====================================  ==========================================================
signal                                 offset in log-odds
=====================================  ==========================================================
tests fail in the new tool results     +1.2, and +0.25 for each further result that shows it
a stack trace in the new results       +0.6
an error in the new results            +0.4 (a flagged ``is_error`` or an error line), once
only passing tests                     -0.3
a diff in the new results              +0.2 per doubling of (1 + changed lines / 25), at most +0.6
failures earlier in the conversation   +0.3 each, at most +0.9
a long tool loop                       +0.05 per assistant round beyond 6, at most +0.5
=====================================  ==========================================================

A continuation of a tool loop with nothing notable in its results is routine; each estimator
applies its own offset for that (``tool_call_pending``). The signals are in
:mod:`rolemodel_router.engine.turn_signals`; the contributions are returned by name so that a
decision can say which ones moved the score.
"""

from __future__ import annotations

import math

from rolemodel_router.engine.turn_signals import TurnSignals

FAILING_TESTS = 1.2
FURTHER_FAILING = 0.25
MAX_FURTHER_FAILING = 0.75
STACK_TRACE = 0.6
TOOL_ERROR = 0.4
ONLY_PASSING = -0.3
DIFF_PER_DOUBLING = 0.2
DIFF_LINES_UNIT = 25
MAX_DIFF = 0.6
EARLIER_FAILURE = 0.3
MAX_EARLIER = 0.9
LONG_LOOP_FROM = 6
LONG_LOOP_PER_ROUND = 0.05
MAX_LONG_LOOP = 0.5


def agent_offsets(turn: TurnSignals) -> list[tuple[str, float]]:
    """The non-zero contributions of ``turn``'s signals, by name, in log-odds."""
    found: list[tuple[str, float]] = []
    if turn.failing_tests:
        extra = min(MAX_FURTHER_FAILING, FURTHER_FAILING * (turn.failing_tests - 1))
        found.append(("failing_tests", FAILING_TESTS + extra))
    elif turn.passing_tests:
        found.append(("only_passing_tests", ONLY_PASSING))
    if turn.stack_traces:
        found.append(("stack_trace", STACK_TRACE))
    if turn.tool_errors and not turn.failing_tests:
        found.append(("tool_error", TOOL_ERROR))
    if turn.diff_lines:
        found.append(("diff_size", min(MAX_DIFF, DIFF_PER_DOUBLING * math.log2(1 + turn.diff_lines / DIFF_LINES_UNIT))))
    if turn.earlier_failures:
        found.append(("earlier_failures", min(MAX_EARLIER, EARLIER_FAILURE * turn.earlier_failures)))
    if turn.loop_depth > LONG_LOOP_FROM:
        found.append(("long_tool_loop", min(MAX_LONG_LOOP, LONG_LOOP_PER_ROUND * (turn.loop_depth - LONG_LOOP_FROM))))
    return found


def logistic(logit: float) -> float:
    """1 / (1 + e^-logit), written so that no large ``|logit|`` overflows."""
    if logit >= 0:
        return 1.0 / (1.0 + math.exp(-logit))
    odds = math.exp(logit)
    return odds / (1.0 + odds)


def log_odds(probability: float) -> float:
    clipped = min(1.0 - 1e-9, max(1e-9, probability))
    return math.log(clipped / (1.0 - clipped))
