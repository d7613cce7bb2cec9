"""Execute (capability ROUTER_CAPABILITY_EXECUTE), checked as far as a suite without a model backend can.

The fixture's endpoints point at loopback ports where nothing listens, so
every attempt fails before its first token with a connection error: the
stream must still begin with ``started``, try each fallback once with an
``attempt_failed`` event, and end with one ``failed`` event and the status
UNAVAILABLE with reason BACKEND_UNAVAILABLE. What needs an answering backend
(content, usage, cost, recording, interruption, cancellation, Retry-After,
keys) is NOT_TESTABLE until the suite ships its scripted backend.
"""

from __future__ import annotations

import grpc

from rolemodel.v1 import hints_pb2, router_service_pb2
from rolemodel_conformance.builders import ContentPrompt, Prompt, user
from rolemodel_conformance.checks import check
from rolemodel_conformance.checks.helpers import expect_refusal
from rolemodel_conformance.context import CheckContext

NEEDS_BACKEND = ("RM-EXEC-002", "RM-EXEC-003", "RM-EXEC-011", "RM-EXEC-013", "RM-EXEC-014", "RM-EXEC-020")


@check(
    "execute",
    "A stream whose every attempt fails: started, attempt_failed per endpoint, one failed",
    ("RM-EXEC-001", "RM-EXEC-010", "RM-EXEC-012"),
)
def unreachable_backends(ctx: CheckContext) -> None:
    conversation = ContentPrompt((user(f"Say hello. {ctx.canary()}"),)).ref(ctx.ids.conversation("execute"))
    request = router_service_pb2.ExecuteRequest(conversation=conversation, hints=hints_pb2.RoutingHints(role="chat"))
    events, refusal = ctx.probe.execute(request, timeout_s=30.0)
    kinds = [e.WhichOneof("event") for e in events]
    ending = [k for k in kinds if k in ("completed", "failed")]
    ctx.expect(
        "RM-EXEC-001",
        bool(kinds) and kinds[0] == "started" and len(ending) == 1 and kinds[-1] == ending[0],
        f"events {kinds}: started first, exactly one completed or failed, last",
    )
    tried = [e.attempt_failed.endpoint_id for e in events if e.HasField("attempt_failed")]
    ctx.expect(
        "RM-EXEC-010",
        bool(tried) and len(tried) == len(set(tried)),
        f"attempt_failed for each endpoint tried, none twice: {tried}",
    )
    failed = next((e.failed for e in events if e.HasField("failed")), None)
    ctx.expect(
        "RM-EXEC-012",
        failed is not None
        and failed.reason == "BACKEND_UNAVAILABLE"
        and refusal is not None
        and refusal.code == grpc.StatusCode.UNAVAILABLE
        and refusal.reason == "BACKEND_UNAVAILABLE",
        f"a failed event with BACKEND_UNAVAILABLE and the status UNAVAILABLE/BACKEND_UNAVAILABLE; got "
        f"{failed.reason if failed else 'no failed event'}, {refusal}",
    )


@check("execute", "Execute needs the content of every message", ("RM-EXEC-004",))
def needs_content(ctx: CheckContext) -> None:
    request = router_service_pb2.ExecuteRequest(
        conversation=Prompt.of([100]).ref(ctx.ids.conversation("execute")), hints=hints_pb2.RoutingHints(role="chat")
    )
    expect_refusal(
        ctx,
        "RM-EXEC-004",
        "Execute with a digest-only message",
        lambda: ctx.probe.execute_or_raise(request),
        grpc.StatusCode.INVALID_ARGUMENT,
        "REQUEST_INVALID",
        fields=("conversation.messages[0]",),
    )


@check("execute", "Execute behaviour that needs an answering backend", NEEDS_BACKEND)
def needs_backend(ctx: CheckContext) -> None:
    for requirement in NEEDS_BACKEND:
        ctx.not_testable(requirement, "needs the suite's scripted model backend, which is not part of this version")
