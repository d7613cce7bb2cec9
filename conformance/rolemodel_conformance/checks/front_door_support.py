"""What the front-door checks share: the official clients at the card's base URL, and errors read off the wire.

The front door (spec chapter 14) is judged through the clients its users run:
the official ``openai`` and ``anthropic`` Python packages, pointed at the base
URL the card advertises (``http_front_door``), with retries off so that every
answer the router gives is the answer the check sees. A client that parses an
answer into its own types is itself a check of the answer's shape; what the
clients hide (the raw events, the error body, the headers) is read from the
HTTP response they hand back.

The clients are imported on first use, not with the suite: together they take
seconds to import, and a run against a router without a front door, or one
filtered to other requirements, never calls them.
"""

from __future__ import annotations

import importlib
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol, cast

import httpx

from rolemodel_conformance.context import CheckContext, NotObservable
from rolemodel_conformance.registry import error_domain, error_specs

if TYPE_CHECKING:
    import anthropic
    import openai

#: Seconds a front-door call may take; a scripted answer takes well under one.
TIMEOUT_S = 20.0
#: The key the clients send when the router claims no AUTH (they refuse to start without one).
NO_TOKEN = "rmc-no-token"  # noqa: S105 - a placeholder the router ignores, not a secret
#: Spec 14.7: the HTTP status of each gRPC code (REQUEST_TOO_LARGE is 413, the rest of RESOURCE_EXHAUSTED 429).
HTTP_STATUS = {
    "INVALID_ARGUMENT": 400,
    "FAILED_PRECONDITION": 400,
    "UNAUTHENTICATED": 401,
    "PERMISSION_DENIED": 403,
    "NOT_FOUND": 404,
    "ALREADY_EXISTS": 409,
    "RESOURCE_EXHAUSTED": 429,
    "UNIMPLEMENTED": 501,
    "UNAVAILABLE": 503,
    "DEADLINE_EXCEEDED": 504,
    "INTERNAL": 500,
}
ERROR_INFO_TYPE = "type.googleapis.com/google.rpc.ErrorInfo"
BAD_REQUEST_TYPE = "type.googleapis.com/google.rpc.BadRequest"


def base_url(ctx: CheckContext) -> str:
    url = ctx.card.http_front_door.base_url.rstrip("/")
    if not url:
        raise NotObservable("the card advertises no HTTP front door")
    return url


def verify(ctx: CheckContext) -> str | bool:
    """Plain HTTP, or TLS verified against the run's CA file (the front door shares the gRPC listener's TLS)."""
    ca = ctx.run.ca_file
    return str(ca) if ca is not None else True


def _token(ctx: CheckContext) -> str:
    return ctx.probe.connection.token or NO_TOKEN


def _openai() -> Any:
    return importlib.import_module("openai")


def _anthropic() -> Any:
    return importlib.import_module("anthropic")


def status_errors() -> tuple[type[openai.APIStatusError], type[anthropic.APIStatusError]]:
    """The clients' exceptions for an error answer, which carry the HTTP response."""
    return (_openai().APIStatusError, _anthropic().APIStatusError)


def api_errors() -> tuple[type[openai.APIError], type[anthropic.APIError]]:
    """The clients' exceptions for any failed call, an error event in a stream included."""
    return (_openai().APIError, _anthropic().APIError)


def openai_client(ctx: CheckContext) -> openai.OpenAI:
    """The official OpenAI client, its base URL the front door's followed by /v1, no retries."""
    sdk = _openai()
    http = sdk.DefaultHttpxClient(verify=verify(ctx), timeout=TIMEOUT_S)
    client = sdk.OpenAI(base_url=base_url(ctx) + "/v1", api_key=_token(ctx), max_retries=0, http_client=http)
    return cast("openai.OpenAI", client)


def anthropic_client(ctx: CheckContext) -> anthropic.Anthropic:
    """The official Anthropic client, its base URL the front door's, no retries."""
    sdk = _anthropic()
    http = sdk.DefaultHttpxClient(verify=verify(ctx), timeout=TIMEOUT_S)
    client = sdk.Anthropic(base_url=base_url(ctx), api_key=_token(ctx), max_retries=0, http_client=http)
    return cast("anthropic.Anthropic", client)


def plain_client(ctx: CheckContext) -> httpx.Client:
    """For the front door's own endpoints (outcomes, card), which no dialect's client speaks."""
    client = httpx.Client(verify=verify(ctx), timeout=TIMEOUT_S)
    if ctx.probe.connection.token:
        client.headers["authorization"] = f"Bearer {ctx.probe.connection.token}"
    return client


class _Response(Protocol):
    """An HTTP response of httpx or of the clients' own copy of it."""

    @property
    def status_code(self) -> int: ...

    @property
    def text(self) -> str: ...

    @property
    def headers(self) -> Mapping[str, str]: ...

    def json(self) -> Any: ...


@dataclass(frozen=True)
class HttpError:
    """A front-door error as a client received it: status, the whole body, the headers."""

    status: int
    body: Mapping[str, Any]
    headers: Mapping[str, str]

    @property
    def error(self) -> Mapping[str, Any]:
        inner = self.body.get("error")
        return inner if isinstance(inner, Mapping) else {}

    @property
    def details(self) -> list[Mapping[str, Any]]:
        found = self.error.get("details")
        return [d for d in found if isinstance(d, Mapping)] if isinstance(found, list) else []

    @property
    def info(self) -> Mapping[str, Any]:
        """The ErrorInfo, which spec 14.7 puts first among the details."""
        first = self.details[:1]
        return first[0] if first and first[0].get("@type") == ERROR_INFO_TYPE else {}

    @property
    def fields(self) -> list[str]:
        """The fields the BadRequest detail names."""
        out: list[str] = []
        for detail in self.details:
            if detail.get("@type") == BAD_REQUEST_TYPE:
                # The proto3 JSON mapping lets a printer use either the JSON name or the proto field name.
                violations = detail.get("fieldViolations", detail.get("field_violations", []))
                out += [str(v.get("field", "")) for v in violations if isinstance(v, Mapping)]
        return out

    def summary(self) -> str:
        reason = self.headers.get("x-rolemodel-error-reason", "no x-rolemodel-error-reason")
        return f"HTTP {self.status}, {reason}, body {json.dumps(self.body)[:300]}"


def _from_response(response: _Response) -> HttpError:
    try:
        body = response.json()
    except ValueError:
        body = {"unparsed": response.text[:300]}
    return HttpError(response.status_code, body if isinstance(body, Mapping) else {"body": body}, response.headers)


def error_of(call: Callable[[], object]) -> HttpError | None:
    """Run a client call that should fail; the error as the client received it, or None when it succeeded."""
    try:
        call()
    except status_errors() as error:
        return _from_response(error.response)
    return None


def plain_error(response: httpx.Response) -> HttpError | None:
    return None if response.is_success else _from_response(response)


def shape_problems(got: HttpError, reason: str, dialect: str) -> list[str]:
    """Where ``got`` departs from spec 14.7 for ``reason`` in ``dialect`` (openai, anthropic or status)."""
    spec = error_specs()[reason]
    want_status = 413 if reason == "REQUEST_TOO_LARGE" else HTTP_STATUS[spec.code]
    problems = []
    if got.status != want_status:
        problems.append(f"HTTP {got.status}, expected {want_status} for {spec.code}")
    if got.headers.get("x-rolemodel-error-reason") != reason:
        problems.append(f"x-rolemodel-error-reason {got.headers.get('x-rolemodel-error-reason')!r}, expected {reason}")
    if got.info.get("reason") != reason or got.info.get("domain") != error_domain():
        problems.append(f"error.details does not start with the ErrorInfo of {reason} in {error_domain()}")
    error = got.error
    if dialect == "openai":
        missing = [k for k in ("message", "type", "param", "code") if k not in error]
        if missing or error.get("code") != reason:
            problems.append(f"not the OpenAI shape with error.code {reason} (missing {missing})")
    elif dialect == "anthropic":
        if got.body.get("type") != "error" or not isinstance(error.get("type"), str) or "message" not in error:
            problems.append("not the Anthropic shape {type: error, error: {type, message}}")
    elif not {"code", "message", "status"} <= set(error):
        problems.append("not the google.rpc.Status shape {error: {code, message, status, details}}")
    return problems


def refusal_problem(got: HttpError | None, reason: str, dialect: str, field: str) -> str:
    """Empty when ``got`` is ``reason`` in the dialect's shape with a field violation naming ``field``."""
    if got is None:
        return "it was served"
    problems = shape_problems(got, reason, dialect)
    if field and field not in got.fields:
        problems.append(f"no field violation for {field} (fields {got.fields})")
    return "; ".join(problems)


def should_retry(got: HttpError) -> str | None:
    return got.headers.get("x-should-retry")
