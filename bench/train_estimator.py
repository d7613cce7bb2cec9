"""Train the built-in ``lexical`` difficulty estimator and write its weights into the router package.

    python -m bench.train_estimator                 # train on the training splits, write the weights
    python -m bench.train_estimator --cv 5 --json bench/results/lexical-cv.json

The weights are learned from the *training* splits only (see ``bench/routing_data.py``): MMLU by
subject, arena and alpaca by prompt, all with a fixed seed, so ``bench/quality.py`` can report on
test splits the model never saw. The file records where the data came from and under which licence.

``--cv K`` evaluates the *recipe* instead, on every row of every data set: K folds grouped by
MMLU subject (or prompt), each predicted by a model trained on the other folds. Its MMLU numbers
cover all 57 subjects, so they can be set beside RouteLLM's published full-MMLU figures; they are
not a measure of the shipped weights, which quality.py gives on the test split. Needs numpy.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from bench.lexical_training import (
    FeatureCache,
    TrainingConfig,
    calibrated,
    excluded_groups,
    grouped_folds,
    model_weights,
    shape_scores,
    train,
    trainable,
)
from bench.quality_report import as_json, evaluate, table
from bench.routing_data import (
    DATASET_NAMES,
    DataMissingError,
    RoutingDataset,
    RoutingExample,
    default_data_dir,
    load_dataset,
    split_dataset,
)
from rolemodel_router.estimators.features import FEATURE_SET

REPOSITORY = Path(__file__).resolve().parent.parent
DEFAULT_OUTPUT = REPOSITORY / "reference" / "rolemodel_router" / "estimators" / "data" / "lexical-v1.json"
MODEL_NAME = "lexical"
MODEL_VERSION = "1.1"
#: The data sets ``--open-ranker`` learns open prompts from.
OPEN_RANKER_DATASETS = ("arena", "alpaca")

SOURCES = (
    {
        "data": "MMLU questions with the correctness of gpt-4-1106-preview and Mixtral-8x7B-Instruct-v0.1",
        "source": "github.com/lm-sys/RouteLLM, routellm/evals/mmlu (commit 0b64fda)",
        "licence": "Apache-2.0",
    },
    {
        "data": "Arena-bench-v1 prompts and GPT-4 judgments of gpt-4-turbo and Mixtral-8x7B-Instruct-v0.1",
        "source": "github.com/lmarena/arena-hard-auto, data/arena-bench-v1 (commit 4a705dd)",
        "licence": "Apache-2.0",
    },
    {
        "data": "AlpacaEval instructions with GPT-4-Turbo preferences against Mixtral-8x7B-Instruct-v0.1 (concise)",
        "source": "github.com/tatsu-lab/alpaca_eval, results/*/weighted_alpaca_eval_gpt4_turbo (commit cd543a1)",
        "licence": "Apache-2.0 (the model outputs come from third-party models)",
    },
)

#: Hand-set priors, not learned: the probability that a cheap answer is worse for a typical request
#: of each role, as in the heuristic estimator. They become log-odds offsets relative to ``chat``,
#: the role every training prompt was scored as.
ROLE_PRIORS = {
    "chat": 0.35,
    "background": 0.05,
    "chore": 0.15,
    "summarize": 0.25,
    "tool.call": 0.25,
    "code.edit": 0.45,
    "code.review": 0.5,
    "code.plan": 0.6,
}
#: A request that carries a tool result the model waits on is usually a routine continuation.
TOOL_CALL_PENDING_OFFSET = -0.5


def _logit(p: float) -> float:
    return math.log(p / (1.0 - p))


def role_offsets() -> dict[str, float]:
    base = _logit(ROLE_PRIORS["chat"])
    return {role: round(_logit(p) - base, 3) for role, p in ROLE_PRIORS.items()}


def open_ranker_config_entries(config: TrainingConfig) -> dict[str, object]:
    """The open ranker's settings for the weights file; none without one, so 1.1's file is reproduced."""
    if not config.open_ranker_datasets:
        return {}
    return {
        "open_ranker_datasets": list(config.open_ranker_datasets),
        "open_ranker_features": "structural only",
        "open_structural_l2": config.open_structural_l2,
    }


def load_all(data_dir: Path) -> dict[str, RoutingDataset]:
    return {name: load_dataset(name, data_dir) for name in DATASET_NAMES}


def weights_document(datasets: dict[str, RoutingDataset], config: TrainingConfig) -> dict[str, Any]:
    """Train on the training splits and return the whole weights file, provenance included."""
    splits = {name: split_dataset(dataset, config.seed) for name, dataset in datasets.items()}
    by_dataset = {name: split.train for name, split in splits.items()}
    examples = trainable(by_dataset)
    features = FeatureCache()
    owner = {id(e): name for name, split in splits.items() for e in split.train}
    model = train(examples, owner, features, config)
    all_train = [e for split in splits.values() for e in split.train]
    return {
        "name": MODEL_NAME,
        "version": MODEL_VERSION,
        "feature_set": FEATURE_SET,
        "about": (
            "Weights of the rolemodel reference router's 'lexical' difficulty estimator: a logistic ranker over "
            "text features, calibrated to the probability that the cheap model's answer is worse than the strong "
            "model's. Derived from the data sets below, under their licences; no text of them is included."
        ),
        "sources": list(SOURCES),
        "training": {
            "command": "python -m bench.train_estimator",
            "ranker_label": "0.5 + half the strong model's advantage, scaled to the score range",
            "calibration_label": "the cheap model's answer is worse (fractional for AlpacaEval)",
            "splits": {
                name: {
                    "rule": split.rule,
                    "train": len(split.train),
                    "test": len(split.test),
                    "strong": datasets[name].strong,
                    "cheap": datasets[name].cheap,
                }
                for name, split in splits.items()
            },
            "excluded_from_training": excluded_groups(all_train, examples),
            "rows": len(examples),
            "config": {
                "ranker_datasets": list(config.ranker_datasets),
                "use_words": config.use_words,
                "min_word_weight": config.min_word_weight,
                "min_document_frequency": config.min_document_frequency,
                "structural_l2": config.structural_l2,
                "word_l2": config.word_l2,
                "calibration_folds": config.calibration_folds,
                "seed": config.seed,
            }
            | open_ranker_config_entries(config),
        },
        "priors": {
            "note": "set by hand, not learned: no public data labels requests with roles",
            "role_offsets": role_offsets(),
            "tool_call_pending_offset": TOOL_CALL_PENDING_OFFSET,
        },
        **model_weights(model, config),
    }


def cross_validate(datasets: dict[str, RoutingDataset], folds: int, config: TrainingConfig) -> dict[str, object]:
    """Out-of-fold calibrated scores for every row, grouped by subject or prompt, and their metrics."""
    owner: dict[int, str] = {}
    everything: list[RoutingExample] = []
    for name, dataset in datasets.items():
        everything.extend(dataset.examples)
        owner.update({id(e): name for e in dataset.examples})
    features = FeatureCache()
    predicted: dict[int, float] = {}
    for number, held_out in enumerate(grouped_folds(everything, folds, config.seed), start=1):
        print(f"fold {number}/{folds}", file=sys.stderr, flush=True)
        train_rows = [e for e in everything if e.group not in held_out]
        by_dataset: dict[str, list[RoutingExample]] = {}
        for example in train_rows:
            by_dataset.setdefault(owner[id(example)], []).append(example)
        model = train(trainable(by_dataset), owner, features, config)
        test_rows = [e for e in everything if e.group in held_out]
        z = shape_scores(model, test_rows, features)
        probabilities = calibrated(z, test_rows, features, model.calibration)
        predicted.update({id(e): float(p) for e, p in zip(test_rows, probabilities, strict=True)})
    results = [
        evaluate(name, dataset.examples, [predicted[id(e)] for e in dataset.examples])
        for name, dataset in datasets.items()
    ]
    print(table(results, "lexical (cv)"))
    return {quality.dataset: as_json(quality) | {"folds": folds} for quality in results}


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data-dir", type=Path, default=default_data_dir(), help="the shared routing data folder")
    parser.add_argument("--output", type=Path, default=DEFAULT_OUTPUT, help="where to write the weights file")
    parser.add_argument("--cv", type=int, metavar="K", help="cross-validate the recipe instead of training")
    parser.add_argument("--json", type=Path, metavar="FILE", help="with --cv: write the metrics as JSON")
    parser.add_argument("--no-words", action="store_true", help="structural features only")
    parser.add_argument("--ranker-datasets", nargs="+", choices=DATASET_NAMES, default=["mmlu"])
    parser.add_argument(
        "--open-ranker",
        action="store_true",
        help="give open prompts a ranker of their own, learned from arena and alpaca (not shipped: see docs)",
    )
    args = parser.parse_args(argv)
    np.seterr(over="raise", divide="raise", invalid="raise")
    try:
        datasets = load_all(args.data_dir)
    except DataMissingError as error:
        print(f"skipped: {error}", file=sys.stderr)
        return 0
    config = TrainingConfig(
        use_words=not args.no_words,
        ranker_datasets=tuple(args.ranker_datasets),
        open_ranker_datasets=OPEN_RANKER_DATASETS if args.open_ranker else (),
    )
    if args.cv:
        report = cross_validate(datasets, args.cv, config)
        if args.json:
            args.json.parent.mkdir(parents=True, exist_ok=True)
            args.json.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
        return 0
    document = weights_document(datasets, config)
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(document, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    training = document["training"]
    print(f"wrote {args.output.name}: {len(document['words'])} words, trained on {training['rows']} rows")
    for name, split in training["splits"].items():
        print(f"  {name}: train {split['train']}, test {split['test']} ({split['rule']})")
    print(f"  excluded from training: {', '.join(training['excluded_from_training']) or 'nothing'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
