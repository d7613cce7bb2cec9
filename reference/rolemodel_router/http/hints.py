"""Routing hints from request headers, over what the model name implies (spec 14.2).

Precedence, highest first: the single-field headers (``x-rolemodel-role``, ``-difficulty``,
``-strategy``, ``-side-request``, ``-pin``), then ``x-rolemodel-hints`` (a whole
``RoutingHints`` in the proto3 JSON mapping, for every hint without a header of its own: labels,
locality, limits, avoided endpoints, escalation), then the model alias, then the catalog's client
model rules. ``x-rolemodel-conversation`` is read by :mod:`.conversation_id`.

A header the router cannot parse is a field violation of the hint it sets, reported with every
other header problem in one ``REQUEST_INVALID``. Values it can parse but the protocol refuses (a
difficulty of 7, an unknown role) are left to the router's own validation, so that they get the
same errors as over gRPC.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

from google.protobuf import json_format

from rolemodel.error_reasons import ErrorReason
from rolemodel.v1 import common_pb2, hints_pb2
from rolemodel.versions import METADATA_KEY, is_supported
from rolemodel_router.engine.errors import RouterError, Violations
from rolemodel_router.http.model_names import ModelRoute, RoleSource
from rolemodel_router.server.interceptors import version_refusal

ROLE = "x-rolemodel-role"
DIFFICULTY = "x-rolemodel-difficulty"
STRATEGY = "x-rolemodel-strategy"
SIDE_REQUEST = "x-rolemodel-side-request"
PIN = "x-rolemodel-pin"
HINTS = "x-rolemodel-hints"
EXPLAIN = "x-rolemodel-explain"

#: ``x-rolemodel-side-request`` values and the merge-back they mean (None: the role's default).
SIDE_REQUEST_VALUES: dict[str, bool | None] = {"isolated": False, "merge": True, "default": None}
#: ``x-rolemodel-strategy`` values: ``cost``, ``balanced``, ``quality``, ``latency`` (or the enum names).
STRATEGIES = {name.removeprefix("STRATEGY_").lower(): value for name, value in common_pb2.Strategy.items() if value}
_TRUE = frozenset({"1", "true", "yes", "on"})


@dataclass(frozen=True, slots=True)
class ResolvedHints:
    """The hints of one request, and where its role came from (None when nothing gave one)."""

    hints: hints_pb2.RoutingHints
    role_source: RoleSource | None


def check_version(headers: Mapping[str, str]) -> None:
    """Refuse a ``rolemodel-version`` the router does not serve; its absence is fine over HTTP.

    Unmodified clients cannot send the header, so the front door does not require it; a client
    that sends one gets the same negotiation as over gRPC (spec 2.1).
    """
    requested = headers.get(METADATA_KEY)
    if requested is not None and not is_supported(requested):
        reason, message, metadata = version_refusal(requested)
        raise RouterError(reason, message, metadata)


def explain_requested(headers: Mapping[str, str]) -> bool:
    return headers.get(EXPLAIN, "").strip().lower() in _TRUE


def resolve_hints(headers: Mapping[str, str], route: ModelRoute) -> ResolvedHints:
    """The request's hints; raises RouterError(REQUEST_INVALID) when a header cannot be parsed."""
    violations = Violations()
    hints = hints_pb2.RoutingHints(role=route.role)
    hints.endpoint_choice.pinned_endpoint_id = route.pinned_endpoint_id
    source = route.source if route.role else None

    raw_hints = headers.get(HINTS)
    if raw_hints is not None:
        try:
            given = json_format.Parse(raw_hints, hints_pb2.RoutingHints())
        except json_format.ParseError as error:
            violations.add("hints", f"header {HINTS} is not RoutingHints in the proto3 JSON mapping: {error}")
        else:
            if given.role:
                source = RoleSource.HEADER
            hints.MergeFrom(given)

    role = headers.get(ROLE)
    if role is not None:
        hints.role = role.strip()
        source = RoleSource.HEADER
    _difficulty(headers.get(DIFFICULTY), hints, violations)
    _strategy(headers.get(STRATEGY), hints, violations)
    _side_request(headers.get(SIDE_REQUEST), hints, violations)
    pin = headers.get(PIN)
    if pin is not None:
        hints.endpoint_choice.pinned_endpoint_id = pin.strip()
    if not hints.HasField("endpoint_choice") or hints.endpoint_choice.ByteSize() == 0:
        hints.ClearField("endpoint_choice")
    violations.raise_if_any()
    return ResolvedHints(hints, source)


def _difficulty(value: str | None, hints: hints_pb2.RoutingHints, violations: Violations) -> None:
    if value is None:
        return
    try:
        difficulty = float(value)
    except ValueError:
        violations.add("hints.difficulty", f"header {DIFFICULTY} must be a number in [0, 1], got {value[:32]!r}")
        return
    if not math.isfinite(difficulty):
        violations.add("hints.difficulty", f"header {DIFFICULTY} must be a finite number in [0, 1]")
        return
    hints.difficulty = difficulty


def _strategy(value: str | None, hints: hints_pb2.RoutingHints, violations: Violations) -> None:
    if value is None:
        return
    strategy = STRATEGIES.get(value.strip().lower().removeprefix("strategy_"))
    if strategy is None:
        violations.add(
            "hints.strategy", f"header {STRATEGY} must be cost, balanced, quality or latency, got {value[:32]!r}"
        )
        return
    hints.strategy = strategy


def _side_request(value: str | None, hints: hints_pb2.RoutingHints, violations: Violations) -> None:
    if value is None:
        return
    key = value.strip().lower()
    if key not in SIDE_REQUEST_VALUES:
        violations.add(
            "hints.side_request",
            f"header {SIDE_REQUEST} must be one of {', '.join(SIDE_REQUEST_VALUES)}, got {value[:32]!r}",
        )
        return
    merge_back = SIDE_REQUEST_VALUES[key]
    hints.side_request.SetInParent()
    if merge_back is not None:
        hints.side_request.merge_back = merge_back


def missing_role_error(model: str) -> RouterError:
    """REQUEST_INVALID for a request whose role nothing gave, saying the three ways to give one."""
    message = (
        f"no role for model '{model[:64]}': send the header {ROLE}, use a model alias such as "
        "'rolemodel/chat' (GET /v1/models lists them), or add a client_model_rules entry to the catalog"
    )
    return RouterError(
        ErrorReason.REQUEST_INVALID, message, {"violation_count": "1"}, Violations.single("hints.role", message)
    )
