"""Per-prompt labels from a panel of many models, read from local checkouts of their public sources.

The shared data holds one model pair per open data set, judged once, so a prompt's label (did the
cheap answer lose?) is mostly the noise of one judgment. The same sources publish the judgments of
many more models on the same prompts:

- ``tatsu-lab/alpaca_eval`` (Apache-2.0): ``results/<model>/weighted_alpaca_eval_gpt4_turbo/
  annotations.json``, GPT-4-Turbo's preference between each model's answer and GPT-4-Turbo's own on
  the 805 instructions;
- ``lmarena/arena-hard-auto`` (Apache-2.0) at the commit that still holds ``data/arena-bench-v1``:
  ``model_judgment/<model>.jsonl``, a GPT-4 judge's 1-10 score of each model's answer to the 300
  prompts, with GPT-4's answer as the reference.

A panel is a matrix of losses in [0, 1], one row per prompt and one column per model: for AlpacaEval
the weighted probability that the reference answer is preferred (``2 - preference``), for arena
``(10 - score) / 9``. Two labels are derived from it, each turned into its rank within its data set
(so that the two data sets' levels, which say more about their judges than about their prompts, do
not become a feature of the prompt):

- ``share``: the mean loss over the panel's models;
- ``irt``: the difficulty ``b`` of a one-parameter item-response model, ``P(loss) = sigmoid(b_prompt -
  ability_model)``, fitted by Newton steps with a small L2 penalty, which weighs each model by how
  its losses compare with the others' and copes with missing judgments.

Models left out of every panel: the reference itself, the evaluated pair (whose one judgment is
the noisy label), a model that answers nothing (``NullModel``) and one built to game the judge.
Nothing is downloaded; the caller passes the checkouts.
"""

from __future__ import annotations

import json
import re
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from bench.logistic_fit import FloatArray, sigmoid

ALPACA_ANNOTATOR = "weighted_alpaca_eval_gpt4_turbo"
ALPACA_LEFT_OUT = frozenset({"gpt4_1106_preview", "NullModel", "gpt4_gamed", "Mixtral-8x7B-Instruct-v0.1_concise"})
ARENA_FOLDER = Path("data") / "arena-bench-v1"
#: gpt-4-turbo is the strong model and Mixtral the cheap one of the evaluated pair; the "judge_any"
#: file holds judgments of other models by another judge.
ARENA_LEFT_OUT = frozenset({"gpt-4-turbo", "Mixtral-8x7B-Instruct-v0.1", "arena-bench-judgment_judge_any"})
IRT_L2 = 0.01


class PanelMissingError(FileNotFoundError):
    """A checkout passed on the command line lacks the files a panel is read from."""


@dataclass(frozen=True)
class Panel:
    source: str
    prompts: tuple[str, ...]  # normalised text
    models: tuple[str, ...]
    loss: FloatArray  # prompts x models, NaN where a model has no judgment


def normalised(text: str) -> str:
    """Lower case with runs of white space collapsed: the key that joins a prompt across files."""
    return re.sub(r"\s+", " ", text).strip().lower()


def _panel(source: str, columns: Mapping[str, Mapping[str, float]], keep: Collection[str]) -> Panel:
    models = tuple(sorted(columns))
    prompts = tuple(sorted(keep))
    index = {prompt: row for row, prompt in enumerate(prompts)}
    loss = np.full((len(prompts), len(models)), np.nan)
    for column, model in enumerate(models):
        for prompt, value in columns[model].items():
            row = index.get(prompt)
            if row is not None:
                loss[row, column] = value
    return Panel(source, prompts, models, loss)


def alpaca_panel(checkout: Path, keep: Collection[str]) -> Panel:
    """The AlpacaEval panel over the normalised instructions in ``keep``."""
    files = sorted((checkout / "results").glob(f"*/{ALPACA_ANNOTATOR}/annotations.json"))
    columns: dict[str, dict[str, float]] = {}
    for path in files:
        model = path.parent.parent.name
        if model in ALPACA_LEFT_OUT:
            continue
        losses: dict[str, float] = {}
        for record in json.loads(path.read_text(encoding="utf-8")):
            preference = record.get("preference")
            if preference is None or preference == "":
                continue
            losses[normalised(record["instruction"])] = min(1.0, max(0.0, 2.0 - float(preference)))
        columns[model] = losses
    if not columns:
        raise PanelMissingError(f"no results/*/{ALPACA_ANNOTATOR}/annotations.json under {checkout}")
    return _panel("alpaca_eval", columns, keep)


def arena_panel(checkout: Path, keep: Collection[str]) -> Panel:
    """The arena-bench-v1 panel over the normalised prompts in ``keep``."""
    folder = checkout / ARENA_FOLDER
    questions_file = folder / "question.jsonl"
    if not questions_file.is_file():
        raise PanelMissingError(f"{ARENA_FOLDER / 'question.jsonl'} not under {checkout} (check out commit 4a705dd)")
    prompt_of = {}
    for line in questions_file.read_text(encoding="utf-8").splitlines():
        if line.strip():
            question = json.loads(line)
            prompt_of[question["question_id"]] = normalised(question["turns"][0])
    columns: dict[str, dict[str, float]] = {}
    for path in sorted((folder / "model_judgment").glob("*.jsonl")):
        if path.stem in ARENA_LEFT_OUT:
            continue
        losses: dict[str, float] = {}
        for line in path.read_text(encoding="utf-8").splitlines():
            if not line.strip():
                continue
            record = json.loads(line)
            score = record.get("score")
            if score is None or score == "" or record["question_id"] not in prompt_of:
                continue
            losses[prompt_of[record["question_id"]]] = (10.0 - float(score)) / 9.0
        columns[path.stem] = losses
    return _panel("arena-bench-v1", columns, keep)


def rasch_difficulty(loss: FloatArray, l2: float = IRT_L2, iterations: int = 300) -> FloatArray:
    """Per-row difficulty ``b`` of ``P(loss) = sigmoid(b_row - ability_column)``, fractional losses allowed."""
    observed = ~np.isnan(loss)
    y = np.where(observed, loss, 0.0)
    b = np.zeros(loss.shape[0])
    ability = np.zeros(loss.shape[1])
    for _ in range(iterations):
        p = sigmoid(b[:, None] - ability[None, :])
        residual = np.where(observed, p - y, 0.0)
        curvature = np.where(observed, p * (1.0 - p), 0.0)
        b -= (residual.sum(axis=1) + l2 * b) / (curvature.sum(axis=1) + l2)
        p = sigmoid(b[:, None] - ability[None, :])
        residual = np.where(observed, p - y, 0.0)
        curvature = np.where(observed, p * (1.0 - p), 0.0)
        ability -= (-residual.sum(axis=0) + l2 * ability) / (curvature.sum(axis=0) + l2)
    return b


def rank_share(values: Iterable[float]) -> FloatArray:
    """Each value's mid-rank over ``n``, in (0, 1): ties share a rank."""
    array = np.asarray(list(values), dtype=np.float64)
    order = array.argsort(kind="stable")
    ranks = np.empty(len(array))
    sorted_values = array[order]
    start = 0
    while start < len(array):
        end = start
        while end + 1 < len(array) and sorted_values[end + 1] == sorted_values[start]:
            end += 1
        ranks[order[start : end + 1]] = (start + end) / 2.0
        start = end + 1
    shares: FloatArray = (ranks + 0.5) / len(array)
    return shares


def split_half_agreement(panel: Panel) -> float:
    """Rank correlation of the ``share`` label from the even-numbered models with that from the odd ones.

    High agreement means the label is a property of the prompt, not the noise of a few judgments.
    """

    def mean_loss(columns: FloatArray) -> list[float]:
        judged = ~np.isnan(columns)
        totals = np.where(judged, columns, 0.0).sum(axis=1)
        counts = judged.sum(axis=1)
        return [total / count if count else 0.5 for total, count in zip(totals.tolist(), counts.tolist(), strict=True)]

    even, odd = mean_loss(panel.loss[:, 0::2]), mean_loss(panel.loss[:, 1::2])
    return float(np.corrcoef(rank_share(even), rank_share(odd))[0, 1])


def panel_labels(panel: Panel) -> dict[str, dict[str, float]]:
    """``{"share": {prompt: label}, "irt": {prompt: label}}``, each a rank share within the panel."""
    judged: FloatArray = (~np.isnan(panel.loss)).sum(axis=1)
    usable = [count > 0 for count in judged.tolist()]
    prompts = [p for p, keep in zip(panel.prompts, usable, strict=True) if keep]
    loss = panel.loss[np.array(usable, dtype=bool)]
    judged = ~np.isnan(loss)
    share = np.where(judged, loss, 0.0).sum(axis=1) / judged.sum(axis=1)
    irt = rasch_difficulty(loss)
    return {
        "share": dict(zip(prompts, rank_share(share).tolist(), strict=True)),
        "irt": dict(zip(prompts, rank_share(irt).tolist(), strict=True)),
    }
