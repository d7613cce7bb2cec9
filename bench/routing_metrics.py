"""RouteLLM's routing-quality metrics, computed exactly over every threshold.

A router that sends a request to the strong model when its score reaches a threshold traces, as
the threshold falls, a curve of (share of strong calls, mean score of the routed mix). RouteLLM
samples that curve at ten quantiles; here every distinct score is a threshold, so the curve is
exact. Requests with equal scores cross a threshold together; between two such steps the curve is
a straight line, which is also the expected result of breaking the tie at random.

From the curve (definitions as in the shared data README):

- PGR(s) = (mix score - cheap score) / (strong score - cheap score) at strong share s;
- CPT(x) = the smallest share at which PGR reaches x;
- APGR = the area under PGR against share, 0.5 for a random router;
- S95 = the smallest share at which the mix reaches 95% of the strong model's own score.

Pure Python on purpose: the tests that check the estimator's quality must not need numpy.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class Curve:
    """A piecewise-linear curve through (share, score) points, shares ascending from 0 to 1."""

    share: tuple[float, ...]
    score: tuple[float, ...]


@dataclass(frozen=True)
class RoutingMetrics:
    cpt50: float
    cpt80: float
    apgr: float
    s95: float

    def as_dict(self) -> dict[str, float]:
        return {"cpt50": self.cpt50, "cpt80": self.cpt80, "apgr": self.apgr, "s95": self.s95}


def mean(values: Sequence[float]) -> float:
    if not values:
        raise ValueError("mean of no values")
    return sum(values) / len(values)


def routing_curve(router_scores: Sequence[float], strong: Sequence[float], cheap: Sequence[float]) -> Curve:
    """The curve of a router that sends the highest-scored requests to the strong model first."""
    n = len(router_scores)
    if n == 0 or len(strong) != n or len(cheap) != n:
        raise ValueError("router scores, strong and cheap scores must be non-empty and of one length")
    order = sorted(range(n), key=lambda i: router_scores[i], reverse=True)
    total = sum(cheap)
    shares = [0.0]
    scores = [total / n]
    i = 0
    while i < n:
        j = i
        level = router_scores[order[i]]
        while j < n and router_scores[order[j]] == level:
            total += strong[order[j]] - cheap[order[j]]
            j += 1
        shares.append(j / n)
        scores.append(total / n)
        i = j
    return Curve(tuple(shares), tuple(scores))


def random_curve(strong: Sequence[float], cheap: Sequence[float]) -> Curve:
    """The expected curve of a router that picks the strong model with probability s, blind to the request."""
    return Curve((0.0, 1.0), (mean(cheap), mean(strong)))


def oracle_curve(strong: Sequence[float], cheap: Sequence[float]) -> Curve:
    """The best any router can do: strong calls go first where they gain the most."""
    return routing_curve([s - c for s, c in zip(strong, cheap, strict=True)], strong, cheap)


def first_share_reaching(curve: Curve, target: float) -> float:
    """The smallest share at which the curve reaches ``target``, interpolating between points."""
    if curve.score[0] >= target:
        return curve.share[0]
    for k in range(1, len(curve.share)):
        low, high = curve.score[k - 1], curve.score[k]
        if high >= target:
            fraction = (target - low) / (high - low)
            return curve.share[k - 1] + fraction * (curve.share[k] - curve.share[k - 1])
    return 1.0


def pgr_curve(curve: Curve, strong_mean: float, cheap_mean: float) -> Curve:
    gap = strong_mean - cheap_mean
    if gap <= 0:
        raise ValueError(f"the strong model does not beat the cheap one here ({strong_mean:.4f} <= {cheap_mean:.4f})")
    return Curve(curve.share, tuple((score - cheap_mean) / gap for score in curve.score))


def area(curve: Curve) -> float:
    """Trapezoidal area under the curve over shares 0..1."""
    return sum(
        (curve.share[k] - curve.share[k - 1]) * (curve.score[k] + curve.score[k - 1]) / 2
        for k in range(1, len(curve.share))
    )


def value_at(curve: Curve, share: float) -> float:
    """The curve's value at ``share``, interpolating linearly."""
    for k in range(1, len(curve.share)):
        if curve.share[k] >= share:
            span = curve.share[k] - curve.share[k - 1]
            fraction = 0.0 if span == 0 else (share - curve.share[k - 1]) / span
            return curve.score[k - 1] + fraction * (curve.score[k] - curve.score[k - 1])
    return curve.score[-1]


def metrics(curve: Curve, strong_mean: float, cheap_mean: float) -> RoutingMetrics:
    """CPT(50%), CPT(80%), APGR and S95 of a routing curve, shares as fractions of 1."""
    pgr = pgr_curve(curve, strong_mean, cheap_mean)
    return RoutingMetrics(
        cpt50=first_share_reaching(pgr, 0.5),
        cpt80=first_share_reaching(pgr, 0.8),
        apgr=area(pgr),
        s95=first_share_reaching(curve, 0.95 * strong_mean),
    )


def expected_calibration_error(
    predicted: Sequence[float], observed: Sequence[float], bins: int = 10
) -> tuple[float, list[tuple[float, float, int]]]:
    """ECE over equal-width bins, and each non-empty bin's (mean predicted, mean observed, count).

    ``observed`` may be fractional (AlpacaEval's weighted preferences); a bin's observed value is
    then the mean of the fractions, which is what a calibrated probability should match.
    """
    if len(predicted) != len(observed) or not predicted:
        raise ValueError("predicted and observed must be non-empty and of one length")
    sums: list[list[float]] = [[0.0, 0.0, 0.0] for _ in range(bins)]
    for p, y in zip(predicted, observed, strict=True):
        b = min(bins - 1, max(0, int(p * bins)))
        sums[b][0] += p
        sums[b][1] += y
        sums[b][2] += 1
    table = [(s[0] / s[2], s[1] / s[2], int(s[2])) for s in sums if s[2] > 0]
    n = len(predicted)
    ece = sum(count / n * abs(p - y) for p, y, count in table)
    return ece, table
