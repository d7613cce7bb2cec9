"""The training recipe of the ``lexical`` estimator: a ranker, then a calibration, then a weights file.

Two stages, because routing and calibration ask different things of a score:

1. A *ranker*, an L2-regularised logistic regression on the structural features (standardised) and
   the presence of words (scaled by one over the square root of the text's distinct words), fitted
   to the *gain* label: 0.5 plus half the strong model's advantage. Ranking by expected gain is
   what routing needs; it also pushes down the requests where the cheap model is right and the
   strong one wrong, which the plain "cheap is worse" label cannot see. It learns from MMLU only.
2. A *calibration*: the ranker's score is mapped to the probability that the cheap answer is worse
   (the estimator's contract) by a logistic fit per question shape (multiple choice or open), on
   out-of-fold ranker scores, so that it learns how the ranker behaves on data it has not seen.
   The open shape is calibrated on the arena and alpaca training splits.
3. Optionally (``train_estimator.py --open-ranker``; not in the shipped weights), an *open
   ranker*: open prompts (no lettered options) get a ranker of their own, on the structural
   features only, learned from the arena and alpaca training splits, so that MMLU's ranker is left
   alone. It beats random on AlpacaEval's held-out prompts, but what it learns is that judge's
   taste (the shorter the instruction, the likelier GPT-4-Turbo wins: "hi" scores 0.97), it loses
   to random on arena's, and so it is not shipped; ``docs/difficulty.md`` has the numbers.
   ``bench/panel_probe.py`` fits it, with or without words, to labels from many models' judgments
   instead of the pair's one (:mod:`bench.panel_labels`); that did not help either.

How the choices were made: the open ranker's features and penalty (structural only, 0.1; words and
a compact word embedding did not help, ``bench/embedding_probe.py``) were chosen by grouped
cross-validation within the open training splits. The gain label against the plain label, words against none, and
learning the ranker from MMLU only against all three data sets were compared with grouped
cross-validation (``train_estimator.py --cv``), first within the training subjects, then over all
of MMLU. The second includes the test subjects, so the test split is not wholly untouched by
selection; four variants were compared, and the docs report both kinds of number.

MMLU subjects where the strong model scores below chance (a quarter, on four options) are left out
of training: such a score describes a grading failure, not the difficulty of the questions.
"""

from __future__ import annotations

import math
import random
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace

import numpy as np

from bench.logistic_fit import FloatArray, fit_logistic, sigmoid
from bench.routing_data import RoutingExample
from rolemodel_router.estimators.features import STRUCTURAL_NAMES, TextFeatures, extract

CHANCE_ACCURACY = 0.25
#: A calibration keeps the ranker's order: its slope never falls below this.
MIN_CALIBRATION_SLOPE = 0.05
MULTIPLE_CHOICE = STRUCTURAL_NAMES.index("multiple_choice")


@dataclass(frozen=True)
class TrainingConfig:
    use_words: bool = True
    ranker_datasets: tuple[str, ...] = ("mmlu",)
    min_document_frequency: int = 5
    structural_l2: float = 1e-3
    word_l2: float = 1e-3
    calibration_folds: int = 5
    calibration_l2: float = 1e-4
    seed: int = 0
    weight_decimals: int = 5
    #: Words whose weight is smaller than this are left out of the file; with a text's word count
    #: dividing their sum, they could move a score by a few hundredths of a logit at most.
    min_word_weight: float = 0.002
    #: The data sets the open ranker learns from; empty (the shipped recipe) means open prompts use
    #: the main ranker.
    open_ranker_datasets: tuple[str, ...] = ()
    open_structural_l2: float = 0.1
    #: Words in the open ranker too (measured by ``bench/panel_probe.py``; not shipped).
    open_use_words: bool = False
    open_word_l2: float = 0.1


@dataclass(frozen=True)
class Ranker:
    vocabulary: tuple[str, ...]
    mean: FloatArray
    scale: FloatArray
    structural: FloatArray  # weights on standardised features
    words: FloatArray
    bias: float

    def folded_structural(self) -> tuple[FloatArray, float]:
        """Weights and bias on raw features, with the standardisation folded in."""
        weights = self.structural / self.scale
        return weights, self.bias - float(weights @ self.mean)


class FeatureCache:
    """Extracts each prompt's features once; extraction dominates the training time otherwise."""

    def __init__(self) -> None:
        self._cache: dict[str, TextFeatures] = {}

    def __call__(self, prompt: str) -> TextFeatures:
        found = self._cache.get(prompt)
        if found is None:
            found = self._cache[prompt] = extract(prompt)
        return found


def trainable(by_dataset: Mapping[str, Sequence[RoutingExample]]) -> list[RoutingExample]:
    """The examples fit to learn from: all of them, less MMLU subjects where the strong model is below chance."""
    kept: list[RoutingExample] = []
    for name, examples in by_dataset.items():
        if name != "mmlu":
            kept.extend(examples)
            continue
        totals: dict[str, list[float]] = {}
        for example in examples:
            totals.setdefault(example.group, []).append(example.strong_score)
        broken = {group for group, scores in totals.items() if sum(scores) / len(scores) < CHANCE_ACCURACY}
        kept.extend(e for e in examples if e.group not in broken)
    return kept


def excluded_groups(examples: Sequence[RoutingExample], kept: Sequence[RoutingExample]) -> list[str]:
    kept_groups = {e.group for e in kept}
    return sorted({e.group for e in examples} - kept_groups)


def select_vocabulary(features: Iterable[TextFeatures], min_document_frequency: int) -> tuple[str, ...]:
    counts: dict[str, int] = {}
    for item in features:
        for word in item.words:
            counts[word] = counts.get(word, 0) + 1
    return tuple(sorted(word for word, count in counts.items() if count >= min_document_frequency))


def _matrices(features: Sequence[TextFeatures], vocabulary: Sequence[str]) -> tuple[FloatArray, FloatArray]:
    index = {word: i for i, word in enumerate(vocabulary)}
    structural = np.array([item.structural for item in features], dtype=np.float64)
    words = np.zeros((len(features), len(vocabulary)))
    for row, item in enumerate(features):
        columns = [index[word] for word in item.words if word in index]
        if columns:
            words[row, columns] = 1.0 / math.sqrt(len(item.words))
    return structural, words


def fit_ranker(examples: Sequence[RoutingExample], features: FeatureCache, config: TrainingConfig) -> Ranker:
    rows = [features(e.prompt) for e in examples]
    vocabulary = select_vocabulary(rows, config.min_document_frequency) if config.use_words else ()
    structural, words = _matrices(rows, vocabulary)
    mean = structural.mean(axis=0)
    scale = structural.std(axis=0)
    scale[scale == 0] = 1.0
    x = np.hstack([(structural - mean) / scale, words])
    y = np.array([e.gain for e in examples])
    penalty = np.concatenate(
        [np.full(structural.shape[1], config.structural_l2), np.full(len(vocabulary), config.word_l2)]
    )
    fit = fit_logistic(x, y, np.ones(len(examples)), penalty)
    d = structural.shape[1]
    return Ranker(vocabulary, mean, scale, fit.coef[:d], fit.coef[d:], fit.bias)


def ranker_scores(ranker: Ranker, features: Sequence[TextFeatures]) -> FloatArray:
    structural, words = _matrices(features, ranker.vocabulary)
    z: FloatArray = ((structural - ranker.mean) / ranker.scale) @ ranker.structural + words @ ranker.words
    return z + ranker.bias


def grouped_folds(examples: Sequence[RoutingExample], folds: int, seed: int) -> list[set[str]]:
    """Groups dealt round-robin in a seeded order, so no group is in two folds."""
    groups = sorted({e.group for e in examples})
    random.Random(seed).shuffle(groups)
    return [set(groups[k::folds]) for k in range(folds)]


def out_of_fold_scores(
    examples: Sequence[RoutingExample], features: FeatureCache, config: TrainingConfig
) -> FloatArray:
    scores = np.zeros(len(examples))
    for held_out in grouped_folds(examples, config.calibration_folds, config.seed):
        train = [e for e in examples if e.group not in held_out]
        test_index = [i for i, e in enumerate(examples) if e.group in held_out]
        ranker = fit_ranker(train, features, config)
        scores[test_index] = ranker_scores(ranker, [features(examples[i].prompt) for i in test_index])
    return scores


def _intercept_for(scores: FloatArray, labels: FloatArray, slope: float) -> float:
    """The intercept that makes sigmoid(slope * score + b) match the labels' mean, by bisection."""
    low, high = -50.0, 50.0
    target = float(labels.mean())
    for _ in range(100):
        middle = (low + high) / 2
        if float(sigmoid(slope * scores + middle).mean()) < target:
            low = middle
        else:
            high = middle
    return (low + high) / 2


def fit_calibration(
    scores: FloatArray, examples: Sequence[RoutingExample], features: FeatureCache, config: TrainingConfig
) -> dict[str, tuple[float, float]]:
    """(slope, intercept) per question shape, mapping a ranker score to P(cheap answer is worse).

    The slope is kept at or above :data:`MIN_CALIBRATION_SLOPE`: the ranker orders requests by the
    strong model's expected gain, and a calibration must never reverse that order. Where held-out
    data says the score does not predict a worse cheap answer, the slope stays at the floor and
    the probability sits near the base rate, still in the ranker's order.
    """
    shapes = np.array([features(e.prompt).structural[MULTIPLE_CHOICE] > 0 for e in examples])
    labels = np.array([e.cheap_worse for e in examples])
    calibration: dict[str, tuple[float, float]] = {}
    for name, mask in (("choice", shapes), ("open", ~shapes)):
        if not mask.any():
            raise ValueError(f"no {name} questions to calibrate on")
        fit = fit_logistic(
            scores[mask].reshape(-1, 1), labels[mask], np.ones(int(mask.sum())), np.array([config.calibration_l2])
        )
        slope = float(fit.coef[0])
        if slope >= MIN_CALIBRATION_SLOPE:
            calibration[name] = (slope, fit.bias)
        else:
            calibration[name] = (
                MIN_CALIBRATION_SLOPE,
                _intercept_for(scores[mask], labels[mask], MIN_CALIBRATION_SLOPE),
            )
    return calibration


def calibrated(
    scores: FloatArray,
    examples: Sequence[RoutingExample],
    features: FeatureCache,
    table: Mapping[str, tuple[float, float]],
) -> FloatArray:
    choice = np.array([features(e.prompt).structural[MULTIPLE_CHOICE] > 0 for e in examples])
    slope = np.where(choice, table["choice"][0], table["open"][0])
    intercept = np.where(choice, table["choice"][1], table["open"][1])
    return sigmoid(slope * scores + intercept)


@dataclass(frozen=True)
class TrainedModel:
    ranker: Ranker
    open_ranker: Ranker | None
    calibration: dict[str, tuple[float, float]]


def is_choice(features: FeatureCache, example: RoutingExample) -> bool:
    return features(example.prompt).structural[MULTIPLE_CHOICE] > 0


def open_ranker_config(config: TrainingConfig) -> TrainingConfig:
    return replace(
        config, use_words=config.open_use_words, structural_l2=config.open_structural_l2, word_l2=config.open_word_l2
    )


def shape_scores(model: TrainedModel, examples: Sequence[RoutingExample], features: FeatureCache) -> FloatArray:
    """Each example's score from the ranker of its shape: the main one for multiple choice, else the open one."""
    rows = [features(e.prompt) for e in examples]
    scores = ranker_scores(model.ranker, rows)
    if model.open_ranker is not None:
        open_rows = [i for i, row in enumerate(rows) if row.structural[MULTIPLE_CHOICE] == 0]
        if open_rows:
            scores[open_rows] = ranker_scores(model.open_ranker, [rows[i] for i in open_rows])
    return scores


def _fit_open_ranker(
    examples: Sequence[RoutingExample], owner: Mapping[int, str], features: FeatureCache, config: TrainingConfig
) -> tuple[Ranker | None, dict[int, float]]:
    """The open ranker and the out-of-fold scores of the open prompts it learned from, by ``id``."""
    learned = [e for e in examples if owner[id(e)] in config.open_ranker_datasets and not is_choice(features, e)]
    if not learned:
        return None, {}
    open_config = open_ranker_config(config)
    scores = out_of_fold_scores(learned, features, open_config)
    return fit_ranker(learned, features, open_config), {id(e): float(z) for e, z in zip(learned, scores, strict=True)}


def main_ranker(
    examples: Sequence[RoutingExample], owner: Mapping[int, str], features: FeatureCache, config: TrainingConfig
) -> tuple[Ranker, dict[int, float]]:
    """The main ranker, fitted on its data sets' examples, and their out-of-fold scores by ``id``."""
    ranked = [e for e in examples if owner[id(e)] in config.ranker_datasets]
    scores = out_of_fold_scores(ranked, features, config)
    return fit_ranker(ranked, features, config), {id(e): float(z) for e, z in zip(ranked, scores, strict=True)}


def train(
    examples: Sequence[RoutingExample],
    owner: Mapping[int, str],
    features: FeatureCache,
    config: TrainingConfig,
    main: tuple[Ranker, dict[int, float]] | None = None,
) -> TrainedModel:
    """The rankers on their data sets, calibrated on every example's out-of-fold score.

    ``owner`` maps ``id(example)`` to its data set's name. Each example is scored by the ranker of
    its shape (:func:`shape_scores`): an example a ranker learned from gets the score of a ranker
    that did not see its group; any other gets the score of the ranker fitted on all its examples.
    ``main`` is :func:`main_ranker`'s result for these examples, when the caller already has it.
    """
    ranker, main_scores = main if main is not None else main_ranker(examples, owner, features, config)
    open_ranker, by_example = _fit_open_ranker(examples, owner, features, config)
    for example in examples:
        z = main_scores.get(id(example))
        if z is not None and (open_ranker is None or is_choice(features, example)):
            by_example[id(example)] = z
    model = TrainedModel(ranker, open_ranker, {})
    others = [e for e in examples if id(e) not in by_example]
    if others:
        by_example.update({id(e): float(z) for e, z in zip(others, shape_scores(model, others, features), strict=True)})
    all_scores = np.array([by_example[id(e)] for e in examples])
    return replace(model, calibration=fit_calibration(all_scores, examples, features, config))


def model_weights(model: TrainedModel, config: TrainingConfig) -> dict[str, object]:
    """The learned part of the weights file: raw-feature weights, words and calibration."""
    structural, bias = model.ranker.folded_structural()
    places = config.weight_decimals
    words = {
        word: round(float(weight), places)
        for word, weight in zip(model.ranker.vocabulary, model.ranker.words, strict=True)
        if abs(float(weight)) >= config.min_word_weight
    }
    document: dict[str, object] = {
        "bias": round(bias, places),
        "structural": {name: round(float(w), places) for name, w in zip(STRUCTURAL_NAMES, structural, strict=True)},
        "word_scale": "inverse_sqrt_distinct_words",
        "words": words,
        "calibration": {
            name: {"slope": round(slope, places), "intercept": round(intercept, places)}
            for name, (slope, intercept) in model.calibration.items()
        },
    }
    if model.open_ranker is not None:
        open_structural, open_bias = model.open_ranker.folded_structural()
        document["open_ranker"] = {
            "bias": round(open_bias, places),
            "structural": {
                name: round(float(w), places) for name, w in zip(STRUCTURAL_NAMES, open_structural, strict=True)
            },
        }
    return document
