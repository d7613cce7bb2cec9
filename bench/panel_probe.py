"""Do labels from many models make a better ranker of open prompts? A measurement, not a model.

    python -m bench.panel_probe --alpaca-eval PATH --arena-hard-auto PATH --json bench/results/panel-probe.json

``--alpaca-eval`` is a checkout of github.com/tatsu-lab/alpaca_eval (these numbers: commit cd543a1)
and ``--arena-hard-auto`` one of github.com/lmarena/arena-hard-auto at commit 4a705dd, the last to
hold ``data/arena-bench-v1``; both Apache-2.0. :mod:`bench.panel_labels` turns their per-model
judgments into per-prompt labels (``share``, ``irt``). Only prompts of the arena and AlpacaEval
*training* splits of ``bench/routing_data.py`` get a label: every prompt whose normalised text is in
any test split is dropped first. The routing outcome measured stays the evaluated pair's (gpt-4-turbo
against Mixtral on arena, GPT-4-Turbo against Mixtral concise on AlpacaEval).

It reports, in order:

1. **the ceiling**: on the training prompts, how well the panel label itself routes the pair. A
   ranker that predicted the label perfectly could do no better than this;
2. **cross-validation** within the training prompts (5 folds by prompt): open rankers fitted to the
   pair's own gain label (the rejected open ranker) and to each panel label, with structural
   features only or with words too; APGR and S95 of the pair, and the rank correlation between the
   out-of-fold score and the panel label (can text predict the label at all?);
3. **the test splits, once per variant**: the whole ``lexical`` recipe with that open ranker
   (calibrated as lexical 1.1 is), APGR, S95 and ECE beside lexical 1.1 and random;
4. **sanity**: each variant's estimate (role ``chat``) for a greeting and for a hard proof.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from bench.lexical_training import (
    FeatureCache,
    TrainedModel,
    TrainingConfig,
    calibrated,
    fit_ranker,
    grouped_folds,
    is_choice,
    main_ranker,
    ranker_scores,
    shape_scores,
    train,
    trainable,
)
from bench.logistic_fit import FloatArray
from bench.panel_labels import (
    PanelMissingError,
    alpaca_panel,
    arena_panel,
    normalised,
    panel_labels,
    rank_share,
    split_half_agreement,
)
from bench.quality_report import DatasetQuality, evaluate
from bench.routing_data import (
    DATASET_NAMES,
    DataMissingError,
    RoutingExample,
    Split,
    default_data_dir,
    load_dataset,
    query_for_prompt,
    split_dataset,
)
from bench.routing_metrics import mean, metrics, routing_curve
from rolemodel_router.estimators.lexical import LexicalEstimator

OPEN = ("arena", "alpaca")
FOLDS = 5
SANITY = {
    "hi": "hi",
    "thanks": "thanks!",
    "capital": "What is the capital of France?",
    "proof": (
        "Prove that there are infinitely many primes of the form 4k+3. "
        "Then compute the sum of the first 10 such primes."
    ),
    "lock-free": (
        "Implement a lock-free multi-producer multi-consumer queue in C++ with std::atomic, explain the "
        "memory orderings you chose, and show why it is free of the ABA problem."
    ),
}


def routing_quality(examples: Sequence[RoutingExample], scores: Sequence[float]) -> dict[str, float]:
    strong, cheap = [e.strong_score for e in examples], [e.cheap_score for e in examples]
    found = metrics(routing_curve([float(s) for s in scores], strong, cheap), mean(strong), mean(cheap))
    return {"apgr": round(found.apgr, 3), "s95": round(found.s95, 3)}


def spearman(a: Sequence[float], b: Sequence[float]) -> float:
    return round(float(np.corrcoef(rank_share(a), rank_share(b))[0, 1]), 3)


Labels = Mapping[str, Mapping[str, Mapping[str, float]]]  # data set -> label kind -> prompt -> label
Table = dict[str, dict[str, object]]


@dataclass(frozen=True)
class Variant:
    title: str
    label: str | None  # a panel label, or None for the pair's own gain label
    words: bool
    structural_l2: float
    word_l2: float = 0.0


def variants() -> list[Variant]:
    found = [Variant("pair gain, structural", None, False, 0.1)]
    for label in ("share", "irt"):
        found.extend(Variant(f"{label}, structural, L2 {l2:g}", label, False, l2) for l2 in (0.1, 1.0))
        found.extend(Variant(f"{label}, structural + words, word L2 {w:g}", label, True, 0.1, w) for w in (0.01, 0.1))
    return found


def relabelled(rows: Sequence[RoutingExample], labels: Mapping[str, float] | None) -> list[RoutingExample]:
    """Rows with a panel label get it as their gain (the ranker's target); ``None`` keeps the pair's gain."""
    if labels is None:
        return list(rows)
    return [replace(e, gain=labels[normalised(e.prompt)]) if normalised(e.prompt) in labels else e for e in rows]


def cross_validated(rows: Sequence[RoutingExample], features: FeatureCache, config: TrainingConfig) -> FloatArray:
    scores = np.zeros(len(rows))
    for held_out in grouped_folds(rows, FOLDS, config.seed):
        inside = [e.group in held_out for e in rows]
        ranker = fit_ranker([e for e, held in zip(rows, inside, strict=True) if not held], features, config)
        chosen = [features(e.prompt) for e, held in zip(rows, inside, strict=True) if held]
        scores[np.array(inside)] = ranker_scores(ranker, chosen)
    return scores


def ceiling_table(open_train: Mapping[str, Sequence[RoutingExample]], labels: Labels) -> Table:
    """How the panel label itself routes the pair on the training prompts, and what it correlates with."""
    found: Table = {}
    for kind in ("share", "irt"):
        for name, rows in open_train.items():
            label = [labels[name][kind][normalised(e.prompt)] for e in rows]
            found[f"{kind} {name}"] = {
                **routing_quality(rows, label),
                "rho_pair_gain": spearman(label, [e.gain for e in rows]),
                "rho_length": spearman(label, [float(len(e.prompt)) for e in rows]),
            }
    return found


def cv_table(open_train: Mapping[str, Sequence[RoutingExample]], labels: Labels, features: FeatureCache) -> Table:
    """Out-of-fold routing quality of each open ranker, and its rank correlation with the irt label."""

    def entry(rows: Sequence[RoutingExample], scores: Sequence[float], name: str) -> dict[str, object]:
        irt = [labels[name]["irt"][normalised(e.prompt)] for e in rows]
        return {**routing_quality(rows, scores), "rho_irt": spearman(scores, irt)}

    shipped = LexicalEstimator()
    found: Table = {
        "lexical 1.1": {
            name: entry(rows, [shipped.score(e.prompt) for e in rows], name) for name, rows in open_train.items()
        }
    }
    for variant in variants():
        print(f"cv: {variant.title}", file=sys.stderr, flush=True)
        config = TrainingConfig(use_words=variant.words, structural_l2=variant.structural_l2, word_l2=variant.word_l2)
        rows, owners = [], []
        for name, part in open_train.items():
            rows.extend(relabelled(part, None if variant.label is None else labels[name][variant.label]))
            owners.extend([name] * len(part))
        scores = cross_validated(rows, features, config)
        found[variant.title] = {}
        for name, part in open_train.items():
            mask = np.array([owner == name for owner in owners])
            found[variant.title][name] = entry(part, scores[mask].tolist(), name)
    return found


def test_tables(
    splits: Mapping[str, Split], tested: Collection[str], labels: Labels, features: FeatureCache
) -> tuple[Table, Table]:
    """Each variant's whole recipe, trained on the training splits, scored once on the test splits; and sanity."""
    shipped = LexicalEstimator()
    test: Table = {"lexical 1.1": {}, "random": {}}
    sanity: Table = {"lexical 1.1": {k: round(shipped.estimate(query_for_prompt(t)), 3) for k, t in SANITY.items()}}
    for name in DATASET_NAMES:
        rows = list(splits[name].test)
        quality = evaluate(name, rows, [shipped.estimate(query_for_prompt(e.prompt)) for e in rows])
        test["lexical 1.1"][name] = _test_entry(quality)
        test["random"][name] = {"apgr": round(quality.random.apgr, 3), "s95": round(quality.random.s95, 3)}
    print("test: training the MMLU ranker once", file=sys.stderr, flush=True)
    base = TrainingConfig()
    by_dataset = {
        name: [e for e in split.train if normalised(e.prompt) not in tested] for name, split in splits.items()
    }
    owner = {id(e): name for name, rows in by_dataset.items() for e in rows}
    main = main_ranker(trainable(by_dataset), owner, features, base)
    sanity_rows = [RoutingExample(text, key, 0.0, 0.0, 0.0, 0.5) for key, text in SANITY.items()]
    for variant in variants():
        print(f"test: {variant.title}", file=sys.stderr, flush=True)
        config = replace(
            base,
            open_ranker_datasets=OPEN,
            open_use_words=variant.words,
            open_structural_l2=variant.structural_l2,
            open_word_l2=variant.word_l2,
        )
        by_variant = {
            name: rows if name not in OPEN or variant.label is None else relabelled(rows, labels[name][variant.label])
            for name, rows in by_dataset.items()
        }
        variant_owner = {id(e): name for name, rows in by_variant.items() for e in rows}
        model = train(trainable(by_variant), variant_owner, features, config, main)
        test[variant.title] = {
            name: _test_entry(
                evaluate(name, list(splits[name].test), _probabilities(model, splits[name].test, features))
            )
            for name in DATASET_NAMES
        }
        probabilities = _probabilities(model, sanity_rows, features)
        sanity[variant.title] = {key: round(p, 3) for key, p in zip(SANITY, probabilities, strict=True)}
    return test, sanity


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--alpaca-eval", type=Path, required=True, metavar="PATH", help="an alpaca_eval checkout")
    parser.add_argument(
        "--arena-hard-auto", type=Path, required=True, metavar="PATH", help="an arena-hard-auto checkout at 4a705dd"
    )
    parser.add_argument("--data-dir", type=Path, default=default_data_dir(), help="the shared routing data folder")
    parser.add_argument("--json", type=Path, metavar="FILE", help="write the measurements as JSON")
    args = parser.parse_args(argv)
    for checkout in (args.alpaca_eval, args.arena_hard_auto):
        if not checkout.is_dir():
            print(f"error: {checkout} is not a directory; pass a checkout of the repository", file=sys.stderr)
            return 2
    np.seterr(over="raise", divide="raise", invalid="raise")
    try:
        splits = {name: split_dataset(load_dataset(name, args.data_dir)) for name in DATASET_NAMES}
    except DataMissingError as error:
        print(f"skipped: {error}", file=sys.stderr)
        return 0
    features = FeatureCache()
    tested = {normalised(e.prompt) for split in splits.values() for e in split.test}
    open_train = {
        name: [e for e in splits[name].train if not is_choice(features, e) and normalised(e.prompt) not in tested]
        for name in OPEN
    }
    keep = {name: {normalised(e.prompt) for e in rows} for name, rows in open_train.items()}
    try:
        panels = {
            "arena": arena_panel(args.arena_hard_auto, keep["arena"]),
            "alpaca": alpaca_panel(args.alpaca_eval, keep["alpaca"]),
        }
    except PanelMissingError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    labels = {name: panel_labels(panel) for name, panel in panels.items()}
    for name in OPEN:  # a training prompt without any panel judgment has no label: it is left out
        open_train[name] = [e for e in open_train[name] if normalised(e.prompt) in labels[name]["irt"]]
    panel_table: Table = {
        name: {
            "source": panel.source,
            "models": len(panel.models),
            "prompts": len(open_train[name]),
            "observed": round(float((~np.isnan(panel.loss)).mean()), 3),
            "split_half_rho": round(split_half_agreement(panel), 3),
        }
        for name, panel in panels.items()
    }
    test, sanity = test_tables(splits, tested, labels, features)
    sections = {
        "panels": panel_table,
        "ceiling": ceiling_table(open_train, labels),
        "cv": cv_table(open_train, labels, features),
        "test": test,
        "sanity": sanity,
    }
    _print(sections)
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        report = sections | {"model_names": {name: list(panel.models) for name, panel in panels.items()}}
        args.json.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    return 0


def _probabilities(model: TrainedModel, rows: Sequence[RoutingExample], features: FeatureCache) -> list[float]:
    return [float(p) for p in calibrated(shape_scores(model, rows, features), rows, features, model.calibration)]


def _test_entry(quality: DatasetQuality) -> dict[str, float]:
    found = quality.estimator
    return {"apgr": round(found.apgr, 3), "s95": round(found.s95, 3), "ece": round(quality.ece, 3)}


def _print(sections: Mapping[str, Mapping[str, Mapping[str, object]]]) -> None:
    titles = {
        "panels": "panels (training prompts only)",
        "ceiling": "ceiling: the panel label itself routes the pair (training prompts)",
        "cv": "cross-validated within the training prompts",
        "test": "test splits, once per variant",
        "sanity": "sanity: the estimate for role chat",
    }
    for section, title in titles.items():
        print(f"\n{title}:")
        for row, parts in sections[section].items():
            print(f"  {row:42} " + "  ".join(f"{key} {value}" for key, value in parts.items()))


if __name__ == "__main__":
    raise SystemExit(main())
