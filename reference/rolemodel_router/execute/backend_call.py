"""One attempt: a single HTTP call to one endpoint, streamed back as canonical deltas.

The attempt knows nothing about fallbacks. It yields the deltas the backend sends and, when it
fails, raises one :class:`AttemptFailure` that says whether any delta had been yielded: that one
bit decides whether the executor may still try elsewhere (RM-EXEC-010, RM-EXEC-011).
"""

from __future__ import annotations

import time
from collections.abc import AsyncGenerator
from contextlib import aclosing
from functools import lru_cache
from typing import Any

import httpx

from rolemodel.dialects.canonical import Completion
from rolemodel.dialects.deltas import message_to_deltas
from rolemodel.dialects.errors import DialectError, ProviderStreamError
from rolemodel.dialects.json_fields import loads_object
from rolemodel.usage_headers import UsageReport, is_usage_header, parse_usage_headers
from rolemodel.v1 import common_pb2, router_service_pb2
from rolemodel_router.execute.credentials import PlanUsage
from rolemodel_router.execute.dialect import Dialect, StreamDecoder
from rolemodel_router.execute.failures import AttemptFailure, from_exception, from_status
from rolemodel_router.execute.in_hand import batches_in_hand
from rolemodel_router.execute.settings import ExecuteSettings

HTTP_OK = 200
_TRANSPORT_ERRORS = (httpx.HTTPError, DialectError, ProviderStreamError, TimeoutError)


class BackendAttempt:
    """Iterate :meth:`delta_batches`; then :attr:`completion` holds the answer and :attr:`ttft_ms` its first token."""

    def __init__(
        self,
        http: httpx.AsyncClient,
        dialect: Dialect,
        body: dict[str, Any],
        headers: dict[str, str],
        settings: ExecuteSettings,
        time_limit_s: float,
        plan_usage: PlanUsage | None = None,
    ) -> None:
        self._http = http
        self._dialect = dialect
        self._body = body
        self._headers = headers  # holds a key or the client's credential: never logged
        self._settings = settings
        self._time_limit_s = time_limit_s
        #: Set only when the call carries the client's own credential: the plan's usage goes back to it.
        self._plan_usage = plan_usage
        self.completion: Completion | None = None
        self.ttft_ms = 0
        self.delta_count = 0
        #: The usage windows the provider reported with its answer (spec 9.8), read from its headers.
        self.usage_reports: list[UsageReport] = []
        #: The backend's response headers once it answered (rate-limit and usage-window headers live there).
        self.response_headers: httpx.Headers | None = None

    @property
    def dialect(self) -> Dialect:
        return self._dialect

    def _timeout(self, started: float) -> httpx.Timeout:
        """Each read waits at most the stall timeout, and never past the call's time limit."""
        left = self._time_limit_s - (time.perf_counter() - started)
        if left <= 0:
            raise TimeoutError("the call's time limit passed")
        read = min(self._settings.stall_timeout_s, left)
        return httpx.Timeout(read, connect=min(self._settings.connect_timeout_s, left))

    async def delta_batches(self) -> AsyncGenerator[list[router_service_pb2.ContentDelta], None]:
        """The answer's deltas, in the batches that one read of the backend's stream brought.

        A batch is what is in hand at once (the chunks that one network read brought, see
        :mod:`.in_hand`): a relay can send it in one write instead of one write per delta, and
        waits for nothing to do so. A batch is never empty.
        """
        started = time.perf_counter()
        responded = False
        try:
            request = self._http.build_request(
                "POST",
                parsed_url(self._dialect.url),
                json=self._body,
                headers=self._headers,
                timeout=self._timeout(started),
            )
            response = await self._http.send(request, stream=True)
            self.response_headers = response.headers
            if self._plan_usage is not None:
                self._plan_usage.headers = {k: v for k, v in response.headers.items() if is_usage_header(k)}
            try:
                if response.status_code != HTTP_OK:
                    error_body = await response.aread()
                    raise from_status(self._dialect.decode_error(response.status_code, error_body), response.headers)
                responded = True
                self.usage_reports = parse_usage_headers(response.headers, time.time_ns() // 1_000_000)
                if self._dialect.streams:
                    async with aclosing(self._stream(response, started)) as stream:
                        async for batch in stream:
                            yield batch
                else:
                    body = loads_object(await response.aread(), "response")
                    self.completion = self._dialect.decode_response(body)
                    self._first_token(started)
                    deltas = list(message_to_deltas(self.completion.message))
                    self.delta_count += len(deltas)
                    if deltas:
                        yield deltas
            finally:
                await response.aclose()
        except _TRANSPORT_ERRORS as error:
            raise from_exception(error, responded=responded, after_first_token=self.delta_count > 0) from None

    async def _stream(
        self, response: httpx.Response, started: float
    ) -> AsyncGenerator[list[router_service_pb2.ContentDelta], None]:
        decoder = self._dialect.stream_decoder()
        async with aclosing(batches_in_hand(response.aiter_bytes())) as reads:
            async for chunks in reads:
                pending: list[bytes] | None = chunks
                while pending:
                    # Until the first token, a read is decoded only up to the chunk that brings it, which
                    # leaves at once: a backend that sends its whole answer in one read would otherwise
                    # hold the first token back until every chunk after it had been decoded and encoded.
                    deltas, broken, pending = decode_chunks(decoder, pending, until_first_delta=self.delta_count == 0)
                    self._take_plan_events(decoder)
                    if deltas:
                        if self.delta_count == 0:
                            self._first_token(started)
                        self.delta_count += len(deltas)
                        yield deltas
                    if broken is not None:  # after the deltas before it, which the client may have already
                        raise broken
                if time.perf_counter() - started > self._time_limit_s:
                    raise TimeoutError("the call's time limit passed")
        self.completion = decoder.completion()

    def _take_plan_events(self, decoder: object) -> None:
        """Move the decoder's ``codex.rate_limits`` events (Responses only) to the client's plan usage, if set."""
        pending: list[dict[str, Any]] | None = getattr(decoder, "rate_limit_events", None)
        if not pending:
            return
        if self._plan_usage is not None:
            self._plan_usage.events.extend(pending)
        pending.clear()

    def _first_token(self, started: float) -> None:
        self.ttft_ms = max(1, round((time.perf_counter() - started) * 1000))


@lru_cache(maxsize=1024)
def parsed_url(url: str) -> httpx.URL:
    """An endpoint's URL, parsed once: httpx parses a string on every request, half of building one."""
    return httpx.URL(url)


def decode_chunks(
    decoder: StreamDecoder, chunks: list[bytes], *, until_first_delta: bool = False
) -> tuple[list[router_service_pb2.ContentDelta], DialectError | ProviderStreamError | None, list[bytes] | None]:
    """The deltas of ``chunks``, the error that stopped the decoding (if one did, after them), and the chunks left.

    With ``until_first_delta`` the decoding stops after the first chunk that brings a delta, and
    the chunks after it are left for the next call; otherwise none are left.
    """
    deltas: list[router_service_pb2.ContentDelta] = []
    for position, chunk in enumerate(chunks):
        try:
            deltas += decoder.feed_bytes(chunk)
        except (DialectError, ProviderStreamError) as error:
            return deltas, error, None
        if until_first_delta and deltas:
            return deltas, None, chunks[position + 1 :]
    return deltas, None, None


def encode_failure(error: DialectError) -> AttemptFailure:
    """The request cannot be written in this endpoint's dialect: no call is made, and the endpoint is not to blame."""
    return AttemptFailure(
        common_pb2.OUTCOME_CLASS_SERVER_ERROR,
        f"the conversation cannot be sent in this endpoint's dialect: {error}",
        blames_endpoint=False,
    )
