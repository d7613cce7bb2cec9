"""Lexical training: the optional open ranker learns from open prompts only, round-trips through a file, and a
main ranker fitted once can be reused."""

from __future__ import annotations

import json
from dataclasses import replace
from importlib import resources

from bench.lexical_training import (
    FeatureCache,
    TrainedModel,
    TrainingConfig,
    main_ranker,
    model_weights,
    shape_scores,
    train,
)
from bench.routing_data import RoutingExample
from bench.train_estimator import OPEN_RANKER_DATASETS
from rolemodel_router.estimators.lexical import LexicalEstimator, parse_model


def shipped_document() -> dict[str, object]:
    text = resources.files("rolemodel_router.estimators").joinpath("data", "lexical-v1.json").read_text("utf-8")
    document: dict[str, object] = json.loads(text)
    return document


def choice(index: int) -> RoutingExample:
    hard = index % 2 == 0
    ask = "Which statement is NOT true" if hard else "Which one is true"
    prompt = f"{ask} about item {index}?\nA. one\nB. two\nC. three\nD. four"
    return RoutingExample(prompt, f"subject-{index % 10}", 1.0, 0.0 if hard else 1.0, float(hard), 1.0 if hard else 0.5)


def open_prompt(index: int) -> RoutingExample:
    hard = index % 2 == 0
    prompt = f"Prove step by step that claim {index} holds, then derive the bound." if hard else f"Say hi {index}."
    return RoutingExample(prompt, f"prompt-{index}", 9.0, 3.0 if hard else 9.0, float(hard), 0.8 if hard else 0.5)


def trained(
    open_ranker_datasets: tuple[str, ...],
) -> tuple[TrainedModel, TrainingConfig, FeatureCache, list[RoutingExample]]:
    mmlu = [choice(i) for i in range(40)]
    arena = [open_prompt(i) for i in range(40)]
    owner = {id(e): "mmlu" for e in mmlu} | {id(e): "arena" for e in arena}
    config = replace(TrainingConfig(), open_ranker_datasets=open_ranker_datasets, min_document_frequency=2)
    features = FeatureCache()
    return train(mmlu + arena, owner, features, config), config, features, arena


def test_without_an_open_ranker_the_weights_have_none() -> None:
    model, config, _, _ = trained(())
    assert model.open_ranker is None
    assert "open_ranker" not in model_weights(model, config)


def test_the_open_ranker_orders_open_prompts_and_survives_the_weights_file() -> None:
    model, config, features, arena = trained(("arena",))
    assert "arena" in OPEN_RANKER_DATASETS
    assert model.open_ranker is not None
    assert not model.open_ranker.vocabulary  # structural features only
    scores = shape_scores(model, arena, features)
    hard = [float(z) for e, z in zip(arena, scores, strict=True) if e.cheap_worse]
    easy = [float(z) for e, z in zip(arena, scores, strict=True) if not e.cheap_worse]
    assert min(hard) > max(easy)
    document = shipped_document() | model_weights(model, config)
    estimator = LexicalEstimator(parse_model(document))
    for example, z in zip(arena[:4], scores[:4], strict=True):
        assert abs(estimator.score(example.prompt) - float(z)) < 1e-3


def test_a_main_ranker_passed_in_gives_the_model_train_would_fit() -> None:
    mmlu = [choice(i) for i in range(40)]
    arena = [open_prompt(i) for i in range(40)]
    owner = {id(e): "mmlu" for e in mmlu} | {id(e): "arena" for e in arena}
    config = replace(TrainingConfig(), open_ranker_datasets=("arena",), min_document_frequency=2, open_use_words=True)
    features = FeatureCache()
    fitted = train(mmlu + arena, owner, features, config)
    reused = train(mmlu + arena, owner, features, config, main_ranker(mmlu + arena, owner, features, config))
    assert fitted.open_ranker is not None and fitted.open_ranker.vocabulary  # words, as configured
    assert reused.calibration == fitted.calibration
    assert shape_scores(reused, arena, features).tolist() == shape_scores(fitted, arena, features).tolist()
