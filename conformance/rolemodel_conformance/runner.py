"""Run the suite: connect, read the card, confirm the profile, run the checks, turn them into verdicts.

The runner is shared by the CLI and the pytest plugin. It never decides a
verdict itself: checks record observations, ``verdicts`` aggregates them. Its
own job is the order of things and the honesty of the edges: no verdict for a
router it cannot reach or whose card it cannot read, NOT_TESTABLE (never PASS)
for everything when the router does not run the fixture, and ERROR for a check
that crashed.
"""

from __future__ import annotations

import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime

from rolemodel.v1 import card_pb2
from rolemodel_conformance import __version__, vectors
from rolemodel_conformance.checks import Check, all_checks
from rolemodel_conformance.connect import HarnessError, TransportOptions, open_channel, read_token, wait_until_serving
from rolemodel_conformance.context import CapabilityNotClaimed, CheckContext, IdSource, NotObservable, RunState
from rolemodel_conformance.fixture import DEFAULT_BACKEND_PORTS, fixture_text, load_fixture, profile_differences
from rolemodel_conformance.launcher import RouterLauncher
from rolemodel_conformance.model import CheckResult, Exclusion, Observation, RequirementVerdict, Status
from rolemodel_conformance.probe import Connection, RouterProbe, RouterRefusal, describe
from rolemodel_conformance.registry import out_of_scope, requirements
from rolemodel_conformance.selection import Selection, checks_for, select
from rolemodel_conformance.verdicts import apply_expected_failures, exit_code, skipped, verdict

SUITE_VERSIONS = ("1.0",)


@dataclass(frozen=True)
class RunOptions:
    transport: TransportOptions
    spec_version: str = "1.0"
    level: str = "all"
    requirement_globs: tuple[str, ...] = ()
    expected_failures: frozenset[str] = frozenset()
    wait_s: float = 30.0
    #: Where the scripted backends listen; the router must load the fixture printed for the same ports.
    backend_ports: tuple[int, int, int] = DEFAULT_BACKEND_PORTS
    #: The harness mode: a command template with {catalog} and {address}; the suite starts the router.
    router_command: str | None = None


@dataclass
class RunReport:
    options: RunOptions
    started_at: datetime
    finished_at: datetime | None = None
    card: card_pb2.RouterCard | None = None
    profile_problems: list[str] = field(default_factory=list)
    #: How the router's start differs from the conformance profile, with the fix; shown before the table.
    setup_problems: list[str] = field(default_factory=list)
    verdicts: list[RequirementVerdict] = field(default_factory=list)
    excluded: list[Exclusion] = field(default_factory=list)
    checks: list[CheckResult] = field(default_factory=list)
    harness_error: str | None = None
    stale: list[str] = field(default_factory=list)
    suite_version: str = __version__

    @property
    def exit_code(self) -> int:
        return exit_code(self.verdicts, self.harness_error)

    @property
    def duration_s(self) -> float:
        end = self.finished_at or datetime.now(UTC)
        return (end - self.started_at).total_seconds()


ProgressHook = Callable[[int, int, Check], None]


def _run_check(check: Check, ctx: CheckContext, scored: frozenset[str], profile_problems: list[str]) -> CheckResult:
    result = ctx.result
    own = [r for r in check.requirements if r in scored]
    started = time.monotonic()
    try:
        if check.needs_profile and profile_problems:
            raise NotObservable("the router does not run the conformance fixture: " + "; ".join(profile_problems))
        check.function(ctx)
    except CapabilityNotClaimed:
        pass
    except NotObservable as error:
        result.observations.extend(Observation(r, Status.NOT_TESTABLE, str(error)) for r in own)
    except RouterRefusal as refusal:
        message = "the router refused a request the check needed: " + describe(refusal)
        result.observations.extend(Observation(r, Status.NOT_TESTABLE, message) for r in own)
    except Exception as error:
        where = traceback.extract_tb(error.__traceback__)[-1]
        message = f"the check crashed: {type(error).__name__}: {error} ({where.filename}:{where.lineno})"
        result.observations.extend(Observation(r, Status.ERROR, message) for r in own)
    result.duration_s = time.monotonic() - started
    return result


def _connect(options: RunOptions) -> tuple[RouterProbe, card_pb2.RouterCard]:
    if options.spec_version not in SUITE_VERSIONS:
        raise HarnessError(
            f"this suite checks protocol version(s) {', '.join(SUITE_VERSIONS)}, not {options.spec_version}"
        )
    broken = vectors.failures()
    if broken:
        listing = ", ".join(f"{v.id} ({v.detail})" for v in broken[:3])
        raise HarnessError(f"the suite's own arithmetic does not reproduce the spec's vectors: {listing}")
    token = read_token(options.transport, options.transport.token_file)
    channel = open_channel(options.transport)
    wait_until_serving(channel, options.transport.target, options.wait_s)
    probe = RouterProbe(Connection(channel, options.transport.target, options.spec_version, token))
    try:
        card = probe.card()
    except RouterRefusal as refusal:
        raise HarnessError(
            f"GetRouterCard failed, so the suite cannot learn what the router claims: {refusal}"
        ) from None
    return probe, card


def _capabilities(card: card_pb2.RouterCard) -> frozenset[str]:
    known = card_pb2.RouterCapability.values()
    return frozenset(card_pb2.RouterCapability.Name(c) for c in card.capabilities if c in known)


def run(options: RunOptions, progress: ProgressHook | None = None) -> RunReport:
    """Run the suite once; never raises for router behaviour, only reports it.

    In the harness mode the suite first starts the router on the fixture at a
    free address and connects there; the router is stopped when the run ends.
    """
    if options.router_command is None:
        return _run(options, None, progress)
    report = RunReport(options=options, started_at=datetime.now(UTC))
    try:
        launcher = RouterLauncher(options.router_command)
        launched = launcher.start(fixture_text(options.backend_ports))
    except HarnessError as error:
        report.harness_error = str(error)
        report.finished_at = datetime.now(UTC)
        return report
    try:
        transport = replace(options.transport, target=launched.address)
        report = _run(replace(options, transport=transport), launcher, progress)
        if report.harness_error is not None and launched.process.poll() is not None:
            last = launched.printed().strip().splitlines()[-1:] or ["nothing"]
            report.harness_error += f" The router exited with status {launched.process.returncode}: {last[0]}"
        return report
    finally:
        launched.stop()
        launcher.close()


def _run(options: RunOptions, launcher: RouterLauncher | None, progress: ProgressHook | None) -> RunReport:
    report = RunReport(options=options, started_at=datetime.now(UTC))
    try:
        probe, card = _connect(options)
    except HarnessError as error:
        report.harness_error = str(error)
        report.finished_at = datetime.now(UTC)
        return report
    report.card = card
    claimed = _capabilities(card)
    if "ROUTER_CAPABILITY_AUTH" in claimed and probe.connection.token is None:
        report.harness_error = "the router claims ROUTER_CAPABILITY_AUTH: pass its bearer token with --token-file"
        report.finished_at = datetime.now(UTC)
        return report
    fixture = load_fixture(options.backend_ports)
    report.profile_problems = profile_differences(card, fixture)
    registry = requirements()
    selection: Selection = select(
        registry,
        claimed=claimed,
        level=options.level,
        globs=options.requirement_globs,
        spec_version=options.spec_version,
        launches=launcher is not None,
        front_door=bool(card.http_front_door.base_url),
        durable=launcher is not None and launcher.durable,
    )
    if options.spec_version not in card.supported_versions:
        listed = list(card.supported_versions)
        why = f"the router does not serve protocol version {options.spec_version} (it lists {listed})"
        selection = Selection((), tuple((r, why) for r in selection.scored) + selection.skipped, selection.excluded)
        report.harness_error = f"nothing can be scored: {why}"
    run_state = RunState(card=card, claimed=claimed, ids=IdSource(), launcher=launcher, transport=options.transport)
    run_state.scoped_token = read_token(options.transport, options.transport.scoped_token_file)
    probe.decision_observers.append(lambda decision, request: run_state.decisions.append((decision, request)))
    probe.refusal_observers.append(run_state.refusals.append)
    scored = selection.scored_ids
    planned = checks_for(selection, all_checks())
    try:
        for index, check in enumerate(planned):
            if progress is not None:
                progress(index, len(planned), check)
            result = CheckResult(check.name, check.area, check.title, check.requirements)
            ctx = CheckContext(probe, fixture, run_state, result, scored)
            report.checks.append(_run_check(check, ctx, scored, report.profile_problems))
    finally:
        report.setup_problems = list(run_state.setup_problems)
        run_state.stop_backends()
        probe.connection.channel.close()
    report.verdicts = [verdict(r, report.checks) for r in selection.scored]
    report.verdicts += [skipped(r, why) for r, why in selection.skipped]
    order = {rid: i for i, rid in enumerate(registry)}
    report.verdicts.sort(key=lambda v: order[v.id])
    report.excluded = [out_of_scope()[rid] for rid in selection.excluded]
    report.stale = apply_expected_failures(report.verdicts, set(options.expected_failures))
    report.finished_at = datetime.now(UTC)
    return report
