"""The premium-share controller of x-conformance.share: target 0.3 of main turns on fx-gpt5 (spec 9.7).

The check sends a stream of main turns with seeded, independent difficulties,
each in a new conversation, and follows the controller through what every
decision reports: the threshold it used must decide the tier, the window must
count main turns only, the realised share must be the share of the window's
turns that went premium, the threshold must be the window's quantile plus an
integral term that moves by a constant gain times the error, and over the
stream the share should settle near the target. A side request in the middle
must not be counted (RM-SIDE-002). The gain itself is not pinned to a number:
the check infers it and requires it to be one positive constant.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass, field

from rolemodel.v1 import decision_pb2, hints_pb2
from rolemodel_conformance.builders import Prompt
from rolemodel_conformance.checks import check
from rolemodel_conformance.checks.helpers import route
from rolemodel_conformance.context import CheckContext, NotObservable
from rolemodel_conformance.expectations import reasons

ROLE = "x-conformance.share"
SEED = 20_240_601
TURNS = 250
WARM_UP = 10
INTEGRAL_LIMIT = 0.5
TOLERANCE = 0.05
SIDE_AT = 30
#: Below this distance from the target, one turn's error is too small to estimate the controller's gain from.
SMALLEST_ERROR = 0.02
#: How far from the clamps (0 and 1 for the threshold, +-0.5 for the integral) a turn must be to count.
CLAMP_MARGIN = 1e-6
LEAST_GAIN_SAMPLES = 5


def _target(ctx: CheckContext) -> tuple[float, int, float]:
    target = next(t for t in ctx.fixture.catalog.policies.premium_share_targets if t.role == ROLE)
    top = ctx.fixture.roles[ROLE].ladder[-1]
    return target.target_share, target.window_requests or 200, top.min_difficulty


def _turn(ctx: CheckContext, difficulty: float, side: bool = False) -> decision_pb2.Decision:
    routing = hints_pb2.RoutingHints(role=ROLE, difficulty=difficulty)
    if side:
        routing.side_request.merge_back = False
    return route(ctx, ctx.ids.conversation("share"), Prompt.of([400]), routing)


@dataclass(frozen=True)
class Turn:
    difficulty: float
    threshold: float
    realized: float
    window: int
    tier: int
    premium: bool


@dataclass
class Controller:
    """The suite's view of the controller: the spec's parameters and the turns it saw."""

    target: float
    capacity: int
    floor: float
    initial: int = -1
    turns: list[Turn] = field(default_factory=list)

    def known(self, k: int) -> bool:
        """Whether the window before turn k holds only the suite's own turns."""
        return self.initial == 0 or k >= self.capacity

    def size(self, k: int) -> int:
        return min(self.capacity, self.initial + k)

    def window_before(self, k: int) -> list[Turn]:
        return self.turns[max(0, k - self.size(k)) : k]

    def realized(self, k: int) -> float:
        window = self.window_before(k)
        return sum(t.premium for t in window) / len(window) if window else 0.0

    def quantile(self, k: int) -> float:
        values = sorted(t.difficulty for t in self.window_before(k))
        rank = math.ceil((1.0 - self.target) * len(values))
        return values[min(len(values) - 1, max(0, rank - 1))]


def _consistency(c: Controller) -> list[str]:
    problems = []
    for k, t in enumerate(c.turns):
        checks = {
            "tier follows the reported threshold": t.tier == (1 if t.difficulty >= t.threshold else 0),
            "window counts main turns": t.window == c.size(k),
            "warm-up uses min_difficulty": t.window >= WARM_UP or math.isclose(t.threshold, c.floor),
            "realised share of the window": not c.known(k) or math.isclose(t.realized, c.realized(k), abs_tol=1e-9),
        }
        problems += [
            f"turn {k}: {what} (difficulty {t.difficulty:.4f}, threshold {t.threshold:.4f}, tier {t.tier}, window "
            f"{t.window} vs {c.size(k)}, realised {t.realized:.4f} vs {c.realized(k):.4f})"
            for what, ok in checks.items()
            if not ok
        ]
    return problems


def _gains(c: Controller, after: bool) -> list[float]:
    """The gain each pair of turns implies: (I_k+1 - I_k) / (realised - target), I = threshold - quantile."""
    integral: dict[int, float] = {}
    for k, t in enumerate(c.turns):
        if c.known(k) and t.window >= WARM_UP and CLAMP_MARGIN < t.threshold < 1 - CLAMP_MARGIN:
            value = t.threshold - c.quantile(k)
            if abs(value) < INTEGRAL_LIMIT - CLAMP_MARGIN:
                integral[k] = value
    gains = []
    for k in sorted(integral):
        if k + 1 in integral:
            error = (c.turns[k + 1].realized if after else c.turns[k].realized) - c.target
            if abs(error) > SMALLEST_ERROR:
                gains.append((integral[k + 1] - integral[k]) / error)
    return gains


def _integral_problem(c: Controller) -> str | None:
    """None when one positive gain explains every step, with 'realised' including the turn (spec 9.7)."""
    gains = _gains(c, after=True)
    if len(gains) < LEAST_GAIN_SAMPLES:
        return None
    middle = sorted(gains)[len(gains) // 2]
    if 0 < middle < 1 and all(abs(g - middle) <= CLAMP_MARGIN for g in gains):
        return None
    return (
        f"the threshold is not quantile + integral with one gain on the share realised with each turn: gains from "
        f"{min(gains):.4f} to {max(gains):.4f} over {len(gains)} turns"
    )


@check(
    "share",
    "The controller's threshold decides the top tier and is reported with its state",
    ("RM-SHARE-001", "RM-SHARE-002", "RM-SIDE-002"),
)
def controller(ctx: CheckContext) -> None:
    ctx.require_capability("ROUTER_CAPABILITY_SHARE_TARGET", "the premium-share controller")
    target, capacity, floor = _target(ctx)
    rng = random.Random(SEED)  # noqa: S311 - reproducible difficulties, not secrets
    state = Controller(target, capacity, floor)
    side_sent = False
    for turn in range(TURNS):
        if turn == SIDE_AT and ctx.claims("ROUTER_CAPABILITY_SIDE_REQUESTS") and ctx.wants("RM-SIDE-002"):
            _turn(ctx, 0.99, side=True)
            side_sent = True
        difficulty = rng.random()
        decision = _turn(ctx, difficulty)
        share = decision.policy.share_controller
        if not decision.policy.HasField("share_controller") or "SHARE_CONTROLLER" not in reasons(decision):
            raise NotObservable(f"turn {turn}: no share_controller in the policy or no SHARE_CONTROLLER reason")
        if state.initial < 0:
            state.initial = share.window_size
        if not math.isclose(share.target_share, target):
            ctx.failed("RM-SHARE-001", f"turn {turn}: target share {share.target_share}, the catalog says {target}")
        premium = ctx.fixture.tier_of(ROLE, decision.chosen_endpoint_id) == 1
        state.turns.append(Turn(difficulty, share.threshold, share.realized_share, share.window_size,
                                decision.policy.difficulty_tier, premium))  # fmt: skip
    problems = _consistency(state)
    integral = _integral_problem(state)
    ctx.expect(
        "RM-SHARE-001",
        not problems and integral is None,
        f"{TURNS} main turns: " + ("; ".join([*problems[:3], *([integral] if integral else [])]) or "consistent"),
    )
    if side_sent:
        counted = [p for p in problems if "window counts" in p or "realised" in p]
        ctx.expect(
            "RM-SIDE-002",
            not counted,
            f"an isolated side request at turn {SIDE_AT} is not counted by the controller: "
            + ("; ".join(counted[:2]) or "window and realised share unaffected"),
        )
    settled = [t.premium for t in state.turns[capacity:]]
    realised = sum(settled) / len(settled)
    ctx.expect(
        "RM-SHARE-002",
        abs(realised - target) <= TOLERANCE,
        f"over turns {capacity}..{TURNS} the premium share is {realised:.3f}, target {target} +- {TOLERANCE}",
    )
