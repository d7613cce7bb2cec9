"""Public routing data sets, read from the shared data folder, and their honest splits.

Each data set becomes a list of :class:`RoutingExample`: one prompt, the score a strong and a cheap
model got on it, and the label an estimator learns, the probability that the cheap model's answer
is worse than the strong model's. The files are never copied into the project; the folder is
``shared/data/routing`` beside the repository's main checkout unless ``--data-dir`` says otherwise, and a
missing folder is reported as :class:`DataMissingError` so callers can skip with a clear message.

Splits are fixed by a seed and made before any model sees the data. MMLU is split by subject, so
that no subject is in both halves: the test then asks whether the estimator generalises to a kind
of question it has never seen, which is what a router meets in production.
"""

from __future__ import annotations

import csv
import json
import random
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from bench.shared_data import shared_data_dir
from rolemodel_router.engine.difficulty import DifficultyQuery

#: The seed of every split; changing it changes every published number.
SPLIT_SEED = 0
#: MMLU's test split takes whole subjects until it holds at least this share of the rows.
MMLU_TEST_SHARE = 0.3
#: Arena and alpaca have one prompt per group, so a plain seeded split of prompts.
PROMPT_TEST_SHARE = 0.5

MMLU_STRONG = "gpt-4-1106-preview"
MMLU_CHEAP = "mistralai/Mixtral-8x7B-Instruct-v0.1"
ARENA_STRONG = "gpt-4-turbo"  # its judgments name the model gpt-4-1106-preview
ARENA_CHEAP = "Mixtral-8x7B-Instruct-v0.1"
ALPACA_STRONG = "GPT-4-Turbo"  # the reference every annotation compares against
ALPACA_CHEAP = "Mixtral-8x7B-Instruct-v0.1_concise"

DATASET_NAMES = ("mmlu", "arena", "alpaca")


class DataMissingError(FileNotFoundError):
    """The shared data folder (or one data set in it) is not on this machine."""


@dataclass(frozen=True)
class RoutingExample:
    prompt: str
    group: str  # the unit of splitting: the MMLU subject, else the prompt's id
    strong_score: float
    cheap_score: float
    cheap_worse: float  # in [0, 1]; what the estimator's output means
    gain: float  # in [0, 1]: 0.5 plus half the strong model's advantage, scaled to the score's range


@dataclass(frozen=True)
class RoutingDataset:
    name: str
    strong: str
    cheap: str
    score_meaning: str
    examples: tuple[RoutingExample, ...]
    dropped: int  # rows left out (contaminated, or without a judgment for both models)
    dropped_reason: str


@dataclass(frozen=True)
class Split:
    train: tuple[RoutingExample, ...]
    test: tuple[RoutingExample, ...]
    rule: str


def default_data_dir() -> Path:
    """``shared/data/routing`` beside the repository's main checkout (see :mod:`bench.shared_data`)."""
    return shared_data_dir() / "routing"


def query_for_prompt(prompt: str) -> DifficultyQuery:
    """The query a router would build for a single-turn chat request carrying ``prompt``.

    The data sets have no roles, tasks or conversations, so the estimator sees them as the first
    turn of a ``chat`` role; about four characters make a token, as in the SDK's estimate.
    """
    tokens = max(1, len(prompt) // 4)
    return DifficultyQuery(
        role="chat",
        task="",
        text=prompt,
        new_tokens=tokens,
        prompt_tokens=tokens,
        message_count=1,
        tool_call_pending=False,
    )


def _require(path: Path) -> Path:
    if not path.exists():
        raise DataMissingError(f"routing data not found at {path}; pass --data-dir to point at the shared routing data")
    return path


def load_mmlu(data_dir: Path) -> RoutingDataset:
    """MMLU questions with correctness of GPT-4-1106 and Mixtral, minus RouteLLM's contaminated prompts."""
    folder = _require(data_dir / "mmlu")
    contaminated_file = _require(folder / "contaminated_prompts.jsonl")
    with contaminated_file.open(encoding="utf-8") as handle:
        contaminated = {json.loads(line)["eval_prompt"] for line in handle if line.strip()}
    examples: list[RoutingExample] = []
    dropped = 0
    for path in sorted(folder.glob("mmlu_*.csv")):
        subject = path.stem.removeprefix("mmlu_")
        with path.open(encoding="utf-8", newline="") as handle:
            for row in csv.DictReader(handle):
                if row["prompt"] in contaminated:
                    dropped += 1
                    continue
                strong = 1.0 if row[MMLU_STRONG] == "True" else 0.0
                cheap = 1.0 if row[MMLU_CHEAP] == "True" else 0.0
                gain = 0.5 + 0.5 * (strong - cheap)
                examples.append(RoutingExample(row["prompt"], subject, strong, cheap, strong * (1.0 - cheap), gain))
    if not examples:
        raise DataMissingError(f"no MMLU rows under {folder}")
    return RoutingDataset(
        "mmlu", MMLU_STRONG, MMLU_CHEAP, "accuracy", tuple(examples), dropped, "contaminated (RouteLLM's list)"
    )


def _judge_scores(path: Path) -> dict[str, float]:
    scores: dict[str, float] = {}
    with path.open(encoding="utf-8") as handle:
        for line in handle:
            if not line.strip():
                continue
            record = json.loads(line)
            score = record.get("score")
            if score is None or score == "":
                continue
            scores[record["question_id"]] = float(score)
    return scores


def load_arena(data_dir: Path, cheap: str = ARENA_CHEAP) -> RoutingDataset:
    """Arena-bench-v1: GPT-4 judge scores (1-10) of the strong and the cheap model's answers.

    A prompt where either judgment is missing is dropped. The cheap answer counts as worse when
    its score is strictly lower; ties are not worse.
    """
    folder = _require(data_dir / "arena-bench-v1")
    strong_scores = _judge_scores(_require(folder / "model_judgment" / f"{ARENA_STRONG}.jsonl"))
    cheap_scores = _judge_scores(_require(folder / "model_judgment" / f"{cheap}.jsonl"))
    examples: list[RoutingExample] = []
    dropped = 0
    with _require(folder / "question.jsonl").open(encoding="utf-8") as handle:
        for line in handle:
            if not line.strip():
                continue
            question = json.loads(line)
            qid = question["question_id"]
            if qid not in strong_scores or qid not in cheap_scores:
                dropped += 1
                continue
            strong, weak = strong_scores[qid], cheap_scores[qid]
            gain = 0.5 + 0.5 * (strong - weak) / 9.0
            worse = 1.0 if weak < strong else 0.0
            examples.append(RoutingExample(question["turns"][0], qid, strong, weak, worse, gain))
    return RoutingDataset(
        "arena", ARENA_STRONG, cheap, "GPT-4 judge score, 1-10", tuple(examples), dropped, "judgment missing"
    )


def load_alpaca(data_dir: Path, cheap: str = ALPACA_CHEAP) -> RoutingDataset:
    """AlpacaEval: GPT-4-Turbo's preference between the cheap model's answer and its own.

    The score is a win rate against GPT-4-Turbo: the cheap model scores ``preference - 1`` on a
    prompt, GPT-4-Turbo scores 0.5 (a tie with itself). The label is ``2 - preference``, the
    weighted probability that GPT-4-Turbo's answer is preferred.
    """
    path = _require(data_dir / "alpaca_eval" / cheap / "annotations.json")
    with path.open(encoding="utf-8") as handle:
        annotations = json.load(handle)
    examples: list[RoutingExample] = []
    dropped = 0
    for index, record in enumerate(annotations):
        preference = record.get("preference")
        if preference is None:
            dropped += 1
            continue
        win = min(1.0, max(0.0, float(preference) - 1.0))
        # 1 - win is both the label and the gain: the probability GPT-4-Turbo's answer is preferred
        examples.append(RoutingExample(record["instruction"], f"alpaca-{index}", 0.5, win, 1.0 - win, 1.0 - win))
    return RoutingDataset(
        "alpaca", ALPACA_STRONG, cheap, "win rate against GPT-4-Turbo", tuple(examples), dropped, "no preference"
    )


def load_dataset(name: str, data_dir: Path) -> RoutingDataset:
    loaders = {"mmlu": load_mmlu, "arena": load_arena, "alpaca": load_alpaca}
    if name not in loaders:
        raise ValueError(f"unknown data set {name!r}; known: {', '.join(DATASET_NAMES)}")
    return loaders[name](data_dir)


def split_by_group(
    examples: Sequence[RoutingExample], test_share: float, seed: int = SPLIT_SEED
) -> tuple[tuple[RoutingExample, ...], tuple[RoutingExample, ...]]:
    """Whole groups go to the test split, in a seeded order, until it holds ``test_share`` of the rows."""
    groups = sorted({example.group for example in examples})
    random.Random(seed).shuffle(groups)
    target = test_share * len(examples)
    sizes: dict[str, int] = {}
    for example in examples:
        sizes[example.group] = sizes.get(example.group, 0) + 1
    test_groups: set[str] = set()
    held = 0
    for group in groups:
        if held >= target:
            break
        test_groups.add(group)
        held += sizes[group]
    train = tuple(e for e in examples if e.group not in test_groups)
    test = tuple(e for e in examples if e.group in test_groups)
    return train, test


def split_dataset(dataset: RoutingDataset, seed: int = SPLIT_SEED) -> Split:
    """The fixed train/test split of a data set (by subject for MMLU, by prompt otherwise)."""
    share = MMLU_TEST_SHARE if dataset.name == "mmlu" else PROMPT_TEST_SHARE
    train, test = split_by_group(dataset.examples, share, seed)
    unit = "subject" if dataset.name == "mmlu" else "prompt"
    rule = f"by {unit}, seed {seed}, test takes whole {unit}s until it holds >= {share:.0%} of rows"
    return Split(train, test, rule)
