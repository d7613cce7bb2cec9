"""The estimator registry: built-ins, installed entry points, and the errors a catalog author sees."""

from __future__ import annotations

from pathlib import Path

import pytest

from rolemodel_router.engine.difficulty import DifficultyQuery, HeuristicEstimator
from rolemodel_router.estimators import (
    DEFAULT_ESTIMATOR,
    ENTRY_POINT_GROUP,
    EstimatorLoadError,
    LexicalEstimator,
    UnknownEstimatorError,
    available_estimators,
    load_estimator,
)
from tests.estimators.plugin_fixture import install_plugin

QUERY = DifficultyQuery("chat", "", "What is the capital of France?", 8, 8, 1, False)

CONSTANT_ESTIMATOR = """
class ConstantEstimator:
    name = "constant"
    version = "0.1"

    def estimate(self, query):
        return 0.25
"""


def test_built_ins_are_available_by_name() -> None:
    names = available_estimators()
    assert {"heuristic", "lexical"} <= set(names)
    assert names == sorted(names)
    assert isinstance(load_estimator("heuristic"), HeuristicEstimator)
    assert isinstance(load_estimator("lexical"), LexicalEstimator)
    assert DEFAULT_ESTIMATOR in names


def test_each_load_is_a_new_instance() -> None:
    assert load_estimator("lexical") is not load_estimator("lexical")


def test_unknown_name_lists_what_is_available() -> None:
    with pytest.raises(UnknownEstimatorError) as raised:
        load_estimator("no-such-estimator")
    assert raised.value.name == "no-such-estimator"
    assert "lexical" in raised.value.available
    assert ENTRY_POINT_GROUP in str(raised.value)
    assert isinstance(raised.value, LookupError)


def test_empty_name_is_unknown_not_a_default() -> None:
    with pytest.raises(UnknownEstimatorError):
        load_estimator("")


def test_installed_entry_point_loads_by_name(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    install_plugin(
        tmp_path,
        monkeypatch,
        "demo-constant",
        "demo_constant_plugin",
        CONSTANT_ESTIMATOR,
        {"constant": "demo_constant_plugin:ConstantEstimator"},
    )
    assert "constant" in available_estimators()
    estimator = load_estimator("constant")
    assert (estimator.name, estimator.version) == ("constant", "0.1")
    assert estimator.estimate(QUERY) == 0.25


def test_a_plugin_cannot_replace_a_built_in(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    install_plugin(
        tmp_path,
        monkeypatch,
        "demo-shadow",
        "demo_shadow_plugin",
        CONSTANT_ESTIMATOR,
        {"lexical": "demo_shadow_plugin:ConstantEstimator"},
    )
    assert isinstance(load_estimator("lexical"), LexicalEstimator)
    assert available_estimators().count("lexical") == 1


def test_plugin_that_fails_to_import(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    install_plugin(
        tmp_path,
        monkeypatch,
        "demo-broken",
        "demo_broken_plugin",
        "raise RuntimeError('boom')\n",
        {"broken": "demo_broken_plugin:Anything"},
    )
    assert "broken" in available_estimators()  # listing does not import
    with pytest.raises(EstimatorLoadError, match="cannot import"):
        load_estimator("broken")


def test_plugin_that_is_not_an_estimator(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    install_plugin(
        tmp_path,
        monkeypatch,
        "demo-shape",
        "demo_shape_plugin",
        "class NotAnEstimator:\n    name = 'x'\n",
        {"shapeless": "demo_shape_plugin:NotAnEstimator"},
    )
    with pytest.raises(EstimatorLoadError, match="version, estimate"):
        load_estimator("shapeless")


def test_two_distributions_claiming_one_name(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    first, second = tmp_path / "first", tmp_path / "second"
    first.mkdir()
    second.mkdir()
    install_plugin(
        first,
        monkeypatch,
        "demo-one",
        "demo_one_plugin",
        CONSTANT_ESTIMATOR,
        {"twin": "demo_one_plugin:ConstantEstimator"},
    )
    install_plugin(
        second,
        monkeypatch,
        "demo-two",
        "demo_two_plugin",
        CONSTANT_ESTIMATOR,
        {"twin": "demo_two_plugin:ConstantEstimator"},
    )
    with pytest.raises(EstimatorLoadError, match="more than once"):
        load_estimator("twin")
