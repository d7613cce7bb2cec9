"""``POST /v1/rolemodel/outcomes``: ReportOutcome for clients that only speak HTTP (spec 14.6).

A coding agent's hook that runs the tests after an edit knows what no provider can: whether the
edit worked. It posts an ``Outcome`` in the proto3 JSON mapping, for example::

    {"decision_id": "...", "served_endpoint_id": "deepseek-chat",
     "outcome_class": "OUTCOME_CLASS_TASK_FAILED", "idempotency_key": "ci-run-41", "detail": "3 tests failed"}

and the router applies it exactly as ``ReportOutcome``: the same validation, idempotency, role
scope and effects (escalation among them), answered with the ``ReportOutcomeResponse`` in JSON.
Errors are ``google.rpc.Status`` in its JSON mapping, with the reason in the details and in
``x-rolemodel-error-reason``.
"""

from __future__ import annotations

import logging

from google.protobuf import json_format
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from rolemodel.error_reasons import ErrorReason
from rolemodel.v1 import outcome_pb2
from rolemodel_router.engine.errors import RouterError, Violations
from rolemodel_router.http.auth import authenticate
from rolemodel_router.http.body import read_body
from rolemodel_router.http.errors import Dialect, error_response, internal_error
from rolemodel_router.http.front_door import FrontDoor, act_as
from rolemodel_router.http.hints import check_version
from rolemodel_router.http.response_headers import proto_json

log = logging.getLogger("rolemodel.router")


def parse_outcome(raw: bytes) -> outcome_pb2.Outcome:
    """The Outcome in a JSON body; anything that is not one (unknown fields too) is REQUEST_INVALID."""
    try:
        return json_format.Parse(raw, outcome_pb2.Outcome())
    except (json_format.ParseError, UnicodeDecodeError) as error:
        description = f"not an Outcome in the proto3 JSON mapping: {error}"
        raise RouterError(
            ErrorReason.REQUEST_INVALID,
            f"the request body is {description}",
            {"violation_count": "1"},
            Violations.single("outcome", description),
        ) from None


class Outcomes:
    def __init__(self, front: FrontDoor) -> None:
        self.front = front

    async def report(self, request: Request) -> Response:
        try:
            principal = authenticate(self.front.tokens, request.headers)
            check_version(request.headers)
            outcome = parse_outcome(await read_body(request, self.front.max_request_bytes))
            act_as(principal)  # the router checks the decision's role against the token's scope
            response = await self.front.core.report(outcome)
        except RouterError as error:
            self.front.observer.refused(error.reason.value, error.message, Dialect.ROLEMODEL.value)
            return error_response(Dialect.ROLEMODEL, error)
        except Exception:
            log.exception("http internal error", extra={"path": request.url.path})
            return error_response(Dialect.ROLEMODEL, internal_error())
        self.front.observer.reported(outcome, response)
        log.info(
            "outcome",
            extra={
                "decision_id": outcome.decision_id,
                "endpoint": outcome.served_endpoint_id,
                "outcome_class": outcome.outcome_class,
                "replayed": response.replayed,
            },
        )
        return JSONResponse(proto_json(response))
