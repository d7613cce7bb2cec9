"""One data set's routing quality for a list of scores: estimator, random and oracle, as numbers and a table.

Shared by the quality benchmark (a shipped estimator on the test split) and the training script's
cross-validation (the recipe, on out-of-fold scores), so that both report the same quantities the
same way. Shares are fractions of 1 in the JSON and percentages in the table.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from bench.routing_data import RoutingExample
from bench.routing_metrics import (
    Curve,
    RoutingMetrics,
    expected_calibration_error,
    mean,
    metrics,
    oracle_curve,
    random_curve,
    routing_curve,
)


@dataclass(frozen=True)
class DatasetQuality:
    dataset: str
    n_test: int
    strong_mean: float
    cheap_mean: float
    estimator: RoutingMetrics
    random: RoutingMetrics
    oracle: RoutingMetrics
    estimator_curve: Curve
    random_curve: Curve
    oracle_curve: Curve
    ece: float
    reliability: list[tuple[float, float, int]]


def evaluate(dataset: str, examples: Sequence[RoutingExample], scores: Sequence[float]) -> DatasetQuality:
    """Curves and metrics of ``scores`` (probabilities) over ``examples``, with both baselines."""
    strong = [e.strong_score for e in examples]
    cheap = [e.cheap_score for e in examples]
    strong_mean, cheap_mean = mean(strong), mean(cheap)
    estimator = routing_curve(scores, strong, cheap)
    rand = random_curve(strong, cheap)
    oracle = oracle_curve(strong, cheap)
    ece, reliability = expected_calibration_error(scores, [e.cheap_worse for e in examples])
    return DatasetQuality(
        dataset=dataset,
        n_test=len(examples),
        strong_mean=strong_mean,
        cheap_mean=cheap_mean,
        estimator=metrics(estimator, strong_mean, cheap_mean),
        random=metrics(rand, strong_mean, cheap_mean),
        oracle=metrics(oracle, strong_mean, cheap_mean),
        estimator_curve=estimator,
        random_curve=rand,
        oracle_curve=oracle,
        ece=ece,
        reliability=reliability,
    )


def as_json(quality: DatasetQuality) -> dict[str, object]:
    return {
        "estimator": quality.estimator.as_dict(),
        "random": quality.random.as_dict(),
        "oracle": quality.oracle.as_dict(),
        "n_test": quality.n_test,
        "strong_score": quality.strong_mean,
        "cheap_score": quality.cheap_mean,
        "ece": quality.ece,
    }


def table(results: Sequence[DatasetQuality], estimator_label: str) -> str:
    """A fixed-width table: one row per data set and router; shares in percent."""
    header = f"{'data set':<8} {'router':<14} {'n':>5} {'CPT50':>7} {'CPT80':>7} {'APGR':>6} {'S95':>7}"
    lines = [header, "-" * len(header)]
    for quality in results:
        for label, m in ((estimator_label, quality.estimator), ("random", quality.random), ("oracle", quality.oracle)):
            lines.append(
                f"{quality.dataset:<8} {label[:14]:<14} {quality.n_test:>5} {m.cpt50:>7.1%} {m.cpt80:>7.1%} "
                f"{m.apgr:>6.3f} {m.s95:>7.1%}"
            )
        lines.append(
            f"{'':<8} {'(ECE)':<14} {'':>5} {'':>7} {'':>7} {quality.ece:>6.3f} "
            f"  strong {quality.strong_mean:.3f}, cheap {quality.cheap_mean:.3f}"
        )
    return "\n".join(lines)
