"""The premium-share controller of x-conformance.share: target 0.3 of main turns on fx-gpt5 (spec 9.7).

The check sends a stream of main turns with seeded, independent difficulties,
each in a new conversation, and follows the controller through what every
decision reports: the threshold it used must decide the tier, the window must
count main turns only, the realised share must be the share of the window's
turns that went premium, and over the stream the share should settle near the
target. A side request in the middle must not be counted (RM-SIDE-002).
"""

from __future__ import annotations

import math
import random

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
TOLERANCE = 0.05
SIDE_AT = 30


def _target(ctx: CheckContext) -> tuple[float, int, float]:
    target = next(t for t in ctx.fixture.catalog.policies.premium_share_targets if t.role == ROLE)
    top = ctx.fixture.roles[ROLE].ladder[-1]
    return target.target_share, target.window_requests or 200, top.min_difficulty


def _turn(ctx: CheckContext, difficulty: float, side: bool = False) -> decision_pb2.Decision:
    routing = hints_pb2.RoutingHints(role=ROLE, difficulty=difficulty)
    if side:
        routing.side_request.merge_back = False
    return route(ctx, ctx.ids.conversation("share"), Prompt.of([400]), routing)


class Follower:
    """What the suite knows of the controller's window: its own main turns, once they fill it."""

    def __init__(self, window: int, initial: int) -> None:
        self.window = window
        self.initial = initial
        self.premium: list[bool] = []

    def known(self) -> bool:
        return self.initial == 0 or len(self.premium) >= self.window

    def size(self) -> int:
        return min(self.window, self.initial + len(self.premium))

    def realized(self) -> float:
        recent = self.premium[-self.size() :] if self.size() else []
        return sum(recent) / len(recent) if recent else 0.0


@check(
    "share",
    "The controller's threshold decides the top tier and is reported with its state",
    ("RM-SHARE-001", "RM-SHARE-002", "RM-SIDE-002"),
)
def controller(ctx: CheckContext) -> None:
    target, window, floor = _target(ctx)
    rng = random.Random(SEED)  # noqa: S311 - reproducible difficulties, not secrets
    follower: Follower | None = None
    problems: list[str] = []
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
        if follower is None:
            follower = Follower(window, share.window_size)
        tier = decision.policy.difficulty_tier
        checks = {
            "target": math.isclose(share.target_share, target, abs_tol=1e-9),
            "tier follows the reported threshold": tier == (1 if difficulty >= share.threshold else 0),
            "window counts main turns": share.window_size == follower.size(),
            "warm-up uses min_difficulty": share.window_size >= WARM_UP or math.isclose(share.threshold, floor),
            "realised share of the window": not follower.known()
            or math.isclose(share.realized_share, follower.realized(), abs_tol=1e-9),
        }
        for what, ok in checks.items():
            if not ok:
                problems.append(
                    f"turn {turn}: {what} (difficulty {difficulty:.4f}, threshold {share.threshold:.4f}, tier {tier}, "
                    f"window {share.window_size} vs {follower.size()}, realised {share.realized_share:.4f} vs "
                    f"{follower.realized():.4f})"
                )
        follower.premium.append(ctx.fixture.tier_of(ROLE, decision.chosen_endpoint_id) == 1)
    if follower is None:
        raise NotObservable("no turn was routed")
    window_problems = [p for p in problems if "window counts" in p or "realised" in p]
    ctx.expect("RM-SHARE-001", not problems, f"{TURNS} main turns: " + ("; ".join(problems[:3]) or "consistent"))
    if side_sent:
        ctx.expect(
            "RM-SIDE-002",
            not window_problems,
            f"an isolated side request at turn {SIDE_AT} is not counted by the controller: "
            + ("; ".join(window_problems[:2]) or "window and realised share unaffected"),
        )
    settled = follower.premium[window:]
    realised = sum(settled) / len(settled)
    ctx.expect(
        "RM-SHARE-002",
        abs(realised - target) <= TOLERANCE,
        f"over turns {window}..{TURNS} the premium share is {realised:.3f}, target {target} +- {TOLERANCE}",
    )
