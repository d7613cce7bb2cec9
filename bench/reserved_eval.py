"""Evaluation only: the difficulty estimators on RouteLLM's reserved GSM8K and MT-Bench sets.

    python -m bench.reserved_eval --routellm PATH/TO/RouteLLM --json bench/results/reserved.json

These two sets are kept for independent evaluation: nothing in this project trains or tunes on
them, and this script only scores. It reads a local checkout of github.com/lm-sys/RouteLLM
(Apache-2.0; the numbers in ``docs/difficulty.md`` come from commit 0b64fda), nothing is
downloaded, and no row of it enters the repository:

- ``routellm/evals/gsm8k/gsm8k_responses.csv``: math word problems with the correctness of
  gpt-4-1106-preview (strong) and Mixtral-8x7B-Instruct (cheap), less the prompts of
  ``contaminated_prompts.jsonl``;
- ``routellm/evals/mt_bench/``: the 80 two-turn questions with GPT-4 judge scores (1-10) of both
  models per turn, less the contaminated questions; each turn is one routing point, read by its own
  text, as the router would see a user's new message.

Routers: the registry's estimators, heuristic 0.1 as it was, prompt length, and the expected random
router, with RouteLLM's metrics (CPT50, CPT80, APGR, S95).
"""

from __future__ import annotations

import argparse
import csv
import json
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

from bench.legacy_heuristic import legacy_estimate
from bench.quality_report import as_json, evaluate
from bench.routing_data import RoutingExample, query_for_prompt
from rolemodel_router.estimators.registry import available_estimators, load_estimator

STRONG = "gpt-4-1106-preview"
CHEAP = "mistralai/Mixtral-8x7B-Instruct-v0.1"
JUDGE_SCALE = 9.0  # scores run from 1 to 10


def _contaminated(path: Path) -> set[str]:
    with path.open(encoding="utf-8") as handle:
        return {json.loads(line)["eval_prompt"].strip() for line in handle if line.strip()}


def load_gsm8k(root: Path) -> list[RoutingExample]:
    folder = root / "routellm" / "evals" / "gsm8k"
    contaminated = _contaminated(folder / "contaminated_prompts.jsonl")
    csv.field_size_limit(1 << 26)
    examples: list[RoutingExample] = []
    with (folder / "gsm8k_responses.csv").open(encoding="utf-8", newline="") as handle:
        for row in csv.DictReader(handle):
            prompt = row["prompt"]
            if prompt.strip() in contaminated:
                continue
            strong, cheap = float(row[STRONG] == "True"), float(row[CHEAP] == "True")
            worse = strong * (1.0 - cheap)
            examples.append(RoutingExample(prompt, prompt[:64], strong, cheap, worse, 0.5 + 0.5 * (strong - cheap)))
    return examples


def load_mt_bench(root: Path) -> list[RoutingExample]:
    folder = root / "routellm" / "evals" / "mt_bench"
    contaminated = _contaminated(folder / "contaminated_prompts.jsonl")
    with (folder / "question.jsonl").open(encoding="utf-8") as handle:
        questions = {q["question_id"]: q for q in map(json.loads, filter(str.strip, handle))}
    scores: dict[tuple[int, int], dict[str, float]] = {}
    with (folder / "judgements.jsonl").open(encoding="utf-8") as handle:
        for judgement in map(json.loads, filter(str.strip, handle)):
            key = (judgement["question_id"], judgement["turn"])
            scores.setdefault(key, {})[judgement["model"]] = float(judgement["score"])
    examples: list[RoutingExample] = []
    for (question_id, turn), by_model in sorted(scores.items()):
        question = questions[question_id]
        if STRONG not in by_model or CHEAP not in by_model or question["turns"][0].strip() in contaminated:
            continue
        strong, cheap = by_model[STRONG], by_model[CHEAP]
        gain = 0.5 + 0.5 * (strong - cheap) / JUDGE_SCALE
        examples.append(
            RoutingExample(question["turns"][turn - 1], str(question_id), strong, cheap, float(cheap < strong), gain)
        )
    return examples


def routers() -> dict[str, Callable[[str], float]]:
    found: dict[str, Callable[[str], float]] = {}
    for name in available_estimators():
        estimator = load_estimator(name)
        found[f"{name} {estimator.version}"] = lambda text, e=estimator: e.estimate(query_for_prompt(text))  # type: ignore[misc]
    found["heuristic 0.1 (before)"] = lambda text: legacy_estimate("chat", text, max(1, len(text) // 4), False)
    found["prompt length"] = lambda text: float(len(text))
    return found


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--routellm", type=Path, required=True, help="a local checkout of lm-sys/RouteLLM")
    parser.add_argument("--json", type=Path, metavar="FILE", help="write the metrics as JSON")
    args = parser.parse_args(argv)
    if not (args.routellm / "routellm" / "evals").is_dir():
        print(f"no routellm/evals folder under {args.routellm}; pass a RouteLLM checkout", file=sys.stderr)
        return 2
    report: dict[str, dict[str, object]] = {}
    header = f"{'data set':<9} {'router':<24} {'n':>5} {'CPT50':>7} {'CPT80':>7} {'APGR':>6} {'S95':>7}"
    print(header)
    print("-" * len(header))
    for name, loader in (("gsm8k", load_gsm8k), ("mt-bench", load_mt_bench)):
        examples = loader(args.routellm)
        report[name] = {}
        for label, score in routers().items():
            quality = evaluate(name, examples, [score(e.prompt) for e in examples])
            report[name][label] = as_json(quality)
            rows = [(label, quality.estimator)]
            if label == "prompt length":
                rows.append(("random", quality.random))
            for shown, m in rows:
                shares = f"{m.cpt50:>7.1%} {m.cpt80:>7.1%} {m.apgr:>6.3f} {m.s95:>7.1%}"
                print(f"{name:<9} {shown:<24} {len(examples):>5} {shares}")
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
