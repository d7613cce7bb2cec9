"""Routing quality of a difficulty estimator on public data, with RouteLLM's metrics.

    python -m bench.quality --json bench/results/quality.json --plots docs/img
    python -m bench.quality --estimator heuristic

For each data set (MMLU, arena-bench-v1, AlpacaEval; formats and licences in the shared data
README) it scores the *test split* with the estimator, sweeps every threshold, and reports CPT(50%),
CPT(80%), APGR and S95 beside a random router and the oracle. The splits are fixed (see
``bench/routing_data.py``) and the built-in weights were trained on the other halves only. Plots:
``quality-<data set>.png`` (PGR against strong share) and ``reliability.png`` (calibration).

When the shared data folder is absent the benchmark says so and exits 0 without results.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path

from bench.quality_report import DatasetQuality, as_json, evaluate, table
from bench.routing_data import (
    DATASET_NAMES,
    DataMissingError,
    default_data_dir,
    load_dataset,
    query_for_prompt,
    split_dataset,
)
from rolemodel_router.estimators.registry import DEFAULT_ESTIMATOR, load_estimator

REPOSITORY = Path(__file__).resolve().parent.parent
DEFAULT_PLOTS = REPOSITORY / "bench" / "results"


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data-dir", type=Path, default=default_data_dir(), help="the shared routing data folder")
    parser.add_argument("--estimator", default=DEFAULT_ESTIMATOR, help="a name the estimator registry knows")
    parser.add_argument("--datasets", nargs="+", choices=DATASET_NAMES, default=list(DATASET_NAMES))
    parser.add_argument("--json", type=Path, metavar="FILE", help="write the metrics as JSON")
    parser.add_argument("--plots", type=Path, default=DEFAULT_PLOTS, metavar="DIR", help="where the PNGs go")
    parser.add_argument("--no-plots", action="store_true", help="skip the plots (no matplotlib needed)")
    args = parser.parse_args(argv)

    estimator = load_estimator(args.estimator)
    label = f"{estimator.name} {estimator.version}"
    results: list[DatasetQuality] = []
    report: dict[str, object] = {}
    for name in args.datasets:
        try:
            dataset = load_dataset(name, args.data_dir)
        except DataMissingError as error:
            print(f"skipped {name}: {error}", file=sys.stderr)
            continue
        split = split_dataset(dataset)
        scores = [estimator.estimate(query_for_prompt(e.prompt)) for e in split.test]
        quality = evaluate(name, split.test, scores)
        results.append(quality)
        print(
            f"{name}: strong {dataset.strong} vs cheap {dataset.cheap} ({dataset.score_meaning}); "
            f"train {len(split.train)}, test {len(split.test)}, {dataset.dropped} dropped "
            f"({dataset.dropped_reason}); split {split.rule}"
        )
        report[name] = as_json(quality) | {
            "n_train": len(split.train),
            "split": split.rule,
            "strong": dataset.strong,
            "cheap": dataset.cheap,
            "dropped": dataset.dropped,
            "estimator_name": estimator.name,
            "estimator_version": estimator.version,
        }
    if not results:
        print("no data set found; nothing measured", file=sys.stderr)
        return 0
    print()
    print(table(results, label))
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    if not args.no_plots:
        from bench.quality_plots import plot_curves, plot_reliability  # noqa: PLC0415 - matplotlib is optional

        for quality in results:
            plot_curves(quality, label, args.plots / f"quality-{quality.dataset}.png")
        plot_reliability(results, label, args.plots / "reliability.png")
        print(f"\nplots in {args.plots}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
