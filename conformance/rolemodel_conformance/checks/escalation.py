"""Escalation on the chore ladder: failures raise the level, successes bring it down (spec 9.3).

chore has three tiers without difficulty thresholds (local, cheap, main), so
only the escalation level moves it up: TASK_FAILED and QUALITY_REJECTED raise
the level by one up to 2, and two consecutive successes lower it by one.
"""

from __future__ import annotations

from rolemodel.v1 import common_pb2, decision_pb2, hints_pb2, router_service_pb2
from rolemodel_conformance.builders import Prompt, outcome, usage
from rolemodel_conformance.checks import check
from rolemodel_conformance.checks.helpers import route
from rolemodel_conformance.context import CheckContext
from rolemodel_conformance.expectations import reason, reasons

OC = common_pb2
ROLE = "chore"


class Ladder:
    """One chore conversation, turn by turn, with the level the spec predicts."""

    def __init__(self, ctx: CheckContext, label: str) -> None:
        self.ctx = ctx
        self.conversation = ctx.ids.conversation(label)
        self.turn = 0
        self.level = 0
        self.successes = 0
        self.trigger = ""
        #: Set when an escalating outcome met the ceiling: whether it "raised" the level is then ambiguous.
        self.capped = False
        self.escalated_by: set[str] = set()
        policy = ctx.fixture.roles[ROLE].escalation
        self.escalate_on = set(policy.escalate_on)
        self.ceiling = min(policy.max_level, len(ctx.fixture.roles[ROLE].ladder) - 1)
        self.deescalate_after = policy.deescalate_after

    def route(self, force_level: int | None = None) -> decision_pb2.Decision:
        routing = hints_pb2.RoutingHints(role=ROLE)
        if force_level is not None:
            routing.escalation.force_level = force_level
        decision = route(self.ctx, self.conversation, Prompt.of([300 + self.turn]), routing, turn=self.turn)
        self.turn += 1
        return decision

    def report(
        self, decision: decision_pb2.Decision, outcome_class: OC.OutcomeClass.ValueType
    ) -> router_service_pb2.ReportOutcomeResponse:
        response = self.ctx.probe.report(
            outcome(
                decision.decision_id,
                decision.chosen_endpoint_id,
                self.ctx.ids.key(),
                outcome_class=outcome_class,
                used=usage(300, 20),
            )
        )
        self.predict(decision.decision_id, outcome_class)
        return response

    def predict(self, decision_id: str, outcome_class: OC.OutcomeClass.ValueType) -> None:
        """Section 9.3, literally."""
        if outcome_class in self.escalate_on:
            self.escalated_by.add(decision_id)
            if self.level < self.ceiling:
                self.trigger, self.capped = decision_id, False
            else:
                self.capped = True
            self.level, self.successes = min(self.level + 1, self.ceiling), 0
        elif outcome_class == OC.OUTCOME_CLASS_SUCCESS:
            self.successes += 1
            if self.deescalate_after > 0 and self.successes >= self.deescalate_after and self.level > 0:
                self.level, self.successes = self.level - 1, 0


@check(
    "escalation",
    "Failures escalate, successes de-escalate, and the next route follows the level",
    ("RM-ESC-001", "RM-ESC-002", "RM-OUT-009"),
)
def ladder(ctx: CheckContext) -> None:
    walk = Ladder(ctx, "escalation")
    for outcome_class in (
        OC.OUTCOME_CLASS_TASK_FAILED,
        OC.OUTCOME_CLASS_TASK_FAILED,
        OC.OUTCOME_CLASS_QUALITY_REJECTED,
        OC.OUTCOME_CLASS_SUCCESS,
        OC.OUTCOME_CLASS_SUCCESS,
        OC.OUTCOME_CLASS_SUCCESS,
        OC.OUTCOME_CLASS_SUCCESS,
    ):
        decision = walk.route()
        chosen_tier = ctx.fixture.tier_of(ROLE, decision.chosen_endpoint_id)
        ctx.expect(
            "RM-ESC-001",
            decision.policy.escalation_level == walk.level and chosen_tier == walk.level,
            f"turn {walk.turn - 1}: level {decision.policy.escalation_level} and tier {chosen_tier} "
            f"('{decision.chosen_endpoint_id}'), expected level and tier {walk.level}",
        )
        escalated = reason(decision, "ESCALATED")
        if walk.level > 0:
            trigger = escalated.attributes.get("triggering_decision_id") if escalated else None
            wanted = walk.escalated_by if walk.capped else {walk.trigger}
            ctx.expect(
                "RM-ESC-002",
                escalated is not None and trigger in wanted,
                f"level {walk.level} above difficulty tier 0: ESCALATED with triggering_decision_id in "
                f"{sorted(wanted)}; got {reasons(decision)}, trigger {trigger!r}",
            )
        else:
            ctx.expect("RM-ESC-002", escalated is None, f"level 0: no ESCALATED reason; got {reasons(decision)}")
        effects = walk.report(decision, outcome_class).effects
        name = OC.OutcomeClass.Name(outcome_class)
        # The walk's levels are ESCALATION's: without it, RM-OUT-009 is judged by the outcomes checks alone.
        judged = ("RM-ESC-001", "RM-OUT-009") if ctx.claims("ROUTER_CAPABILITY_ESCALATION") else ("RM-ESC-001",)
        for requirement in judged:
            ctx.expect(
                requirement,
                (effects.escalation_level, effects.consecutive_successes) == (walk.level, walk.successes),
                f"after {name}: effects level {effects.escalation_level}, successes "
                f"{effects.consecutive_successes}; expected {walk.level}, {walk.successes}",
            )
    final = walk.route()
    ctx.expect(
        "RM-ESC-001",
        final.policy.escalation_level == walk.level,
        f"final level {final.policy.escalation_level}, expected {walk.level}",
    )


@check("escalation", "A forced level is explained with ESCALATION_FORCED", ("RM-ESC-003",))
def forced_level(ctx: CheckContext) -> None:
    walk = Ladder(ctx, "forced")
    decision = walk.route(force_level=1)
    ctx.expect(
        "RM-ESC-003",
        "ESCALATION_FORCED" in reasons(decision) and decision.policy.required_tier == 1,
        f"force_level 1: ESCALATION_FORCED and required tier 1; got {reasons(decision)}, "
        f"tier {decision.policy.required_tier}",
    )


@check("escalation", "An isolated side request's outcome changes no escalation level", ("RM-ESC-004",))
def side_outcome(ctx: CheckContext) -> None:
    ctx.require_capability("ROUTER_CAPABILITY_SIDE_REQUESTS", "isolated side requests")
    walk = Ladder(ctx, "side-escalation")
    routing = hints_pb2.RoutingHints(role=ROLE)
    routing.side_request.merge_back = False
    side = route(ctx, walk.conversation, Prompt.of([250]), routing)
    effects = walk.ctx.probe.report(
        outcome(
            side.decision_id,
            side.chosen_endpoint_id,
            ctx.ids.key(),
            outcome_class=OC.OUTCOME_CLASS_TASK_FAILED,
            used=usage(250, 10),
        )
    ).effects
    ctx.expect(
        "RM-ESC-004",
        effects.escalation_level == 0,
        f"effects level after the side TASK_FAILED: {effects.escalation_level}",
    )
    after = walk.route()
    ctx.expect(
        "RM-ESC-004",
        after.policy.escalation_level == 0,
        f"the next main turn sees level {after.policy.escalation_level}, expected 0",
    )
