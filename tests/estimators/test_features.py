"""The text features: a fixed shape, a bounded window, and the cues they claim to detect."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from rolemodel_router.estimators.features import HEAD_CHARS, STRUCTURAL_NAMES, TAIL_CHARS, extract, read_window

QUESTION = "Which of the following is NOT a prime?\nA. 2\nB. 3\nC. 9\nD. 11\nAnswer:"


def feature(text: str, name: str) -> float:
    return extract(text).structural[STRUCTURAL_NAMES.index(name)]


@given(st.text(max_size=6000))
def test_every_text_has_one_value_per_name(text: str) -> None:
    features = extract(text)
    assert len(features.structural) == len(STRUCTURAL_NAMES)
    assert features == extract(text)


def test_empty_text_has_no_words_and_zero_features() -> None:
    features = extract("")
    assert features.words == frozenset()
    assert all(value == 0.0 for value in features.structural)


def test_long_texts_are_read_by_their_head_and_tail() -> None:
    text = "a" * HEAD_CHARS + "middle " * 1000 + "b" * TAIL_CHARS
    window = read_window(text)
    assert len(window) == HEAD_CHARS + TAIL_CHARS + 1
    assert "middle" not in extract(text).words
    assert feature(text, "log_chars") > feature(window, "log_chars")  # length counts the whole text


def test_cues() -> None:
    assert feature(QUESTION, "multiple_choice") == 1.0
    assert feature(QUESTION, "numeric_options") == 1.0
    assert feature(QUESTION, "negated_ask") == 1.0
    assert feature("Tell me a joke", "multiple_choice") == 0.0
    assert feature("```python\ndef f(x):\n    return x;\n```", "code_marks") > 0
    assert feature("Write a Python function that parses JSON", "code_words") >= 2
    assert feature("Solve the equation x^2 + 3x = 4", "math_marks") > 0
    assert feature("Statement 1 | Every group is abelian. Statement 2 | ...", "paired_statements") == 1.0


def test_a_lettered_list_in_an_ordinary_request_is_not_multiple_choice() -> None:
    assert (
        feature("Write a short poem that:\na) rhymes\nb) mentions my cat\nc) fits on a postcard", "multiple_choice")
        == 0
    )
    assert feature("Steps:\nA) build\nC) ship", "multiple_choice") == 0  # B is missing
    assert feature("Which is larger?\n(A) 3\n(B) 5", "multiple_choice") == 1.0
