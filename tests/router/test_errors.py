"""Every error reason the router produces arrives with its registry code and ErrorInfo (spec 11).

The checks read the raw status from the wire (not only the SDK's exception)
so that a missing ErrorInfo or a wrong code cannot hide behind the client.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import grpc
import pytest

from rolemodel import RouterClient
from rolemodel.error_reasons import ERROR_DOMAIN, ERROR_SPECS, ErrorReason
from rolemodel.status import status_from_trailers, unpack_details
from rolemodel.v1 import (
    common_pb2,
    conversation_pb2,
    decision_pb2,
    hints_pb2,
    router_service_pb2,
    router_service_pb2_grpc,
)
from tests.requests import conversation, new_id, outcome, route, usage
from tests.router.harness import RouterProcess


def raw_error(address: str, call: Callable[[router_service_pb2_grpc.RouterServiceStub], Any]) -> grpc.RpcError:
    with grpc.insecure_channel(address) as channel:
        stub = router_service_pb2_grpc.RouterServiceStub(channel)
        with pytest.raises(grpc.RpcError) as caught:
            call(stub)
    return caught.value


def assert_reason(error: grpc.RpcError, reason: ErrorReason) -> list[tuple[str, str]]:
    """The status carries ``reason`` with the registry's code, domain and metadata keys; returns field violations."""
    assert isinstance(error, grpc.Call)
    spec = ERROR_SPECS[reason]
    assert error.code() == spec.code, error.details()
    status = status_from_trailers(list(error.trailing_metadata() or ()))
    assert status is not None, "no google.rpc.Status in the trailers"
    info, violations, _ = unpack_details(status)
    assert info is not None and info.reason == reason.value and info.domain == ERROR_DOMAIN
    assert set(spec.metadata_keys) <= set(info.metadata), (
        f"missing metadata keys: {set(spec.metadata_keys) - set(info.metadata)}"
    )
    if spec.bad_request:
        assert violations, "the registry requires a BadRequest for this reason"
    return [(v.field, v.description) for v in violations]


VERSION = (("rolemodel-version", "1.0"),)


def test_missing_and_unknown_versions(router: RouterProcess) -> None:
    request = route("chat", conversation(new_id(), [10]))
    error = raw_error(router.address, lambda s: s.Route(request))
    assert_reason(error, ErrorReason.PROTOCOL_VERSION_REQUIRED)
    for bad in ("2.0", "v1", "1.0.0", ""):

        def call(stub: router_service_pb2_grpc.RouterServiceStub, version: str = bad) -> Any:
            return stub.Route(request, metadata=(("rolemodel-version", version),))

        assert_reason(raw_error(router.address, call), ErrorReason.UNSUPPORTED_PROTOCOL_VERSION)
    # Discovery needs no header.
    with grpc.insecure_channel(router.address) as channel:
        card = router_service_pb2_grpc.RouterServiceStub(channel).GetRouterCard(
            router_service_pb2.GetRouterCardRequest()
        )
    assert card.card.supported_versions == ["1.0"]


def test_all_field_violations_in_one_bad_request(router: RouterProcess) -> None:
    conv = conversation(new_id(), [10, 20])
    conv.messages[1].digest = b"short"
    conv.conversation_id = "has spaces"
    request = route("chat", conv, difficulty=1.5)
    request.hints.endpoint_choice.pinned_endpoint_id = "fx-nope"
    error = raw_error(router.address, lambda s: s.Route(request, metadata=VERSION))
    fields = [f for f, _ in assert_reason(error, ErrorReason.REQUEST_INVALID)]
    assert {
        "conversation.conversation_id",
        "conversation.messages[1].digest",
        "hints.difficulty",
        "hints.endpoint_choice.pinned_endpoint_id",
    } <= set(fields)


def test_unknown_role_and_unknown_endpoint_get_their_own_reasons(router: RouterProcess) -> None:
    error = raw_error(
        router.address, lambda s: s.Route(route("no.such.role", conversation(new_id(), [10])), metadata=VERSION)
    )
    assert assert_reason(error, ErrorReason.UNKNOWN_ROLE) == [("hints.role", "unknown role 'no.such.role'")]
    hints: dict[str, Any] = {"endpoint_choice": hints_pb2.EndpointChoice(avoid_endpoint_ids=["fx-nope"])}
    error = raw_error(
        router.address, lambda s: s.Route(route("chat", conversation(new_id(), [10]), **hints), metadata=VERSION)
    )
    assert_reason(error, ErrorReason.UNKNOWN_ENDPOINT)


def test_digest_mismatch_names_the_message(router: RouterProcess) -> None:
    conv = conversation(new_id(), [10, 20])
    conv.messages[1].message.CopyFrom(
        conversation_pb2.Message(
            role=conversation_pb2.MESSAGE_ROLE_USER,
            parts=[conversation_pb2.ContentPart(text=conversation_pb2.TextPart(text="not what was hashed"))],
        )
    )
    error = raw_error(router.address, lambda s: s.Route(route("chat", conv), metadata=VERSION))
    assert_reason(error, ErrorReason.DIGEST_MISMATCH)


def test_no_eligible_and_ineligible_pin(router: RouterProcess) -> None:
    hints: dict[str, Any] = {"locality": common_pb2.LOCALITY_LOCAL}
    error = raw_error(
        router.address,
        lambda s: s.Route(route("x-conformance.quota", conversation(new_id(), [10]), **hints), metadata=VERSION),
    )
    assert_reason(error, ErrorReason.NO_ELIGIBLE_ENDPOINT)
    pin: dict[str, Any] = {"endpoint_choice": hints_pb2.EndpointChoice(pinned_endpoint_id="fx-local"), "labels": {}}
    request = route("chat", conversation(new_id(), [9000]), **pin)
    error = raw_error(router.address, lambda s: s.Route(request, metadata=VERSION))
    assert_reason(error, ErrorReason.PINNED_ENDPOINT_INELIGIBLE)


def test_outcome_errors(router: RouterProcess, client: RouterClient) -> None:
    address = router.address
    error = raw_error(
        address,
        lambda s: s.ReportOutcome(
            router_service_pb2.ReportOutcomeRequest(outcome=outcome("0" * 28, "fx-local")), metadata=VERSION
        ),
    )
    assert_reason(error, ErrorReason.DECISION_NOT_FOUND)
    d = client.route(route("chat", conversation(new_id(), [10]), difficulty=0.1))
    error = raw_error(
        address,
        lambda s: s.ReportOutcome(
            router_service_pb2.ReportOutcomeRequest(outcome=outcome(d.decision_id, "fx-quota")), metadata=VERSION
        ),
    )
    assert_reason(error, ErrorReason.ENDPOINT_NOT_IN_DECISION)
    error = raw_error(
        address,
        lambda s: s.ReportOutcome(
            router_service_pb2.ReportOutcomeRequest(outcome=outcome(d.decision_id, "fx-zzz")), metadata=VERSION
        ),
    )
    assert_reason(error, ErrorReason.UNKNOWN_ENDPOINT)
    first = outcome(d.decision_id, d.chosen_endpoint_id, key="key-1")
    client.report_outcome(first)
    changed = outcome(d.decision_id, d.chosen_endpoint_id, common_pb2.OUTCOME_CLASS_TASK_FAILED, key="key-1")
    error = raw_error(
        address, lambda s: s.ReportOutcome(router_service_pb2.ReportOutcomeRequest(outcome=changed), metadata=VERSION)
    )
    assert_reason(error, ErrorReason.IDEMPOTENCY_KEY_REUSED)
    second = outcome(d.decision_id, d.chosen_endpoint_id, key="key-2")
    error = raw_error(
        address, lambda s: s.ReportOutcome(router_service_pb2.ReportOutcomeRequest(outcome=second), metadata=VERSION)
    )
    assert_reason(error, ErrorReason.OUTCOME_ALREADY_REPORTED)
    invalid = outcome(d.decision_id, d.chosen_endpoint_id, used=usage(input_tokens=10, cache_read=20), key="")
    error = raw_error(
        address, lambda s: s.ReportOutcome(router_service_pb2.ReportOutcomeRequest(outcome=invalid), metadata=VERSION)
    )
    fields = [f for f, _ in assert_reason(error, ErrorReason.REQUEST_INVALID)]
    assert {"outcome.idempotency_key", "outcome.usage"} <= set(fields)


def test_request_too_large() -> None:
    with RouterProcess(extra=["--max-request-bytes", "4096"]) as small:
        conv = conversation(new_id(), [10])
        conv.messages[0].message.CopyFrom(
            conversation_pb2.Message(
                role=conversation_pb2.MESSAGE_ROLE_USER,
                parts=[conversation_pb2.ContentPart(text=conversation_pb2.TextPart(text="x" * 10_000))],
            )
        )
        error = raw_error(small.address, lambda s: s.Route(route("chat", conv), metadata=VERSION))
        assert_reason(error, ErrorReason.REQUEST_TOO_LARGE)


def test_a_40_mb_request_gets_request_too_large_with_error_info_not_a_bare_transport_error() -> None:
    """At the default limit (16 MiB) the transport reads up to 80 MiB, so the router itself answers."""
    with RouterProcess() as router:
        conv = conversation(new_id(), [10])
        conv.messages[0].message.CopyFrom(
            conversation_pb2.Message(
                role=conversation_pb2.MESSAGE_ROLE_USER,
                parts=[conversation_pb2.ContentPart(text=conversation_pb2.TextPart(text="x" * (40 << 20)))],
            )
        )
        error = raw_error(router.address, lambda s: s.Route(route("chat", conv), metadata=VERSION))
        assert_reason(error, ErrorReason.REQUEST_TOO_LARGE)


def test_too_many_messages_is_a_field_violation() -> None:
    with RouterProcess(extra=["--max-messages", "8"]) as small:
        error = raw_error(
            small.address, lambda s: s.Route(route("chat", conversation(new_id(), [1] * 9)), metadata=VERSION)
        )
        fields = [f for f, _ in assert_reason(error, ErrorReason.REQUEST_INVALID)]
        assert fields == ["conversation.messages"]


def test_rejected_calls_change_nothing(client: RouterClient) -> None:
    conv_id = new_id()
    bad = route("chat", conversation(conv_id, [10]), difficulty=2.0)
    with pytest.raises(Exception, match="REQUEST_INVALID"):
        client.route(bad)
    after = client.route(route("chat", conversation(conv_id, [10]), difficulty=0.1, dry_run=True))
    assert after.handoff.action == decision_pb2.HANDOFF_ACTION_START
