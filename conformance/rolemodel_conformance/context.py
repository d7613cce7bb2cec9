"""What a check works with: the router, the fixture, the card, fresh ids, and the way to record what it saw.

A check records observations through ``CheckContext`` only, and only for the
requirements it declared; recording for any other id is a harness bug and
makes the check ERROR. That is what keeps "every check cites an existing id"
true at run time as well as in the coverage test.
"""

from __future__ import annotations

import itertools
import secrets
import time
from dataclasses import dataclass, field
from pathlib import Path

from rolemodel.v1 import card_pb2, decision_pb2, router_service_pb2
from rolemodel_conformance.backends import BackendsUnavailable, ScriptedBackends
from rolemodel_conformance.connect import TransportOptions
from rolemodel_conformance.fixture import Fixture
from rolemodel_conformance.launcher import RouterLauncher
from rolemodel_conformance.model import CheckResult, Observation, Status
from rolemodel_conformance.probe import RouterProbe, RouterRefusal


class NotObservable(Exception):
    """The check cannot observe what it wanted to; its remaining requirements become NOT_TESTABLE."""


class SetupProblem(NotObservable):
    """The router was not started as the conformance profile asks; the message says how to fix it."""


class CapabilityNotClaimed(Exception):
    """The check observes only through a capability the router does not claim: it records nothing.

    Its requirements that depend on the capability are skipped anyway; its core
    requirements must then be observed by a check that needs no capability, or
    they end NOT_TESTABLE ("no check observed this requirement"). So a core
    requirement never fails for want of an optional capability, and never
    passes without being seen.
    """


class HarnessBug(Exception):
    """The check broke one of the suite's own rules."""


@dataclass
class IdSource:
    """Ids unique to this run, so repeated runs against one router never share a conversation."""

    run_id: str = field(default_factory=lambda: f"rmc-{int(time.time()):x}-{secrets.token_hex(4)}")
    _counter: itertools.count[int] = field(default_factory=itertools.count)

    def conversation(self, label: str) -> str:
        return f"{self.run_id}/{label}/{next(self._counter)}"

    def key(self, label: str = "k") -> str:
        return f"{self.run_id}-{label}-{next(self._counter)}"

    def canary(self) -> str:
        """A marker put into message content; it must never come back in an error (RM-ERR-004)."""
        return f"CANARY-{self.run_id}-{next(self._counter)}"


@dataclass
class RunState:
    """What the whole run shares: the card, ids, canaries sent."""

    card: card_pb2.RouterCard
    claimed: frozenset[str]
    ids: IdSource
    canaries: set[str] = field(default_factory=set)
    #: A bearer token limited to the role chat, when the operator gave one (RM-AUTH-002).
    scoped_token: str | None = None
    #: Every decision the router returned in this run, with the request, for the audits.
    decisions: list[tuple[decision_pb2.Decision, router_service_pb2.RouteRequest]] = field(default_factory=list)
    #: Every refusal, for the error audit.
    refusals: list[RouterRefusal] = field(default_factory=list)
    #: How the router's start differs from the conformance profile, each said once, with its fix.
    setup_problems: list[str] = field(default_factory=list)
    #: The scripted model backends, started by the first check that needs them; stopped by the runner.
    backends: ScriptedBackends | None = None
    #: Why the backends cannot run, once a start failed (so that later checks do not try again).
    backends_problem: str | None = None
    #: The harness mode's launcher (``--router-command``); None when the suite only connects (``--target``).
    launcher: RouterLauncher | None = None
    #: How the suite reaches the router (TLS, CA file, token files), for the restart checks' own routers.
    transport: TransportOptions | None = None

    @property
    def ca_file(self) -> Path | None:
        """The CA file of a TLS run, which the front-door checks' HTTP clients trust as well."""
        return self.transport.ca_file if self.transport is not None else None

    def stop_backends(self) -> None:
        if self.backends is not None:
            self.backends.stop()
            self.backends = None


class CheckContext:
    def __init__(
        self, probe: RouterProbe, fixture: Fixture, run: RunState, result: CheckResult, selected: frozenset[str]
    ) -> None:
        self.probe = probe
        self.fixture = fixture
        self.run = run
        self.result = result
        self.selected = selected

    @property
    def card(self) -> card_pb2.RouterCard:
        return self.run.card

    @property
    def ids(self) -> IdSource:
        return self.run.ids

    def claims(self, capability: str) -> bool:
        return capability in self.run.claimed

    def wants(self, requirement: str) -> bool:
        """Whether the run scores this requirement (applicable and selected); lets a check skip work."""
        return requirement in self.selected

    def canary(self) -> str:
        marker = self.ids.canary()
        self.run.canaries.add(marker)
        return marker

    def _record(self, requirement: str, status: Status, message: str, should_part: bool = False) -> None:
        if requirement not in self.result.requirements:
            raise HarnessBug(f"check {self.result.name} recorded {requirement}, which it does not declare")
        if requirement in self.selected:
            self.result.observations.append(Observation(requirement, status, message, should_part))

    def passed(self, requirement: str, message: str) -> None:
        self._record(requirement, Status.PASS, message)

    def failed(self, requirement: str, message: str, *, should_part: bool = False) -> None:
        self._record(requirement, Status.FAIL, message, should_part)

    def not_testable(self, requirement: str, message: str) -> None:
        self._record(requirement, Status.NOT_TESTABLE, message)

    def expect(self, requirement: str, ok: bool, message: str, *, should_part: bool = False) -> bool:
        """Record a PASS or a FAIL for ``requirement``; ``message`` states the expectation and what came back."""
        if ok:
            self.passed(requirement, message)
        else:
            self.failed(requirement, message, should_part=should_part)
        return ok

    def expect_equal(self, requirement: str, what: str, got: object, want: object) -> bool:
        return self.expect(requirement, got == want, f"{what}: expected {want!r}, got {got!r}")

    def backends(self, *, reset: bool = True) -> ScriptedBackends:
        """The running scripted backends, reset for a new scenario; NotObservable when they cannot run."""
        run = self.run
        if run.backends_problem is not None:
            raise NotObservable(run.backends_problem)
        try:
            if run.backends is None:
                started = ScriptedBackends(self.fixture)
                started.start()
                run.backends = started
            if reset:
                run.backends.reset()
        except BackendsUnavailable as error:
            run.backends_problem = str(error)
            run.stop_backends()
            raise NotObservable(run.backends_problem) from None
        return run.backends

    def require_capability(self, capability: str, why: str) -> None:
        """End the check without a word unless the router claims ``capability`` (see ``CapabilityNotClaimed``)."""
        if not self.claims(capability):
            raise CapabilityNotClaimed(f"needs {capability} to observe {why}, and the router does not claim it")

    def recorded(self, requirement: str) -> bool:
        return any(o.requirement == requirement for o in self.result.observations)
