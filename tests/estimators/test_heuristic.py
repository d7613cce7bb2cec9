"""The heuristic 0.2: the role's prior when nothing else is known, no saturation, no ties between texts."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from rolemodel_router.engine.difficulty import DifficultyQuery, HeuristicEstimator, text_cues
from rolemodel_router.engine.turn_signals import TurnSignals

ESTIMATOR = HeuristicEstimator()
ROLES = ("chore", "background", "summarize", "tool.call", "chat", "code.edit", "code.review", "code.plan", "x-acme")


def by_digest(role: str, new_tokens: int = 10, pending: bool = False) -> DifficultyQuery:
    return DifficultyQuery(role, "", "", new_tokens, new_tokens, 3, pending)


def test_a_request_by_digest_gets_its_roles_prior() -> None:
    priors = {"chore": 0.15, "background": 0.05, "chat": 0.35, "code.plan": 0.6, "x-acme": 0.4}
    for role, prior in priors.items():
        assert abs(ESTIMATOR.estimate(by_digest(role)) - prior) < 1e-9


def test_the_explanation_adds_up_to_the_estimate() -> None:
    query = DifficultyQuery("code.edit", "", "Refactor this: ```def f(): pass```", 900, 900, 5, True)
    names = [name for name, _ in ESTIMATOR.explain(query)]
    assert names[:1] == ["role_prior"]
    assert {"code", "multi_step", "length", "tool_call_pending"} <= set(names)


@given(
    st.sampled_from(ROLES),
    st.text(max_size=3000),
    st.integers(min_value=0, max_value=10**6),
    st.booleans(),
    st.integers(min_value=0, max_value=50),
)
def test_no_estimate_saturates(role: str, text: str, tokens: int, pending: bool, failures: int) -> None:
    turn = TurnSignals(text, len(text), 3, 9000, 3, failures, 0, failures, 500, 40, failures, False)
    value = ESTIMATOR.estimate(DifficultyQuery(role, "", text, tokens, tokens, 80, pending, turn))
    assert 0.0 < value < 1.0


def test_texts_without_cues_are_ordered_by_length_not_tied() -> None:
    short = "What is the capital of France?"
    longer = "What is the capital of France, and which river runs through it?"
    scores = {
        ESTIMATOR.estimate(DifficultyQuery("chat", "", t, len(t) // 4, len(t) // 4, 1, False)) for t in (short, longer)
    }
    assert len(scores) == 2


@given(st.lists(st.text(max_size=4000), min_size=1, max_size=5))
def test_remembered_cues_are_the_cues_read_afresh(texts: list[str]) -> None:
    for text in [*texts, *texts]:  # the second pass is answered from memory
        assert text_cues(text) == text_cues.__wrapped__(text)


CUE_PIECES = ["def ", "prove", "first", " then", "design", "1 + 2", "x", "\n", ";", "{"]


@given(st.lists(st.sampled_from(CUE_PIECES), max_size=400))
def test_cues_of_code_math_and_plans_are_the_same_when_remembered(pieces: list[str]) -> None:
    text = "".join(pieces)
    fresh = text_cues.__wrapped__(text)
    assert text_cues(text) == fresh
    assert text_cues(text) == fresh
