"""An ExecuteRequest, validated and turned into the Route it starts with.

Execute is Route plus a call, so it reuses Route's validation whole and adds its own rules: the
content of every message (RM-EXEC-004) and sane generation parameters. All violations end up in
one BadRequest, as for Route.
"""

from __future__ import annotations

import json
import math
from dataclasses import replace

from rolemodel.v1 import common_pb2, router_service_pb2
from rolemodel_router.engine.catalog_index import CatalogIndex
from rolemodel_router.engine.errors import Violations
from rolemodel_router.engine.limits import Limits
from rolemodel_router.engine.route_input import RouteInput, build_route_input
from rolemodel_router.engine.verified_prefix import VerifiedPrefix, Wire

MAX_TEMPERATURE = 2.0
MAX_STOP_SEQUENCES = 4


def _check_params(v: Violations, params: router_service_pb2.GenerationParams, limits: Limits) -> None:
    if params.HasField("temperature") and not (
        math.isfinite(params.temperature) and 0.0 <= params.temperature <= MAX_TEMPERATURE
    ):
        v.add("params.temperature", f"must be between 0 and {MAX_TEMPERATURE}")
    if len(params.stop) > MAX_STOP_SEQUENCES:
        v.add("params.stop", f"at most {MAX_STOP_SEQUENCES} stop sequences")
    for i, stop in enumerate(params.stop):
        if not stop or len(stop.encode()) > limits.max_string_bytes:
            v.add(f"params.stop[{i}]", f"must be 1 to {limits.max_string_bytes} bytes")
    if params.response_json_schema:
        try:
            schema = json.loads(params.response_json_schema)
        except ValueError:
            schema = None
        if not isinstance(schema, dict):
            v.add("params.response_json_schema", "must be a JSON object")


def route_request_for(request: router_service_pb2.ExecuteRequest) -> router_service_pb2.RouteRequest:
    """The Route an Execute makes: with the handoff, and with the capabilities the call itself needs."""
    # The decision lists the handoff's transforms; the executor applies them per attempt itself.
    route = router_service_pb2.RouteRequest(conversation=request.conversation, hints=request.hints)
    needed = set(route.hints.requirements.capabilities)
    if request.conversation.tools:
        needed.add(common_pb2.CAPABILITY_TOOLS)
    if request.params.response_json_schema:
        needed.add(common_pb2.CAPABILITY_JSON_SCHEMA)
    missing = sorted(needed - set(route.hints.requirements.capabilities))
    if missing and request.HasField("hints"):
        route.hints.requirements.capabilities.extend(missing)
    return route


def build_execute_input(
    request: router_service_pb2.ExecuteRequest,
    index: CatalogIndex,
    limits: Limits,
    credential_names: frozenset[str] = frozenset(),
    known: VerifiedPrefix | None = None,
    wire: Wire | None = None,
) -> tuple[router_service_pb2.RouteRequest, RouteInput]:
    """Validate; raises RouterError with every violation of the request.

    ``credential_names`` are the client credential headers the call carries (spec 12.4): only
    their names reach the engine, which needs nothing more to exclude a subscription endpoint.
    ``known`` is the conversation's last verified prefix, as for Route; the result's ``verified``
    is this request's. ``wire`` is the request's conversation as received, when kept.
    """
    violations = Violations()
    _check_params(violations, request.params, limits)
    route = route_request_for(request)
    built = build_route_input(
        route, index, limits, require_content=True, violations=violations, known=known, remember=True, wire=wire
    )
    return route, replace(built, executes=True, credential_names=credential_names)
