"""The reserved-set evaluation reads a RouteLLM checkout's layout, drops contaminated prompts, and scores."""

from __future__ import annotations

import csv
import json
from pathlib import Path

from bench.reserved_eval import CHEAP, STRONG, load_gsm8k, load_mt_bench, main


def checkout(root: Path) -> Path:
    gsm8k = root / "routellm" / "evals" / "gsm8k"
    mt_bench = root / "routellm" / "evals" / "mt_bench"
    gsm8k.mkdir(parents=True)
    mt_bench.mkdir(parents=True)
    with (gsm8k / "gsm8k_responses.csv").open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["prompt", CHEAP, STRONG])
        writer.writerow(["Tom has 3 apples and buys 4 more. How many now?", "True", "True"])
        writer.writerow(["A train leaves at 3 pm at 60 km/h; a second at 4 pm at 80 km/h. When?", "False", "True"])
        writer.writerow(["A leaked question", "False", "True"])
    (gsm8k / "contaminated_prompts.jsonl").write_text(json.dumps({"eval_prompt": "A leaked question"}) + "\n")
    questions = [
        {"question_id": 1, "turns": ["Write a haiku about rain.", "Now make it rhyme."]},
        {"question_id": 2, "turns": ["A leaked task", "More"]},
    ]
    (mt_bench / "question.jsonl").write_text("".join(json.dumps(q) + "\n" for q in questions))
    (mt_bench / "contaminated_prompts.jsonl").write_text(json.dumps({"eval_prompt": "A leaked task"}) + "\n")
    judgements = [
        {"question_id": q, "turn": t, "model": m, "score": s}
        for q in (1, 2)
        for t, (strong, cheap) in ((1, (9, 6)), (2, (8, 8)))
        for m, s in ((STRONG, strong), (CHEAP, cheap))
    ]
    (mt_bench / "judgements.jsonl").write_text("".join(json.dumps(j) + "\n" for j in judgements))
    return root


def test_contaminated_prompts_are_dropped(tmp_path: Path) -> None:
    root = checkout(tmp_path)
    assert [e.cheap_worse for e in load_gsm8k(root)] == [0.0, 1.0]
    turns = load_mt_bench(root)
    assert [e.prompt for e in turns] == ["Write a haiku about rain.", "Now make it rhyme."]
    assert [e.cheap_worse for e in turns] == [1.0, 0.0]


def test_a_run_scores_every_router_on_both_sets(tmp_path: Path) -> None:
    out = tmp_path / "reserved.json"
    assert main(["--routellm", str(checkout(tmp_path / "RouteLLM")), "--json", str(out)]) == 0
    report = json.loads(out.read_text(encoding="utf-8"))
    assert set(report) == {"gsm8k", "mt-bench"}
    assert {"prompt length", "heuristic 0.1 (before)"} <= set(report["gsm8k"])
    assert set(report["gsm8k"]["prompt length"]["estimator"]) == {"cpt50", "cpt80", "apgr", "s95"}


def test_a_folder_that_is_not_a_checkout_is_refused(tmp_path: Path) -> None:
    assert main(["--routellm", str(tmp_path)]) == 2
