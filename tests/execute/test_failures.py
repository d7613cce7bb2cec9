"""How one failed attempt is classified (spec 10.2): statuses, provider bodies, Retry-After."""

from __future__ import annotations

import math
from email.utils import formatdate

import httpx
import pytest
from hypothesis import given
from hypothesis import strategies as st

from rolemodel.dialects.canonical import ProviderError
from rolemodel.dialects.errors import DialectError, IncompleteStreamError, ProviderStreamError
from rolemodel.v1 import common_pb2
from rolemodel_router.execute.failures import from_exception, from_status, retry_after_seconds

OC = common_pb2


@given(st.floats(min_value=0, max_value=1e6, allow_nan=False))
def test_retry_after_in_seconds_is_read_as_given(seconds: float) -> None:
    assert retry_after_seconds(httpx.Headers({"retry-after": repr(seconds)})) == pytest.approx(seconds)


@given(st.integers(min_value=0, max_value=10**9), st.integers(min_value=0, max_value=10**6))
def test_retry_after_ms_wins_over_retry_after(millis: int, seconds: int) -> None:
    headers = httpx.Headers({"retry-after-ms": str(millis), "retry-after": str(seconds)})
    assert retry_after_seconds(headers) == pytest.approx(millis / 1000)


@given(st.text(max_size=30))
def test_retry_after_never_raises_and_is_never_negative(raw: str) -> None:
    try:
        headers = httpx.Headers({"retry-after": raw})
    except (UnicodeEncodeError, ValueError):
        return
    value = retry_after_seconds(headers)
    assert value is None or (math.isfinite(value) and value >= 0)


def test_retry_after_as_an_http_date_counts_from_now() -> None:
    now = 1_800_000_000.0
    assert retry_after_seconds(httpx.Headers({"retry-after": formatdate(now + 42, usegmt=True)}), now) == 42
    assert retry_after_seconds(httpx.Headers({"retry-after": formatdate(now - 42, usegmt=True)}), now) == 0
    assert retry_after_seconds(httpx.Headers({"retry-after": "-5"})) == 0
    assert retry_after_seconds(httpx.Headers({"retry-after": "nan"})) is None
    assert retry_after_seconds(httpx.Headers({})) is None


@pytest.mark.parametrize(
    ("status", "outcome_class", "retryable"),
    [
        (429, OC.OUTCOME_CLASS_RATE_LIMITED, True),
        (408, OC.OUTCOME_CLASS_TIMEOUT, True),
        (500, OC.OUTCOME_CLASS_SERVER_ERROR, True),
        (529, OC.OUTCOME_CLASS_SERVER_ERROR, True),
        (401, OC.OUTCOME_CLASS_SERVER_ERROR, True),
        (404, OC.OUTCOME_CLASS_SERVER_ERROR, True),
        (400, OC.OUTCOME_CLASS_SERVER_ERROR, False),
        (422, OC.OUTCOME_CLASS_SERVER_ERROR, False),
    ],
)
def test_statuses(status: int, outcome_class: int, retryable: bool) -> None:
    failure = from_status(ProviderError(status, "some_error", "it failed"), httpx.Headers({"retry-after": "2"}))
    assert (failure.outcome_class, failure.retryable) == (outcome_class, retryable)
    assert str(status) in failure.detail and not failure.billed and not failure.after_first_token


def test_a_context_overflow_is_its_own_class_whatever_the_status() -> None:
    failure = from_status(
        ProviderError(400, "invalid_request_error", "prompt is too long", context_overflow=True), httpx.Headers()
    )
    assert failure.outcome_class == OC.OUTCOME_CLASS_CONTEXT_OVERFLOW and failure.retryable


def test_rate_limits_carry_their_retry_after() -> None:
    failure = from_status(
        ProviderError(429, "rate_limit_error", "slow down"), httpx.Headers({"retry-after-ms": "1500"})
    )
    assert failure.retry_after_s == 1.5


@pytest.mark.parametrize(
    ("error", "outcome_class"),
    [
        (httpx.ConnectError("refused"), OC.OUTCOME_CLASS_SERVER_ERROR),
        (httpx.ConnectTimeout("slow"), OC.OUTCOME_CLASS_TIMEOUT),
        (httpx.ReadTimeout("stalled"), OC.OUTCOME_CLASS_TIMEOUT),
        (httpx.RemoteProtocolError("cut"), OC.OUTCOME_CLASS_SERVER_ERROR),
        (IncompleteStreamError("ended"), OC.OUTCOME_CLASS_SERVER_ERROR),
        (ProviderStreamError("overloaded_error", "busy"), OC.OUTCOME_CLASS_SERVER_ERROR),
        (DialectError("bad json", path="choices"), OC.OUTCOME_CLASS_SERVER_ERROR),
    ],
)
def test_transport_and_stream_errors(error: Exception, outcome_class: int) -> None:
    before = from_exception(error, responded=False, after_first_token=False)
    after = from_exception(error, responded=True, after_first_token=True)
    assert before.outcome_class == after.outcome_class == outcome_class
    assert not before.after_first_token and after.after_first_token
    assert after.billed, "once the provider answered, the prompt may have been billed"


def test_an_unexpected_exception_is_not_swallowed() -> None:
    with pytest.raises(KeyError):
        from_exception(KeyError("bug"), responded=False, after_first_token=False)
