"""Features of a request's text for the learned difficulty estimator, in pure Python.

One function, :func:`extract`, serves both the router at run time and the training script, so the
model is trained on exactly what it will see. It must stay fast (the budget is 0.1 ms per request
at p99 for a 6 kB prompt), so it reads at most :data:`HEAD_CHARS` from the start of the text and
:data:`TAIL_CHARS` from the end (a long paste of code or a document is judged by its frame, where
the question usually is), splits words with ``str.translate`` and ``str.split`` rather than a
regular expression, looks for option lines only when an "A." or "(A)" line could be there, and
does the rest with ``str.count``, substring tests and set intersections, which run in C.

A multiple-choice question has option lines lettered from a capital A in order ("A." or "A)" or
"(A)", then "B", ...). A list lettered "a) ... b) ..." in an ordinary request is not one: feature set
``text-v1`` counted it, and so gave such requests the multiple-choice calibration.

Structural features are numbers whose meaning does not depend on a vocabulary: the length, the
shape (a multiple-choice question, paired statements), cues of code, mathematics and multi-step
work, and the kind of request (compute, explain, write, list). Changing any of them, their order
or their scaling invalidates the shipped weights: bump :data:`FEATURE_SET` and retrain.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

#: Identifies this feature extractor; a weights file names the set it was trained on.
FEATURE_SET = "text-v2"
HEAD_CHARS = 1200
TAIL_CHARS = 400
#: Two option lines make a multiple-choice question.
MIN_OPTIONS = 2

_OPTION_LINE = re.compile(r"^[ \t]*\(?([A-E])[.)][ \t]+(.*)$", re.MULTILINE)
_OPTION_STARTS = ("A.", "A)", "(A)")
#: Every character that is not part of a word becomes a space; words are then ``str.split``.
_WORD_CHARS = frozenset("abcdefghijklmnopqrstuvwxyz0123456789'")
_SPLIT_WORDS = str.maketrans({chr(code): " " for code in range(0x2FF) if chr(code) not in _WORD_CHARS})

_DIGITS = tuple("0123456789")
_MATH_MARKS = ("=", "+", "^", "\\frac", "\\sqrt", "$", "∫", "∑", "√", "π", "≤", "≥", "≠", "∞", "<", ">", "*", "/")
_CODE_MARKS = ("```", "{", "}", ";", "def ", "class ", "return", "import ", "#include", "=>", "()", "[]", "//")
_PAIRED = ("statement 1", "statement i ", "scenario 1", "scenario i ", " | ")
_NEGATED = (" NOT ", " EXCEPT ", " LEAST ", " FALSE", " INCORRECT", " not ")
_PHRASE_COMPUTE = ("how many", "how much", "what is the value", "find the", "step by step", "step-by-step")
_PHRASE_LIST = ("give me", "examples of", "ideas for")


def _word_set(words: str) -> frozenset[str]:
    return frozenset(words.split())


_CODE_WORDS = _word_set(
    "code program script function python javascript java sql html css regex bash rust api algorithm "
    "typescript golang kotlin compile bug debug class method variable loop array json"
)
_COMPUTE_WORDS = _word_set(
    "calculate compute solve evaluate determine probability expected estimate simplify derive prove "
    "integral derivative equation percent ratio rate total average"
)
_MULTI_STEP_WORDS = _word_set(
    "design refactor architecture plan implement optimize optimise debug first then finally steps"
)
_EXPLAIN_WORDS = _word_set("explain why describe compare analyze analyse discuss justify evaluate critique")
_WRITE_WORDS = _word_set("write compose draft rewrite poem story essay email letter summarize summarise translate")
_LIST_WORDS = _word_set("list suggest ideas recommend examples tips")
_SCENARIO_WORDS = _word_set("scenario suppose imagine assume hypothetical would")

#: Names of the structural features, in the order :func:`extract` returns their values.
STRUCTURAL_NAMES: tuple[str, ...] = (
    "log_chars",
    "log_lines",
    "log_words",
    "mean_word_length",
    "digit_share",
    "math_marks",
    "multiple_choice",
    "option_length",
    "numeric_options",
    "paired_statements",
    "negated_ask",
    "question_marks",
    "code_marks",
    "code_words",
    "compute_ask",
    "multi_step",
    "explain_ask",
    "write_ask",
    "list_ask",
    "scenario",
)


@dataclass(frozen=True)
class TextFeatures:
    structural: tuple[float, ...]  # aligned with STRUCTURAL_NAMES
    words: frozenset[str]  # distinct lower-case words of the read window


def read_window(text: str) -> str:
    """The part of ``text`` the extractor reads: all of it, or its head and its tail."""
    if len(text) <= HEAD_CHARS + TAIL_CHARS:
        return text
    return text[:HEAD_CHARS] + "\n" + text[-TAIL_CHARS:]


def _count_all(text: str, needles: tuple[str, ...]) -> int:
    return sum(map(text.count, needles))


def _could_have_options(window: str) -> bool:
    return any(("\n" + start) in window or window.startswith(start) for start in _OPTION_STARTS) or (
        "\n A" in window or "\n\tA" in window
    )


def _options(window: str) -> tuple[float, float, float]:
    """(is multiple choice, log mean option length, share of options that start with a number).

    The options are the lines lettered A, B, C, ... in order from A; a run that skips or repeats a
    letter ends the options.
    """
    if not _could_have_options(window):
        return 0.0, 0.0, 0.0
    options: list[str] = []
    expected = "A"
    for letter, option in _OPTION_LINE.findall(window):
        if letter == "A":
            options, expected = [], "A"
        if letter != expected:
            continue
        options.append(option)
        expected = chr(ord(expected) + 1)
    if len(options) < MIN_OPTIONS:
        return 0.0, 0.0, 0.0
    mean_length = sum(len(option) for option in options) / len(options)
    numeric = sum(1 for option in options if option[:1].isdigit() or option[:2].lstrip("-$").isdigit())
    return 1.0, math.log1p(mean_length), numeric / len(options)


def extract(text: str) -> TextFeatures:
    """The features of one request's newest text; an empty text gives all zeros and no words."""
    window = read_window(text)
    lower = window.lower()
    words = [word for word in lower.translate(_SPLIT_WORDS).split() if word[0].isalpha()]
    distinct = frozenset(words)
    chars = len(window) or 1
    multiple_choice, option_length, numeric_options = _options(window)
    structural = (
        math.log1p(len(text)),
        math.log1p(text.count("\n")),
        math.log1p(len(words)),
        (sum(map(len, words)) / len(words)) if words else 0.0,
        _count_all(window, _DIGITS) / chars,
        math.log1p(_count_all(window, _MATH_MARKS)),
        multiple_choice,
        option_length,
        numeric_options,
        1.0 if any(mark in lower for mark in _PAIRED) else 0.0,
        1.0 if any(mark in window for mark in _NEGATED) else 0.0,
        math.log1p(window.count("?")),
        math.log1p(_count_all(window, _CODE_MARKS)),
        float(len(distinct & _CODE_WORDS)),
        len(distinct & _COMPUTE_WORDS) + _count_all(lower, _PHRASE_COMPUTE) * 1.0,
        float(len(distinct & _MULTI_STEP_WORDS)),
        float(len(distinct & _EXPLAIN_WORDS)),
        float(len(distinct & _WRITE_WORDS)),
        len(distinct & _LIST_WORDS) + _count_all(lower, _PHRASE_LIST) * 1.0,
        float(len(distinct & _SCENARIO_WORDS)),
    )
    return TextFeatures(structural, distinct)
