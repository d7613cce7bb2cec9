"""Does a compact word embedding make the learned difficulty estimator better? A measurement, not a model.

    pip install wordllama==0.4.0.post1    # MIT; its 16 MB weights ship inside the wheel
    python -m bench.embedding_probe --json bench/results/embedding-probe.json

WordLlama's ``l2_supercat`` model (256 dimensions, 32,000 tokens of the Llama 2 tokenizer) is a
context-free codebook: a text's embedding is the mean of its tokens' vectors. The probe reads the
weights and the tokenizer from the installed package's own files, so nothing is downloaded, and
embeds the same window the ``lexical`` estimator reads (``features.read_window``).

It compares, by grouped cross-validation *within the training splits* (the test splits are not
used to choose), rankers fitted to the gain label of ``lexical_training``:

- on multiple-choice questions (MMLU's training subjects): the shipped recipe (structural features
  and words) against the same plus the embedding;
- on open prompts (arena and AlpacaEval training splits): the structural features alone, and with
  the embedding, against the MMLU-trained ranker of lexical 1.1 that scores them today.

Then, for the record, each variant is fitted on the whole training split and scored once on the
test split. APGR and S95 as in ``bench/quality.py``. Needs numpy, tokenizers and safetensors (both
wordllama dependencies); without wordllama it says so and exits 0.
"""

from __future__ import annotations

import argparse
import importlib
import json
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np

from bench.lexical_training import FeatureCache, TrainingConfig, grouped_folds, select_vocabulary, trainable
from bench.logistic_fit import FloatArray, fit_logistic
from bench.routing_data import DataMissingError, RoutingExample, default_data_dir, load_dataset, split_dataset
from bench.routing_metrics import mean, metrics, routing_curve
from rolemodel_router.estimators.features import STRUCTURAL_NAMES, read_window
from rolemodel_router.estimators.lexical import LexicalEstimator

MULTIPLE_CHOICE = STRUCTURAL_NAMES.index("multiple_choice")
EMBEDDING_L2 = 1.0
OPEN_L2 = 0.1
Embed = Callable[[Sequence[str]], FloatArray]


def wordllama_embedder() -> Embed:
    """Mean-pooled l2_supercat token vectors, from the files inside the installed wordllama package."""
    # Optional packages, not dependencies of the project: imported by name so that type checking
    # does not need them installed.
    root = Path(importlib.import_module("wordllama").__file__ or "").parent
    tokenizers, safetensors = importlib.import_module("tokenizers"), importlib.import_module("safetensors")
    tokenizer = tokenizers.Tokenizer.from_file(str(root / "tokenizers" / "l2_supercat_tokenizer_config.json"))
    with safetensors.safe_open(str(root / "weights" / "l2_supercat_256.safetensors"), framework="np") as weights:
        table = weights.get_tensor("embedding.weight").astype(np.float64)

    def embed(texts: Sequence[str]) -> FloatArray:
        encodings = tokenizer.encode_batch([read_window(text) for text in texts], add_special_tokens=False)
        rows = [
            table[encoding.ids].mean(axis=0) if encoding.ids else np.zeros(table.shape[1]) for encoding in encodings
        ]
        return np.stack(rows)

    return embed


def design(
    examples: Sequence[RoutingExample], features: FeatureCache, embedding: FloatArray | None, words: Sequence[str]
) -> tuple[FloatArray, FloatArray]:
    """(dense block to standardise: structural features and the embedding, sparse word block)."""
    rows = [features(e.prompt) for e in examples]
    dense = np.array([row.structural for row in rows])
    if embedding is not None:
        dense = np.hstack([dense, embedding])
    index = {word: i for i, word in enumerate(words)}
    sparse = np.zeros((len(rows), len(words)))
    for r, row in enumerate(rows):
        columns = [index[word] for word in row.words if word in index]
        if columns:
            sparse[r, columns] = 1.0 / np.sqrt(len(row.words))
    return dense, sparse


def fit_and_score(
    train: Sequence[RoutingExample],
    test: Sequence[RoutingExample],
    features: FeatureCache,
    embeddings: tuple[FloatArray, FloatArray] | None,
    use_words: bool,
    structural_l2: float,
) -> FloatArray:
    """Fit a gain ranker on ``train`` and return its scores of ``test``."""
    config = TrainingConfig()
    words = select_vocabulary([features(e.prompt) for e in train], config.min_document_frequency) if use_words else ()
    dense, sparse = design(train, features, None if embeddings is None else embeddings[0], words)
    centre, scale = dense.mean(axis=0), dense.std(axis=0)
    scale[scale == 0] = 1.0
    penalty = np.concatenate(
        [
            np.full(len(STRUCTURAL_NAMES), structural_l2),
            np.full(dense.shape[1] - len(STRUCTURAL_NAMES), EMBEDDING_L2),
            np.full(len(words), config.word_l2),
        ]
    )
    y = np.array([e.gain for e in train])
    fit = fit_logistic(np.hstack([(dense - centre) / scale, sparse]), y, np.ones(len(train)), penalty)
    dense_test, sparse_test = design(test, features, None if embeddings is None else embeddings[1], words)
    scores: FloatArray = np.hstack([(dense_test - centre) / scale, sparse_test]) @ fit.coef + fit.bias
    return scores


def quality(examples: Sequence[RoutingExample], scores: Sequence[float]) -> dict[str, float]:
    strong, cheap = [e.strong_score for e in examples], [e.cheap_score for e in examples]
    found = metrics(routing_curve(list(map(float, scores)), strong, cheap), mean(strong), mean(cheap))
    return {"apgr": round(found.apgr, 3), "s95": round(found.s95, 3)}


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data-dir", type=Path, default=default_data_dir(), help="the shared routing data folder")
    parser.add_argument("--json", type=Path, metavar="FILE", help="write the metrics as JSON")
    args = parser.parse_args(argv)
    try:
        embed = wordllama_embedder()
    except ModuleNotFoundError as error:
        print(f"skipped: wordllama is not installed ({error}); pip install wordllama==0.4.0.post1", file=sys.stderr)
        return 0
    try:
        splits = {name: split_dataset(load_dataset(name, args.data_dir)) for name in ("mmlu", "arena", "alpaca")}
    except DataMissingError as error:
        print(f"skipped: {error}", file=sys.stderr)
        return 0
    features = FeatureCache()
    shipped = LexicalEstimator()
    choice_train = trainable({"mmlu": splits["mmlu"].train})
    choice_test = list(splits["mmlu"].test)
    open_train = [
        e for n in ("arena", "alpaca") for e in splits[n].train if features(e.prompt).structural[MULTIPLE_CHOICE] == 0
    ]
    open_test = [e for n in ("arena", "alpaca") for e in splits[n].test]
    owner = {id(e): n for n in ("mmlu", "arena", "alpaca") for part in (splits[n].train, splits[n].test) for e in part}
    # (name, train rows, test rows, use the embedding, use words, structural penalty); None = the shipped ranker
    variants: list[tuple[str, list[RoutingExample], list[RoutingExample], bool | None, bool, float]] = [
        ("choice: lexical recipe (structural + words)", choice_train, choice_test, False, True, 1e-3),
        ("choice: + wordllama embedding", choice_train, choice_test, True, True, 1e-3),
        ("open: lexical 1.1 (MMLU ranker)", open_train, open_test, None, False, 0.0),
        ("open: structural ranker", open_train, open_test, False, False, OPEN_L2),
        ("open: structural + wordllama embedding", open_train, open_test, True, False, OPEN_L2),
    ]
    report: dict[str, dict[str, dict[str, float]]] = {}
    for name, train, test, with_embedding, use_words, l2 in variants:
        print(f"{name} ...", file=sys.stderr, flush=True)
        cv_scores, test_scores = np.zeros(len(train)), np.zeros(len(test))
        if with_embedding is None:
            cv_scores[:] = [shipped.score(e.prompt) for e in train]
            test_scores[:] = [shipped.score(e.prompt) for e in test]
        else:
            train_embedding = embed([e.prompt for e in train]) if with_embedding else None
            for held_out in grouped_folds(train, 5, 0):
                inside = np.array([e.group in held_out for e in train])
                pair = None if train_embedding is None else (train_embedding[~inside], train_embedding[inside])
                fold_train = [e for e, held in zip(train, inside, strict=True) if not held]
                fold_test = [e for e, held in zip(train, inside, strict=True) if held]
                cv_scores[inside] = fit_and_score(fold_train, fold_test, features, pair, use_words, l2)
            pair = None if train_embedding is None else (train_embedding, embed([e.prompt for e in test]))
            test_scores = fit_and_score(train, test, features, pair, use_words, l2)
        report[name] = {}
        for part, rows, scores in (("cv", train, cv_scores), ("test", test, test_scores)):
            for dataset in sorted({owner[id(e)] for e in rows}):
                mask = np.array([owner[id(e)] == dataset for e in rows])
                chosen = [e for e, keep in zip(rows, mask, strict=True) if keep]
                report[name][f"{part} {dataset}"] = quality(chosen, scores[mask])
    print(f"{'variant':46} {'rows':14} {'APGR':>6} {'S95':>7}")
    for name, parts in report.items():
        for part, found in parts.items():
            print(f"{name:46} {part:14} {found['apgr']:6.3f} {found['s95']:7.1%}")
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
