"""Audits: every decision and every error of the run, held against the record and error rules.

The other checks look at what their scenario is about; these look at
everything the router answered during the run, so a broken invariant shows up
wherever it happens. Each audit also produces traffic of its own first, so
that it has something to look at when a run is filtered to a few requirements.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable

import grpc
from grpc_health.v1 import health_pb2

from rolemodel.v1 import common_pb2, hints_pb2, router_service_pb2
from rolemodel_conformance.builders import ContentPrompt, Prompt, avoid, outcome, pin, route_request, user
from rolemodel_conformance.checks import check
from rolemodel_conformance.checks.records import record_problems
from rolemodel_conformance.context import CheckContext
from rolemodel_conformance.probe import RouterRefusal
from rolemodel_conformance.registry import error_domain, error_specs

DECISION_RULES = (
    "RM-ROUTE-001",
    "RM-ROUTE-002",
    "RM-ROUTE-003",
    "RM-ROUTE-004",
    "RM-ROUTE-005",
    "RM-ROUTE-006",
    "RM-ROUTE-007",
    "RM-ROUTE-008",
    "RM-ROUTE-011",
    "RM-ROUTE-012",
    "RM-ROUTE-023",
    "RM-ROUTE-040",
    "RM-ROUTE-041",
    "RM-ROUTE-042",
    "RM-ROUTE-043",
    "RM-COST-002",
    "RM-COST-010",
    "RM-ELIG-001",
)
#: Transport-level statuses that no router sent: the client's own deadline, an oversized message the transport refused.
CLIENT_SIDE = (
    (grpc.StatusCode.DEADLINE_EXCEEDED, "Deadline Exceeded"),
    (grpc.StatusCode.RESOURCE_EXHAUSTED, "larger than max"),
)


def _variety(ctx: CheckContext) -> None:
    """Decisions of every role, pinned and not, warm and cold; refusals (a full quota) are fine here."""
    requests = []
    for role in ctx.fixture.roles:
        conversation = ctx.ids.conversation("audit")
        first = Prompt.of([1500])
        requests.append(route_request(first.ref(conversation), hints_pb2.RoutingHints(role=role)))
        requests.append(route_request(first.extend([300, 100]).ref(conversation, 1), hints_pb2.RoutingHints(role=role)))
    conversation = ctx.ids.conversation("audit")
    requests.append(
        route_request(
            Prompt.of([3000]).ref(conversation), hints_pb2.RoutingHints(role="chat", endpoint_choice=pin("fx-opus"))
        )
    )
    requests.append(
        route_request(
            Prompt.of([900]).ref(conversation, 1),
            hints_pb2.RoutingHints(role="chat", difficulty=0.9, endpoint_choice=avoid("fx-gpt5", "fx-opus")),
        )
    )
    compact = ctx.ids.conversation("audit")  # the same turns with compact candidates, pinned off the ladder at last
    for turn, prompt in enumerate((Prompt.of([1500]), Prompt.of([1500, 300, 100]))):
        requests.append(route_request(prompt.ref(compact, turn), hints_pb2.RoutingHints(role="chore"), compact=True))
    off_ladder = hints_pb2.RoutingHints(role="chore", endpoint_choice=pin("fx-opus"))
    requests.append(route_request(Prompt.of([700]).ref(ctx.ids.conversation("audit")), off_ladder, compact=True))
    for request in requests:
        with contextlib.suppress(RouterRefusal):
            ctx.probe.route(request)


@check("audit", "Every decision of the run is a complete, consistent record", DECISION_RULES)
def decision_records(ctx: CheckContext) -> None:
    _variety(ctx)
    found: dict[str, list[str]] = {r: [] for r in DECISION_RULES}
    seen_ids: set[str] = set()
    for decision, request in ctx.run.decisions:
        for requirement, problem in record_problems(ctx, decision, request, seen_ids):
            found[requirement].append(problem)
    count = len(ctx.run.decisions)
    for requirement, problems in found.items():
        ctx.expect(
            requirement,
            not problems,
            f"{count} decisions audited"
            + (f"; {len(problems)} problem(s): " + " | ".join(problems[:3]) if problems else ""),
        )


def _drive(ctx: CheckContext) -> dict[str, Callable[[], object]]:
    """One call per error reason the fixture can provoke."""
    conversation = ctx.ids.conversation("errors")
    valid = route_request(Prompt.of([200]).ref(conversation), hints_pb2.RoutingHints(role="chore"))
    decision = ctx.probe.route(valid)
    key = ctx.ids.key("errors")
    ctx.probe.report(outcome(decision.decision_id, decision.chosen_endpoint_id, key))
    unreported = ctx.probe.route(
        route_request(Prompt.of([200]).ref(ctx.ids.conversation("errors")), hints_pb2.RoutingHints(role="chore"))
    )
    bad_digest = ContentPrompt((user(f"digest {ctx.canary()}"),), with_digests=True).ref(ctx.ids.conversation("errors"))
    bad_digest.messages[0].digest = b"\x00" * 32
    invalid = route_request(Prompt.of([10]).ref(conversation), hints_pb2.RoutingHints(role="chat", difficulty=3.0))
    local_image = hints_pb2.RoutingHints(role="chat", locality=common_pb2.LOCALITY_LOCAL)
    local_image.requirements.modalities.append(common_pb2.MODALITY_IMAGE)
    changed = outcome(
        decision.decision_id, decision.chosen_endpoint_id, key, outcome_class=common_pb2.OUTCOME_CLASS_TIMEOUT
    )
    calls: dict[str, Callable[[], object]] = {
        "PROTOCOL_VERSION_REQUIRED": lambda: ctx.probe.route(valid, version=None),
        "UNSUPPORTED_PROTOCOL_VERSION": lambda: ctx.probe.route(valid, version="99.0"),
        "REQUEST_INVALID": lambda: ctx.probe.route(invalid),
        "UNKNOWN_ROLE": lambda: ctx.probe.route(
            route_request(Prompt.of([10]).ref(conversation), hints_pb2.RoutingHints(role="x-conformance.none"))
        ),
        "UNKNOWN_ENDPOINT": lambda: ctx.probe.route(
            route_request(
                Prompt.of([10]).ref(conversation), hints_pb2.RoutingHints(role="chat", endpoint_choice=pin("fx-none"))
            )
        ),
        "DIGEST_MISMATCH": lambda: ctx.probe.route(route_request(bad_digest, hints_pb2.RoutingHints(role="chat"))),
        "NO_ELIGIBLE_ENDPOINT": lambda: ctx.probe.route(route_request(Prompt.of([10]).ref(conversation), local_image)),
        "PINNED_ENDPOINT_INELIGIBLE": lambda: ctx.probe.route(
            route_request(
                Prompt.of([10]).ref(conversation),
                hints_pb2.RoutingHints(
                    role="chat", endpoint_choice=pin("fx-local"), locality=common_pb2.LOCALITY_REMOTE
                ),
            )
        ),
        "DECISION_NOT_FOUND": lambda: ctx.probe.report(outcome("rmc-no-such-decision", "fx-local", ctx.ids.key())),
        "ENDPOINT_NOT_IN_DECISION": lambda: ctx.probe.report(outcome(unreported.decision_id, "fx-opus", ctx.ids.key())),
        "OUTCOME_ALREADY_REPORTED": lambda: ctx.probe.report(
            outcome(decision.decision_id, decision.chosen_endpoint_id, ctx.ids.key())
        ),
        "IDEMPOTENCY_KEY_REUSED": lambda: ctx.probe.report(changed),
    }
    if not ctx.claims("ROUTER_CAPABILITY_EXECUTE"):
        execute = router_service_pb2.ExecuteRequest(
            conversation=ContentPrompt((user("hello"),)).ref(ctx.ids.conversation("errors")),
            hints=hints_pb2.RoutingHints(role="chat"),
        )
        calls["CAPABILITY_NOT_SUPPORTED"] = lambda: ctx.probe.execute_or_raise(execute)
    return calls


def _client_side(refusal: RouterRefusal) -> bool:
    return not refusal.has_status_details and any(
        refusal.code == code and marker in refusal.message for code, marker in CLIENT_SIDE
    )


def shape_problems(ctx: CheckContext, refusal: RouterRefusal) -> list[tuple[str, str]]:
    """(requirement, problem) for one error against the registry (spec 11.1)."""
    problems: list[tuple[str, str]] = []
    where = f"{refusal.rpc} {refusal.code.name}"
    spec = error_specs().get(refusal.reason)
    if refusal.info is None:
        return [("RM-ERR-001", f"{where}: no ErrorInfo ({refusal.message[:80]!r})")]
    if spec is None:
        return [("RM-ERR-001", f"{where}: reason {refusal.reason!r} is not in the error registry")]
    if refusal.info.domain != error_domain():
        problems.append(("RM-ERR-001", f"{where} {refusal.reason}: domain {refusal.info.domain!r}"))
    missing = [k for k in spec.metadata if k not in refusal.metadata]
    if missing:
        problems.append(("RM-ERR-001", f"{where} {refusal.reason}: metadata lacks {missing}"))
    if refusal.code.name != spec.code:
        problems.append(
            ("RM-ERR-002", f"{refusal.reason} came with {refusal.code.name}, the registry says {spec.code}")
        )
    if spec.bad_request and not refusal.violations:
        problems.append(("RM-ERR-003", f"{refusal.reason} without a BadRequest field violation"))
    texts = [refusal.message, *refusal.metadata.values(), *(v.description for v in refusal.violations)]
    leaked = [c for c in ctx.run.canaries if any(c in t for t in texts)]
    if leaked:
        problems.append(("RM-ERR-004", f"{refusal.reason} repeats message content ({leaked[0]})"))
    return problems


@check(
    "audit",
    "Every error of the run carries its registry code, ErrorInfo and BadRequest, and no content",
    ("RM-ERR-001", "RM-ERR-002", "RM-ERR-003", "RM-ERR-004"),
)
def error_shapes(ctx: CheckContext) -> None:
    for reason, call in _drive(ctx).items():
        try:
            call()
            ctx.failed("RM-ERR-002", f"the call meant to provoke {reason} succeeded")
        except RouterRefusal as refusal:
            ctx.expect(
                "RM-ERR-002",
                refusal.reason == reason and refusal.code.name == error_specs()[reason].code,
                f"provoking {reason}: got {refusal.reason or 'no reason'} with {refusal.code.name}",
            )
    found: dict[str, list[str]] = {r: [] for r in ("RM-ERR-001", "RM-ERR-002", "RM-ERR-003", "RM-ERR-004")}
    audited = [r for r in ctx.run.refusals if not _client_side(r)]
    for seen in audited:
        for requirement, problem in shape_problems(ctx, seen):
            found[requirement].append(problem)
    for requirement, problems in found.items():
        ctx.expect(
            requirement,
            not problems,
            f"{len(audited)} errors audited"
            + (f"; {len(problems)} problem(s): " + " | ".join(problems[:3]) if problems else ""),
        )


@check(
    "audit", "The router still serves after every malformed request of the run", ("RM-CORE-002",), needs_profile=False
)
def still_serving(ctx: CheckContext) -> None:
    status = ctx.probe.health("")
    ctx.expect(
        "RM-CORE-002",
        status == health_pb2.HealthCheckResponse.SERVING,
        f"health after the run: {health_pb2.HealthCheckResponse.ServingStatus.Name(status)}",
    )
