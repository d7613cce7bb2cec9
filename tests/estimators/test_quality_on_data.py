"""The shipped estimator on the held-out splits of the public data (skipped when the data is absent).

The bounds are deliberately below the measured values in docs/difficulty.md, so the test guards
against a regression (a broken feature, a stale weights file) rather than against noise.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from bench.quality_report import DatasetQuality, evaluate
from bench.routing_data import load_dataset, query_for_prompt, split_dataset
from rolemodel_router.estimators import load_estimator


@pytest.fixture(scope="module")
def mmlu(routing_data_dir: Path) -> DatasetQuality:
    split = split_dataset(load_dataset("mmlu", routing_data_dir))
    estimator = load_estimator("lexical")
    return evaluate("mmlu", split.test, [estimator.estimate(query_for_prompt(e.prompt)) for e in split.test])


def test_no_mmlu_subject_is_in_both_splits(routing_data_dir: Path) -> None:
    split = split_dataset(load_dataset("mmlu", routing_data_dir))
    assert {e.group for e in split.train}.isdisjoint({e.group for e in split.test})
    assert len(split.test) >= 0.3 * (len(split.train) + len(split.test))


def test_contaminated_prompts_are_dropped(routing_data_dir: Path) -> None:
    assert load_dataset("mmlu", routing_data_dir).dropped > 0


def test_beats_random_on_mmlu(mmlu: DatasetQuality) -> None:
    assert mmlu.estimator.apgr > mmlu.random.apgr + 0.03
    assert mmlu.estimator.s95 < mmlu.random.s95 - 0.04
    assert mmlu.estimator.cpt50 < mmlu.random.cpt50


def test_calibrated_on_held_out_subjects(mmlu: DatasetQuality) -> None:
    assert mmlu.ece < 0.08
