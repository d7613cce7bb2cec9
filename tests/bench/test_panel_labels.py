"""Panel labels: read each source's layout, leave out the reference and the evaluated pair, and rank prompts."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest

from bench.panel_labels import (
    ALPACA_ANNOTATOR,
    ARENA_FOLDER,
    Panel,
    PanelMissingError,
    alpaca_panel,
    arena_panel,
    normalised,
    panel_labels,
    rank_share,
    rasch_difficulty,
    split_half_agreement,
)
from bench.panel_probe import main

PROMPTS = ("Say hi.", "Explain  a hash map.", "Prove Fermat's little theorem.")
#: Per model, its preference on each prompt (2 = the model's answer wins, 1 = GPT-4-Turbo's wins).
PREFERENCES = {
    "weak-model": (1.6, 1.2, 1.0),
    "middling-model": (1.9, 1.5, 1.1),
    "gpt4_1106_preview": (1.5, 1.5, 1.5),  # the reference against itself: left out
    "NullModel": (1.0, 1.0, 1.0),  # answers nothing: left out
}


def alpaca_checkout(root: Path) -> Path:
    for model, preferences in PREFERENCES.items():
        folder = root / "results" / model / ALPACA_ANNOTATOR
        folder.mkdir(parents=True)
        records = [{"instruction": p, "preference": v} for p, v in zip(PROMPTS, preferences, strict=True)]
        records.append({"instruction": "An instruction of the test split", "preference": 1.0})
        (folder / "annotations.json").write_text(json.dumps(records))
    return root


def arena_checkout(root: Path) -> Path:
    folder = root / ARENA_FOLDER
    (folder / "model_judgment").mkdir(parents=True)
    questions = [{"question_id": f"q{i}", "turns": [p]} for i, p in enumerate(PROMPTS)]
    (folder / "question.jsonl").write_text("".join(json.dumps(q) + "\n" for q in questions))
    scores = {"claude-1": ("10", "7", "2"), "vicuna-33b-v1.3": ("9", "", "1"), "gpt-4-turbo": ("10", "10", "10")}
    for model, values in scores.items():
        lines = [json.dumps({"question_id": f"q{i}", "score": s}) for i, s in enumerate(values)]
        (folder / "model_judgment" / f"{model}.jsonl").write_text("\n".join(lines) + "\n")
    return root


def test_alpaca_panel_keeps_training_prompts_and_leaves_out_the_reference(tmp_path: Path) -> None:
    keep = {normalised(p) for p in PROMPTS}
    panel = alpaca_panel(alpaca_checkout(tmp_path), keep)
    assert panel.models == ("middling-model", "weak-model")
    assert set(panel.prompts) == keep  # the test-split instruction is not in it
    row = panel.prompts.index(normalised("Prove Fermat's little theorem."))
    assert panel.loss[row].tolist() == [pytest.approx(0.9), pytest.approx(1.0)]
    labels = panel_labels(panel)
    order = sorted(PROMPTS, key=lambda p: labels["irt"][normalised(p)])
    assert order == list(PROMPTS)  # the proof is lost most often, the greeting least


def test_arena_panel_reads_scores_skips_blank_ones_and_leaves_out_the_pair(tmp_path: Path) -> None:
    panel = arena_panel(arena_checkout(tmp_path), {normalised(p) for p in PROMPTS})
    assert panel.models == ("claude-1", "vicuna-33b-v1.3")
    row = panel.prompts.index(normalised("Explain a hash map."))
    assert panel.loss[row, 0] == pytest.approx(3 / 9)
    assert math.isnan(panel.loss[row, 1])
    labels = panel_labels(panel)
    assert max(labels["share"], key=labels["share"].__getitem__) == normalised("Prove Fermat's little theorem.")


def test_a_checkout_without_the_files_is_refused(tmp_path: Path) -> None:
    with pytest.raises(PanelMissingError, match=r"annotations\.json"):
        alpaca_panel(tmp_path, set())
    with pytest.raises(PanelMissingError, match="4a705dd"):
        arena_panel(tmp_path, set())


def test_the_probe_refuses_a_path_that_is_not_a_checkout(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--alpaca-eval", str(tmp_path / "absent"), "--arena-hard-auto", str(tmp_path)]) == 2
    error = capsys.readouterr().err.strip()
    assert error.startswith("error:") and "\n" not in error


def test_rasch_difficulty_recovers_the_order_of_prompts_with_missing_judgments() -> None:
    difficulty = np.array([-1.5, -0.2, 0.4, 2.0])
    ability = np.array([-1.0, 0.0, 0.5, 1.5])
    expected = 1.0 / (1.0 + np.exp(-(difficulty[:, None] - ability[None, :])))
    expected[1, 2] = np.nan
    expected[3, 0] = np.nan
    fitted = rasch_difficulty(expected, l2=1e-6, iterations=500)
    assert np.argsort(fitted).tolist() == [0, 1, 2, 3]
    assert fitted - fitted.mean() == pytest.approx(difficulty - difficulty.mean(), abs=0.05)


def test_rank_share_gives_ties_one_rank() -> None:
    assert rank_share([3.0, 1.0, 3.0, 2.0]).tolist() == pytest.approx([0.75, 0.125, 0.75, 0.375])


def test_split_half_agreement_is_high_when_every_model_agrees() -> None:
    loss = np.tile(np.linspace(0.1, 0.9, 6)[:, None], (1, 4))
    panel = Panel("test", tuple(f"p{i}" for i in range(6)), ("a", "b", "c", "d"), loss)
    assert split_half_agreement(panel) == pytest.approx(1.0)
