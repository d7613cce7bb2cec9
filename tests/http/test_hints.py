"""Hints from headers over the model name, and what cannot be parsed (spec 14.2)."""

from __future__ import annotations

import pytest

from rolemodel.error_reasons import ErrorReason
from rolemodel.v1 import common_pb2
from rolemodel_router.engine.errors import RouterError
from rolemodel_router.http.hints import check_version, explain_requested, missing_role_error, resolve_hints
from rolemodel_router.http.model_names import ModelRoute, RoleSource

ALIAS = ModelRoute("chat", "gpt-5", RoleSource.ALIAS)
RULE = ModelRoute("background", "", RoleSource.RULE)


def test_the_model_route_gives_role_and_pin_when_no_header_does() -> None:
    resolved = resolve_hints({}, ALIAS)
    assert (resolved.hints.role, resolved.hints.endpoint_choice.pinned_endpoint_id) == ("chat", "gpt-5")
    assert resolved.role_source == RoleSource.ALIAS
    assert resolve_hints({}, RULE).role_source == RoleSource.RULE
    nothing = resolve_hints({}, ModelRoute())
    assert (nothing.hints.role, nothing.role_source, nothing.hints.HasField("endpoint_choice")) == ("", None, False)


def test_single_field_headers_beat_the_hints_header_which_beats_the_model_name() -> None:
    headers = {
        "x-rolemodel-hints": '{"role": "code.plan", "difficulty": 0.2, "labels": {"data": "private"},'
        ' "locality": "LOCALITY_LOCAL", "endpoint_choice": {"avoid_endpoint_ids": ["gpt-5-mini"]}}',
        "x-rolemodel-difficulty": "0.9",
        "x-rolemodel-strategy": "Quality",
        "x-rolemodel-side-request": "isolated",
    }
    resolved = resolve_hints(headers, ALIAS)
    hints = resolved.hints
    assert (hints.role, resolved.role_source) == ("code.plan", RoleSource.HEADER)
    assert hints.difficulty == 0.9
    assert hints.strategy == common_pb2.STRATEGY_QUALITY
    assert hints.labels == {"data": "private"}
    assert hints.locality == common_pb2.LOCALITY_LOCAL
    assert hints.endpoint_choice.pinned_endpoint_id == "gpt-5"  # from the alias, no header overrides it
    assert list(hints.endpoint_choice.avoid_endpoint_ids) == ["gpt-5-mini"]
    assert hints.HasField("side_request") and hints.side_request.HasField("merge_back")
    assert not hints.side_request.merge_back
    pinned = resolve_hints({"x-rolemodel-role": "chore", "x-rolemodel-pin": "local-big"}, ALIAS).hints
    assert (pinned.role, pinned.endpoint_choice.pinned_endpoint_id) == ("chore", "local-big")


@pytest.mark.parametrize(("value", "merge_back"), [("merge", True), ("default", None), ("ISOLATED", False)])
def test_side_request_values(value: str, merge_back: bool | None) -> None:
    side = resolve_hints({"x-rolemodel-side-request": value}, RULE).hints.side_request
    assert (side.merge_back if side.HasField("merge_back") else None) == merge_back


def test_every_unparseable_header_is_reported_at_once_as_a_violation_of_its_hint() -> None:
    headers = {
        "x-rolemodel-difficulty": "hard",
        "x-rolemodel-strategy": "cheapest",
        "x-rolemodel-side-request": "sometimes",
        "x-rolemodel-hints": '{"rol": "chat"}',
    }
    with pytest.raises(RouterError) as caught:
        resolve_hints(headers, RULE)
    assert caught.value.reason == ErrorReason.REQUEST_INVALID
    assert sorted(v.field for v in caught.value.violations) == [
        "hints",
        "hints.difficulty",
        "hints.side_request",
        "hints.strategy",
    ]


def test_values_that_parse_are_left_to_the_router_s_own_validation() -> None:
    assert resolve_hints({"x-rolemodel-difficulty": "7"}, RULE).hints.difficulty == 7.0
    with pytest.raises(RouterError):
        resolve_hints({"x-rolemodel-difficulty": "nan"}, RULE)


def test_a_missing_role_names_the_three_ways_to_give_one() -> None:
    error = missing_role_error("llama3")
    assert error.reason == ErrorReason.REQUEST_INVALID
    assert [v.field for v in error.violations] == ["hints.role"]
    assert "x-rolemodel-role" in error.message and "rolemodel/chat" in error.message
    assert "client_model_rules" in error.message


def test_the_version_header_is_optional_but_checked_when_sent() -> None:
    check_version({})
    check_version({"rolemodel-version": "1.0"})
    with pytest.raises(RouterError) as caught:
        check_version({"rolemodel-version": "9.0"})
    assert caught.value.reason == ErrorReason.UNSUPPORTED_PROTOCOL_VERSION
    assert caught.value.metadata["requested_version"] == "9.0"


def test_explain_takes_the_usual_true_values() -> None:
    assert explain_requested({"x-rolemodel-explain": "1"}) and explain_requested({"x-rolemodel-explain": "True"})
    assert not explain_requested({"x-rolemodel-explain": "0"}) and not explain_requested({})
