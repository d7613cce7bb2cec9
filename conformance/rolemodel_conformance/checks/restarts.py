"""Durability across a restart (RM-ROUTE-010, RM-OUT-008): seen only in the harness mode, with ``{state}``.

A router claims durable state when its command keeps its state in the
directory ``{state}`` names (spec 6.1, docs/conformance.md). The check starts a
router of its own on the fixture and a fresh directory, makes two decisions and
reports an outcome on one, stops it (SIGTERM, as an operator would), starts the
same command on the same directory, and asks the new process about them. It
never touches the router the rest of the run talks to.

Two-sided: the restarted router must accept an outcome for the decision made
before the restart and still refuse one for a decision nobody made; it must
answer the replayed outcome as a replay with the first effects, and refuse a
second outcome for that decision under a new key.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path

import grpc
import yaml
from google.protobuf import json_format

from rolemodel.v1 import decision_pb2, hints_pb2, outcome_pb2
from rolemodel_conformance.builders import Prompt, outcome, route_request
from rolemodel_conformance.checks import check
from rolemodel_conformance.checks.helpers import expect_refusal
from rolemodel_conformance.connect import HarnessError, open_channel, wait_until_serving
from rolemodel_conformance.context import CapabilityNotClaimed, CheckContext, NotObservable
from rolemodel_conformance.launcher import DECIDE_TIMEOUT_S, RouterLauncher
from rolemodel_conformance.probe import Connection, RouterProbe, RouterRefusal, describe
from rolemodel_conformance.selection import RESTARTS

#: Characters of a router's output quoted when it does not come back.
QUOTED = 200
#: A decision id of the right form that no router made.
NEVER_MADE = "0" * 28


def _launcher(ctx: CheckContext) -> RouterLauncher:
    launcher = ctx.run.launcher
    if launcher is None or not launcher.durable:
        raise CapabilityNotClaimed("a restart needs the harness mode with {state} in --router-command")
    return launcher


@contextmanager
def _router(ctx: CheckContext, launcher: RouterLauncher, state: Path) -> Iterator[RouterProbe]:
    """The command started on the fixture and ``state``, as a probe; stopped (SIGTERM) on leaving."""
    fixture = json_format.MessageToDict(ctx.fixture.catalog, preserving_proto_field_name=True)
    launched = launcher.start(yaml.safe_dump(fixture, sort_keys=False), state)
    transport = ctx.run.transport
    if transport is None:
        raise NotObservable("the run has no transport options to reach a restarted router with")
    channel = open_channel(replace(transport, target=launched.address))
    try:
        try:
            wait_until_serving(channel, launched.address, DECIDE_TIMEOUT_S)
        except HarnessError:
            said = " ".join(launched.printed().split())[-QUOTED:] or "nothing"
            raise NotObservable(f"the router did not serve on its state directory (it printed: {said})") from None
        connection = ctx.probe.connection
        yield RouterProbe(Connection(channel, launched.address, connection.version, connection.token))
    finally:
        channel.close()
        launched.stop()


def _route(ctx: CheckContext, probe: RouterProbe) -> decision_pb2.Decision:
    conversation = Prompt.of([60, 20]).ref(ctx.ids.conversation("restart"))
    return probe.route(route_request(conversation, hints_pb2.RoutingHints(role="chat")))


def _verdict(decision: decision_pb2.Decision, key: str) -> outcome_pb2.Outcome:
    return outcome(decision.decision_id, decision.chosen_endpoint_id, key)


@check(
    "start-up",
    "Decisions and outcomes a router acknowledged survive a restart on the same state",
    tuple(sorted(RESTARTS)),
)
def survives_restart(ctx: CheckContext) -> None:
    launcher = _launcher(ctx)
    state = launcher.state_directory()
    with _router(ctx, launcher, state) as before:
        unreported, reported = _route(ctx, before), _route(ctx, before)
        first = _verdict(reported, ctx.ids.key("restart"))
        effects = before.report(first).effects
    with _router(ctx, launcher, state) as after:
        try:
            late = after.report(_verdict(unreported, ctx.ids.key("restart")))
            ctx.expect(
                "RM-ROUTE-010",
                not late.replayed,
                f"after the restart, an outcome for decision {unreported.decision_id[:12]}… made before it is "
                "accepted as a first report",
            )
        except RouterRefusal as refusal:
            ctx.failed(
                "RM-ROUTE-010",
                f"after the restart, an outcome for decision {unreported.decision_id[:12]}… made before it: "
                f"{describe(refusal)}",
            )
        expect_refusal(
            ctx,
            "RM-ROUTE-010",
            "after the restart, an outcome for a decision nobody made",
            lambda: after.report(outcome(NEVER_MADE, "fx-local", ctx.ids.key("restart"))),
            grpc.StatusCode.NOT_FOUND,
            "DECISION_NOT_FOUND",
        )
        try:
            again = after.report(first)
            ctx.expect(
                "RM-OUT-008",
                again.replayed and again.effects == effects,
                "after the restart, the outcome reported before it, sent again with its key, is a replay with the "
                f"first effects: replayed {again.replayed}, same effects {again.effects == effects}",
            )
        except RouterRefusal as refusal:
            ctx.failed(
                "RM-OUT-008",
                f"after the restart, the outcome reported before it, sent again with its key: {describe(refusal)}",
            )
        expect_refusal(
            ctx,
            "RM-OUT-008",
            "after the restart, a second outcome for that decision under a new key",
            lambda: after.report(_verdict(reported, ctx.ids.key("restart"))),
            grpc.StatusCode.ALREADY_EXISTS,
            "OUTCOME_ALREADY_REPORTED",
        )
