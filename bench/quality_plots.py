"""PNG plots of the quality benchmark: PGR against strong share per data set, and reliability.

matplotlib is imported here only, with the Agg backend, so the benchmark's numbers do not need it
and no display is ever opened.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from bench.quality_report import DatasetQuality
from bench.routing_metrics import pgr_curve


def _pyplot() -> Any:  # matplotlib.pyplot, a module
    import matplotlib  # noqa: PLC0415 - optional, and the backend must be chosen before pyplot loads

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt  # noqa: PLC0415

    return plt


def plot_curves(quality: DatasetQuality, estimator_label: str, path: Path) -> None:
    """PGR against the share of strong calls, for the estimator, random and the oracle."""
    plt = _pyplot()
    figure, axes = plt.subplots(figsize=(6.4, 4.4), dpi=110)
    for curve, label, style in (
        (quality.estimator_curve, estimator_label, "-"),
        (quality.random_curve, "random", "--"),
        (quality.oracle_curve, "oracle", ":"),
    ):
        pgr = pgr_curve(curve, quality.strong_mean, quality.cheap_mean)
        axes.plot([100 * s for s in pgr.share], pgr.score, style, label=label)
    s95_pgr = (0.95 * quality.strong_mean - quality.cheap_mean) / (quality.strong_mean - quality.cheap_mean)
    axes.axhline(s95_pgr, color="grey", linewidth=0.8)
    axes.annotate("95% of strong", (1, s95_pgr), textcoords="offset points", xytext=(0, 3), fontsize=8)
    axes.set_xlim(0, 100)
    axes.set_ylim(-0.1, 1.6)
    axes.set_xlabel("strong-model calls (%)")
    axes.set_ylabel("performance gap recovered (PGR)")
    axes.set_title(f"{quality.dataset}: test split, n = {quality.n_test}")
    axes.legend(loc="lower right")
    axes.grid(alpha=0.3)
    figure.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path)
    plt.close(figure)


def plot_reliability(results: Sequence[DatasetQuality], estimator_label: str, path: Path) -> None:
    """Mean predicted probability against the observed rate of a worse cheap answer, per bin."""
    plt = _pyplot()
    figure, axes = plt.subplots(figsize=(5.2, 5.0), dpi=110)
    axes.plot([0, 1], [0, 1], color="grey", linewidth=0.8, label="perfectly calibrated")
    for quality in results:
        predicted = [p for p, _, _ in quality.reliability]
        observed = [y for _, y, _ in quality.reliability]
        sizes = [max(8.0, 200.0 * n / quality.n_test) for _, _, n in quality.reliability]
        axes.plot(predicted, observed, "-", alpha=0.6)
        axes.scatter(predicted, observed, s=sizes, label=f"{quality.dataset} (ECE {quality.ece:.3f})")
    axes.set_xlim(0, 1)
    axes.set_ylim(0, 1)
    axes.set_xlabel(f"{estimator_label}: predicted P(cheap answer worse)")
    axes.set_ylabel("observed rate")
    axes.set_title("reliability on the test splits (marker area ~ bin size)")
    axes.legend(loc="upper left", fontsize=8)
    axes.grid(alpha=0.3)
    figure.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path)
    plt.close(figure)
