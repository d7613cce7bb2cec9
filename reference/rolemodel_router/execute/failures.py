"""What went wrong with one attempt, in the terms of the fallback rules (spec 10.2).

Every way a backend can fail, an HTTP status, a provider's error body, a broken connection, a
timeout or an unreadable stream, becomes one :class:`AttemptFailure` with an outcome class. The
executor decides from its fields alone whether to try the next fallback, so the rules live in one
place and read like the spec.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from email.utils import parsedate_to_datetime

import httpx

from rolemodel.dialects.canonical import ProviderError
from rolemodel.dialects.errors import DialectError, IncompleteStreamError, ProviderStreamError
from rolemodel.error_reasons import ErrorReason
from rolemodel.v1 import common_pb2
from rolemodel_router.engine.errors import RouterError

HTTP_TOO_MANY_REQUESTS = 429
HTTP_REQUEST_TIMEOUT = 408
HTTP_SERVER_ERRORS = range(500, 600)
#: Statuses that say the request itself is wrong; another endpoint would reject it too.
HTTP_REJECTED = frozenset({400, 413, 422})


@dataclass(eq=False)
class AttemptFailure(Exception):
    """One failed attempt.

    ``retryable``: the next fallback may succeed (false when the provider rejected the request
    itself). ``blames_endpoint``: the failure says something about the endpoint's health (false
    when the router could not even encode the request for it). ``billed``: the provider may have
    charged for the prompt, which counts against the turn budget. ``retry_after_s``: the provider
    asked not to be called again before then.
    """

    outcome_class: common_pb2.OutcomeClass.ValueType
    detail: str
    retryable: bool = True
    blames_endpoint: bool = True
    billed: bool = False
    after_first_token: bool = False
    retry_after_s: float | None = None
    status: int = 0

    def __str__(self) -> str:
        return self.detail


def retry_after_seconds(headers: httpx.Headers, now: float | None = None) -> float | None:
    """The delay a 429 or 503 asks for: ``retry-after-ms``, else ``Retry-After`` in seconds or as a date."""
    millis = headers.get("retry-after-ms")
    if millis is not None:
        try:
            value = float(millis) / 1000
        except ValueError:
            value = math.nan
        if math.isfinite(value) and value >= 0:
            return value
    raw = headers.get("retry-after")
    if raw is None:
        return None
    try:
        seconds = float(raw)
    except ValueError:
        try:
            when = parsedate_to_datetime(raw)
        except (TypeError, ValueError):
            return None
        seconds = when.timestamp() - (time.time() if now is None else now)
    return max(0.0, seconds) if math.isfinite(seconds) else None


def from_status(error: ProviderError, headers: httpx.Headers) -> AttemptFailure:
    """A failure for an HTTP error answer, decoded from the provider's error body."""
    status = error.status
    said = f"status {status}" + (f" {error.error_type}" if error.error_type else "") + f": {error.message[:200]}"
    if error.context_overflow:
        return AttemptFailure(common_pb2.OUTCOME_CLASS_CONTEXT_OVERFLOW, said, status=status)
    if status == HTTP_TOO_MANY_REQUESTS:
        return AttemptFailure(
            common_pb2.OUTCOME_CLASS_RATE_LIMITED, said, retry_after_s=retry_after_seconds(headers), status=status
        )
    if status == HTTP_REQUEST_TIMEOUT:
        return AttemptFailure(common_pb2.OUTCOME_CLASS_TIMEOUT, said, status=status)
    if status in HTTP_SERVER_ERRORS:
        return AttemptFailure(
            common_pb2.OUTCOME_CLASS_SERVER_ERROR, said, retry_after_s=retry_after_seconds(headers), status=status
        )
    if status in HTTP_REJECTED:
        return AttemptFailure(common_pb2.OUTCOME_CLASS_SERVER_ERROR, said, retryable=False, status=status)
    # 401, 403, 404 and the like: this endpoint is misconfigured, another one may well serve.
    return AttemptFailure(common_pb2.OUTCOME_CLASS_SERVER_ERROR, said, status=status)


def from_exception(error: Exception, *, responded: bool, after_first_token: bool) -> AttemptFailure:
    """A failure for a transport or stream error; ``responded``: a 200 had arrived, so the prompt may be billed."""
    billed = responded

    def failure(outcome_class: common_pb2.OutcomeClass.ValueType, detail: str) -> AttemptFailure:
        return AttemptFailure(outcome_class, detail, billed=billed, after_first_token=after_first_token)

    if isinstance(error, httpx.ConnectTimeout):
        return failure(common_pb2.OUTCOME_CLASS_TIMEOUT, "connecting timed out")
    if isinstance(error, httpx.ConnectError):
        return failure(common_pb2.OUTCOME_CLASS_SERVER_ERROR, "the connection was refused or failed")
    if isinstance(error, httpx.TimeoutException | TimeoutError):
        stage = "the next piece of the stream" if after_first_token else "the first token"
        return AttemptFailure(
            common_pb2.OUTCOME_CLASS_TIMEOUT,
            f"timed out waiting for {stage}",
            billed=True,
            after_first_token=after_first_token,
        )
    if isinstance(error, ProviderStreamError):
        return failure(common_pb2.OUTCOME_CLASS_SERVER_ERROR, f"the provider reported an error in the stream: {error}")
    if isinstance(error, IncompleteStreamError):
        return failure(common_pb2.OUTCOME_CLASS_SERVER_ERROR, "the stream ended before the answer finished")
    if isinstance(error, DialectError):
        return failure(common_pb2.OUTCOME_CLASS_SERVER_ERROR, f"the answer is not valid for its dialect: {error}")
    if isinstance(error, httpx.HTTPError):
        return failure(common_pb2.OUTCOME_CLASS_SERVER_ERROR, f"the connection failed: {type(error).__name__}")
    raise error


def failed_event_error(reason: str, detail: str, *, attempts: int, endpoint_id: str, budget_picos: int) -> RouterError:
    """The status that ends a stream whose last event is ``failed`` (RM-EXEC-011, -012, -018), with its metadata."""
    error_reason = ErrorReason(reason)
    metadata = {
        ErrorReason.BACKEND_UNAVAILABLE: {"attempts": str(attempts)},
        ErrorReason.BACKEND_STREAM_INTERRUPTED: {"endpoint_id": endpoint_id},
        ErrorReason.BUDGET_EXHAUSTED: {"max_cost_picos": str(budget_picos)},
        ErrorReason.BACKEND_REJECTED: {"endpoint_id": endpoint_id},
        ErrorReason.STREAM_DEADLINE_EXCEEDED: {"endpoint_id": endpoint_id},
    }.get(error_reason, {})
    return RouterError(error_reason, detail, metadata)
