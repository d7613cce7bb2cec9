"""The learned estimator: deterministic, a probability, sensitive to the hand-set priors, light at run time."""

from __future__ import annotations

import json
import subprocess
import sys
from importlib import resources
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rolemodel_router.engine.difficulty import DifficultyQuery
from rolemodel_router.estimators.lexical import LexicalEstimator, WeightsFileError, packaged_model, parse_model


def query(text: str, role: str = "chat", pending: bool = False) -> DifficultyQuery:
    tokens = max(1, len(text) // 4)
    return DifficultyQuery(role, "", text, tokens, tokens, 1, pending)


def weights_document() -> dict[str, Any]:
    text = resources.files("rolemodel_router.estimators").joinpath("data", "lexical-v1.json").read_text("utf-8")
    document: dict[str, Any] = json.loads(text)
    return document


def test_name_and_version_come_from_the_weights_file() -> None:
    estimator = LexicalEstimator()
    assert (estimator.name, estimator.version) == ("lexical", packaged_model().version)


@settings(max_examples=200, deadline=None)
@given(
    text=st.text(max_size=3000),
    role=st.sampled_from(["chat", "chore", "code.plan", "x-acme.triage"]),
    pending=st.booleans(),
)
def test_a_deterministic_probability(text: str, role: str, pending: bool) -> None:
    first = LexicalEstimator().estimate(query(text, role, pending))
    again = LexicalEstimator().estimate(query(text, role, pending))
    assert first == again
    assert 0.0 <= first <= 1.0


def test_roles_shift_the_estimate_in_the_priors_order() -> None:
    estimator = LexicalEstimator()
    text = "Refactor this module so the parser and the cache are separate, then add tests."
    by_role = {role: estimator.estimate(query(text, role)) for role in ("background", "chore", "chat", "code.plan")}
    assert by_role["background"] < by_role["chore"] < by_role["chat"] < by_role["code.plan"]
    assert estimator.estimate(query(text, "x-acme.triage")) == by_role["chat"]  # custom roles: no prior


def test_a_pending_tool_result_lowers_the_estimate() -> None:
    estimator = LexicalEstimator()
    text = '{"exit_code": 0, "stdout": "3 passed"}'
    assert estimator.estimate(query(text, "tool.call", pending=True)) < estimator.estimate(query(text, "tool.call"))


def test_the_weights_file_cites_its_data_and_licences() -> None:
    document = weights_document()
    sources = " ".join(f"{s['source']} {s['licence']}" for s in document["sources"])
    assert "lm-sys/RouteLLM" in sources
    assert "arena-hard-auto" in sources
    assert "alpaca_eval" in sources
    assert "Apache-2.0" in sources
    assert "command" in document["training"]
    assert "not learned" in document["priors"]["note"]


def test_a_weights_file_for_another_feature_set_is_refused() -> None:
    document = weights_document() | {"feature_set": "text-v0"}
    with pytest.raises(WeightsFileError, match="feature set"):
        parse_model(document)


def test_a_truncated_weights_file_is_refused() -> None:
    document = weights_document()
    del document["calibration"]
    with pytest.raises(WeightsFileError, match="malformed"):
        parse_model(document)


def test_the_estimator_needs_no_numpy_at_run_time() -> None:
    program = (
        "import sys\n"
        "from rolemodel_router.estimators import load_estimator\n"
        "from rolemodel_router.engine.difficulty import DifficultyQuery\n"
        "load_estimator('lexical').estimate(DifficultyQuery('chat', '', 'Why is the sky blue?', 5, 5, 1, False))\n"
        "print('numpy' in sys.modules)\n"
    )
    result = subprocess.run([sys.executable, "-c", program], capture_output=True, text=True, check=True, timeout=60)
    assert result.stdout.strip() == "False"


def with_open_ranker(bias: float) -> dict[str, Any]:
    document = weights_document()
    document["open_ranker"] = {"bias": bias, "structural": dict.fromkeys(document["structural"], 0.0)}
    return document


def test_an_open_ranker_scores_open_prompts_only() -> None:
    plain = LexicalEstimator()
    low, high = (LexicalEstimator(parse_model(with_open_ranker(bias))) for bias in (-2.0, 2.0))
    open_prompt = "Write a short poem about the sea."
    choice = "Which planet is largest?\nA. Mars\nB. Jupiter\nC. Venus\nD. Earth"
    assert low.score(open_prompt) == -2.0
    assert high.score(open_prompt) == 2.0
    assert low.score(choice) == high.score(choice) == plain.score(choice)


def test_an_open_ranker_for_other_features_is_refused() -> None:
    document = with_open_ranker(0.0)
    document["open_ranker"]["structural"] = {"log_chars": 1.0}
    with pytest.raises(WeightsFileError, match="open ranker"):
        parse_model(document)
