"""Execute (spec chapter 10): route, hand off, call the backend, fall back, stream, record.

One :class:`Executor` per router holds the HTTP connection pool. Each call is a :class:`_Call`
that walks the decision's chosen endpoint and fallbacks in order. The rules that keep a call
bounded and honest:

- every attempt opens with an ``attempt_started`` event naming its endpoint (RM-EXEC-008), so a
  client knows whose words it reads without replaying the fallback order;
- deltas reach the client only from the attempt that is streaming; an attempt that fails before
  its first delta leaves no trace but an ``attempt_failed`` event, so the next one can start clean;
- once a delta has gone out, nothing is retried elsewhere (the client would see two answers);
- no endpoint is tried twice, at most ``max_attempts`` are tried, and an attempt that may have
  been billed counts against the turn budget;
- whatever happens, the decision's outcome is recorded once, also when the client goes away;
- events travel in batches of what is in hand at once, for a relay to send each in one write.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncGenerator, Coroutine
from contextlib import aclosing
from dataclasses import replace
from typing import TYPE_CHECKING, Any

import httpx

from rolemodel.dialects.accumulator import StreamAccumulator
from rolemodel.dialects.canonical import CanonicalRequest
from rolemodel.dialects.errors import DialectError
from rolemodel.error_reasons import ErrorReason
from rolemodel.v1 import common_pb2, conversation_pb2, decision_pb2, outcome_pb2, router_service_pb2
from rolemodel_router.deadlines import CommitDeadline
from rolemodel_router.engine.errors import RouterError
from rolemodel_router.engine.route_input import RouteInput
from rolemodel_router.engine.verified_prefix import Wire
from rolemodel_router.execute.backend_call import BackendAttempt, encode_failure
from rolemodel_router.execute.credentials import NO_CREDENTIAL, ClientCredential
from rolemodel_router.execute.deadline import DeadlineReached, next_before_deadline
from rolemodel_router.execute.dialect import Dialect, namespace_of_calls
from rolemodel_router.execute.failures import AttemptFailure
from rolemodel_router.execute.http_pool import backend_client
from rolemodel_router.execute.key_variables import unconfigured_endpoints
from rolemodel_router.execute.recording import (
    add_measured_speeds,
    idempotency_key,
    record_failed_attempt,
    usage_from_timings,
    usage_or_estimate,
    usage_window_reports,
)
from rolemodel_router.execute.request_check import build_execute_input
from rolemodel_router.execute.settings import DEFAULT_CALL_TIMEOUT_S, ExecuteSettings
from rolemodel_router.execute.summary import summary_message, summary_request
from rolemodel_router.handoff import HandoffTarget, apply_handoff
from rolemodel_router.handoff.compaction import compaction_for
from rolemodel_router.tenancy import check_pin, scoped

if TYPE_CHECKING:
    from rolemodel_router.core import RouterCore

log = logging.getLogger("rolemodel.execute")
E = router_service_pb2
#: A cancellation this close to the deadline is recorded as a timeout (RM-EXEC-013).
DEADLINE_TOLERANCE_S = 0.1


class Executor:
    def __init__(self, core: RouterCore, settings: ExecuteSettings) -> None:
        self.core = core
        self.settings = settings
        self._http: httpx.AsyncClient | None = None
        self._background: set[asyncio.Task[None]] = set()

    @property
    def http(self) -> httpx.AsyncClient:
        """One pool for every backend, opened on first use so that it belongs to the serving loop."""
        if self._http is None:
            self._http = backend_client()
        return self._http

    async def aclose(self) -> None:
        """Waits for outcomes still being recorded, then closes the pool."""
        if self._background:
            await asyncio.gather(*self._background, return_exceptions=True)
        if self._http is not None:
            await self._http.aclose()
            self._http = None

    def in_background(self, work: Coroutine[Any, Any, None]) -> None:
        """Runs ``work`` to completion even though the call that started it is being torn down."""

        async def run() -> None:
            try:
                await work
            except Exception:
                log.exception("recording an Execute outcome failed")

        task = asyncio.get_running_loop().create_task(run())
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    async def execute(
        self,
        request: E.ExecuteRequest,
        *,
        deadline_s: float | None = None,
        credential: ClientCredential = NO_CREDENTIAL,
        data: bytes | None = None,
    ) -> AsyncGenerator[E.ExecuteResponse, None]:
        """The event stream of one Execute, one event at a time (see :meth:`execute_batches`)."""
        batches = self.execute_batches(request, deadline_s=deadline_s, credential=credential, data=data)
        async with aclosing(batches):
            async for batch in batches:
                for event in batch:
                    yield event

    async def execute_batches(
        self,
        request: E.ExecuteRequest,
        *,
        deadline_s: float | None = None,
        credential: ClientCredential = NO_CREDENTIAL,
        data: bytes | None = None,
        compact_candidates: bool = False,
    ) -> AsyncGenerator[list[E.ExecuteResponse], None]:
        """The event stream of one Execute, in batches; ``deadline_s`` is the time the caller allows from now.

        ``data`` is the request as received, when the transport kept it: the conversation's messages
        verified on its previous request are found in it and not read again. ``compact_candidates``
        routes as a Route request that sets it does (RM-ROUTE-012).
        """
        deadline = None if deadline_s is None else time.monotonic() + deadline_s
        memo_key = scoped(request.conversation.conversation_id)  # per principal (spec 12.5)
        known = self.core.prefixes.get(memo_key)
        wire = Wire.of_request(data) if data is not None else None
        _, checked = build_execute_input(request, self.core.index, self.core.limits, credential.names, known, wire)
        check_pin(self.core.index, checked.pinned)
        self.core.prefixes.remember(checked.verified, key=memo_key)
        unconfigured = unconfigured_endpoints(self.core.index.catalog, self.settings.environ)
        route_input = checked
        if unconfigured or compact_candidates:
            route_input = replace(checked, unconfigured=unconfigured, compact_candidates=compact_candidates)
        # Measured from the call's start: the time spent validating counts against its deadline.
        commit_by = CommitDeadline(deadline, self.core.deadline_margin_s)
        decision = await self.core.route(route_input, commit_by)
        call = _Call(self, request, route_input, decision, deadline, credential)
        yield [E.ExecuteResponse(started=E.ExecuteStarted(decision=decision))]
        async with aclosing(call.run()) as batches:
            async for batch in batches:
                yield batch


class _Call:
    """One Execute call in progress."""

    def __init__(
        self,
        executor: Executor,
        request: E.ExecuteRequest,
        route_input: RouteInput,
        decision: decision_pb2.Decision,
        deadline: float | None,
        credential: ClientCredential,
    ) -> None:
        self.executor = executor
        self.credential = credential
        self.core = executor.core
        self.settings = executor.settings
        self.request = request
        self.route_input = route_input
        self.decision = decision
        self.deadline = deadline
        self.started = time.perf_counter()
        self.failures: list[tuple[str, AttemptFailure]] = []
        self.current = decision.chosen_endpoint_id
        self.partial = StreamAccumulator()
        self.outcome_reported = False
        self.candidates = {c.endpoint_id: c for c in decision.candidates}
        self.summaries: dict[tuple[int, ...], conversation_pb2.Message | None] = {}
        self.namespaces = namespace_of_calls(list(request.conversation.tools))

    # -- the attempts --------------------------------------------------------------------------

    async def run(self) -> AsyncGenerator[list[E.ExecuteResponse], None]:
        """The events after ``started``; closing it early (cancellation, a client gone) closes the backend call."""
        attempted = streamed = False
        async with aclosing(self._attempts()) as batches:
            try:
                while True:
                    try:
                        batch = await next_before_deadline(batches, self.deadline)
                    except StopAsyncIteration:
                        return
                    except DeadlineReached:
                        yield [self._deadline_passed(attempted=attempted, after_first_token=streamed)]
                        return
                    attempted = attempted or any(event.HasField("attempt_started") for event in batch)
                    streamed = streamed or any(event.HasField("delta") for event in batch)
                    yield batch
            except (asyncio.CancelledError, GeneratorExit):
                self._record_abandoned()
                raise

    async def _attempts(self) -> AsyncGenerator[list[E.ExecuteResponse], None]:
        order = [self.decision.chosen_endpoint_id, *self.decision.fallback_endpoint_ids]
        budget = self.decision.policy.turn_budget_picos
        spent = 0
        overflowed_at: int | None = None
        reason = ErrorReason.BACKEND_UNAVAILABLE
        for endpoint_id in order:
            if len(self.failures) >= self.settings.max_attempts:
                break
            window = self.core.index.endpoints[endpoint_id].endpoint.context_window_tokens
            if overflowed_at is not None and window <= overflowed_at:
                continue  # a context overflow is only worth retrying on a larger window
            estimate = self._estimate(endpoint_id)
            if budget and spent + estimate > budget:
                reason = ErrorReason.BUDGET_EXHAUSTED
                break
            self.current = endpoint_id
            number = len(self.failures) + 1
            yield [E.ExecuteResponse(attempt_started=E.AttemptStarted(attempt=number, endpoint_id=endpoint_id))]
            attempt: BackendAttempt | None = None
            try:
                attempt = await self._attempt(endpoint_id)
                restore = bool(self.namespaces) and not attempt.dialect.responses
                async with aclosing(attempt.delta_batches()) as batches:
                    async for deltas in batches:
                        for delta in deltas:
                            if restore and delta.HasField("tool_call"):
                                delta.tool_call.namespace = delta.tool_call.namespace or self.namespaces.get(
                                    delta.tool_call.name, ""
                                )
                            self.partial.add(delta)
                        yield [E.ExecuteResponse(delta=delta) for delta in deltas]
            except AttemptFailure as failure:
                if failure.after_first_token:
                    yield [await self._interrupted(endpoint_id, failure)]
                    return
                self.failures.append((endpoint_id, failure))
                failed = E.AttemptFailed(
                    attempt=number, endpoint_id=endpoint_id, outcome_class=failure.outcome_class, detail=failure.detail
                )
                yield [E.ExecuteResponse(attempt_failed=failed)]
                spent += estimate if failure.billed else 0
                if failure.outcome_class == common_pb2.OUTCOME_CLASS_CONTEXT_OVERFLOW:
                    overflowed_at = window
                if not failure.retryable:
                    reason = ErrorReason.BACKEND_REJECTED
                    break
                continue
            yield [await self._completed(endpoint_id, attempt)]
            return
        yield [await self._all_failed(reason)]

    async def _attempt(self, endpoint_id: str) -> BackendAttempt:
        """The call to one endpoint, with the handoff for that endpoint; raises AttemptFailure if it cannot start."""
        endpoint = self.core.index.endpoints[endpoint_id].endpoint
        candidate = self.candidates.get(endpoint_id)
        output_tokens = candidate.cost.output_tokens if candidate is not None else 0
        compaction = compaction_for(endpoint, self.route_input, output_tokens)
        handoff = apply_handoff(
            self.route_input.messages, HandoffTarget.of(endpoint), self.route_input.role.role.handoff, compaction
        )
        messages: list[conversation_pb2.Message] = list(handoff.messages)
        if compaction is not None and handoff.summary_at is not None:
            summary = await self._summary(compaction.dropped)
            if summary is not None:
                messages.insert(handoff.summary_at, summary)
        connection = endpoint.connection
        if not connection.base_url:
            raise AttemptFailure(common_pb2.OUTCOME_CLASS_SERVER_ERROR, "the catalog gives no base_url for it")
        api_key = None
        forwarded: dict[str, str] = {}
        if connection.client_credential_headers:
            # A subscription: the client's own login, and nothing of the router's (spec 12.4).
            client_headers = self.credential.headers_for(connection.client_credential_headers)
            if client_headers is None:  # the decision excluded it; a fallback list is never stale, but be sure
                raise AttemptFailure(
                    common_pb2.OUTCOME_CLASS_SERVER_ERROR,
                    "it is called with the client's own credential, and the call carries none",
                    blames_endpoint=False,
                )
            forwarded = client_headers
        elif connection.api_key_env:
            api_key = self.settings.environ.get(connection.api_key_env)
            if not api_key:
                raise AttemptFailure(
                    common_pb2.OUTCOME_CLASS_SERVER_ERROR,
                    f"the environment variable {connection.api_key_env} that holds its API key is not set",
                )
        dialect = Dialect.of(endpoint)
        canonical = CanonicalRequest(
            model=endpoint.model,
            messages=messages,
            tools=list(self.request.conversation.tools),
            params=self.request.params,
            stream=dialect.streams,
        )
        slot = candidate.cache.slot if candidate is not None and candidate.cache.HasField("slot") else None
        try:
            body = dialect.encode(canonical, slot=slot)
        except DialectError as error:
            raise encode_failure(error) from None
        limit = connection.timeout_ms / 1000 if connection.timeout_ms else DEFAULT_CALL_TIMEOUT_S
        if self.deadline is not None:
            limit = min(limit, self.deadline - time.monotonic())
        headers = {**dialect.headers(api_key), **dialect.passthrough_headers(self.request.params), **forwarded}
        plan_usage = self.credential.plan_usage if forwarded else None  # the client's plan, never the router's
        return BackendAttempt(self.executor.http, dialect, body, headers, self.settings, limit, plan_usage)

    async def _summary(self, dropped: tuple[int, ...]) -> conversation_pb2.Message | None:
        """Spec 8.6: the dropped turns, summarised through the summarize role as an isolated side request.

        A summary that cannot be made (no summarize role, or its call failed) leaves the tail window
        alone, which is still a valid prompt; the side request's own decision records why.
        """
        if dropped in self.summaries:
            return self.summaries[dropped]
        summary: conversation_pb2.Message | None = None
        try:
            remaining = None if self.deadline is None else self.deadline - time.monotonic()
            request = summary_request(self.route_input, dropped)
            async with aclosing(self.executor.execute(request, deadline_s=remaining)) as events:
                async for event in events:
                    if event.HasField("completed"):
                        summary = summary_message(event.completed.message) or summary
        except RouterError as error:
            log.warning("no summary for a compacted conversation", extra={"reason": error.reason.value})
        self.summaries[dropped] = summary
        return summary

    def _estimate(self, endpoint_id: str) -> int:
        candidate = self.candidates.get(endpoint_id)
        return candidate.cost.total_picos if candidate is not None else 0

    def _prompt_tokens(self, endpoint_id: str) -> int:
        candidate = self.candidates.get(endpoint_id)
        if candidate is not None and candidate.cost.prompt_tokens:
            return candidate.cost.prompt_tokens
        return self.route_input.prompt_tokens

    def _elapsed_ms(self) -> int:
        return round((time.perf_counter() - self.started) * 1000)

    # -- endings -------------------------------------------------------------------------------

    async def _record_earlier_failures(self, *, all_counted: bool) -> None:
        now = self.core.clock()
        for number, (endpoint_id, failure) in enumerate(self.failures):
            counted = all_counted or number < len(self.failures) - 1
            await record_failed_attempt(self.core.store, endpoint_id, failure, now, count=counted)

    async def _report(self, outcome: outcome_pb2.Outcome) -> outcome_pb2.OutcomeEffects:
        """Records the outcome through ReportOutcome's own path (RM-EXEC-003); a store failure is logged, not raised."""
        self.outcome_reported = True
        try:
            response = await self.core.report(outcome, executed=True)
        except RouterError as error:
            log.warning(
                "the outcome of an executed decision was not recorded",
                extra={"decision_id": outcome.decision_id, "reason": error.reason.value},
            )
            return outcome_pb2.OutcomeEffects(served_endpoint_id=outcome.served_endpoint_id)
        return response.effects

    def _outcome(
        self,
        endpoint_id: str,
        outcome_class: common_pb2.OutcomeClass.ValueType,
        usage: outcome_pb2.Usage,
        ttft_ms: int,
        detail: str,
    ) -> outcome_pb2.Outcome:
        return outcome_pb2.Outcome(
            decision_id=self.decision.decision_id,
            served_endpoint_id=endpoint_id,
            usage=usage,
            ttft_ms=ttft_ms,
            latency_ms=self._elapsed_ms(),
            outcome_class=outcome_class,
            idempotency_key=idempotency_key(self.decision.decision_id),
            detail=detail[:1000],
        )

    async def _completed(self, endpoint_id: str, attempt: BackendAttempt | None) -> E.ExecuteResponse:
        if attempt is None or attempt.completion is None:
            raise RuntimeError("an attempt that ended without failing always has its completion")
        completion = attempt.completion
        message = completion.message
        message.origin_endpoint_id = endpoint_id
        if not attempt.dialect.responses:
            for part in message.parts:
                if part.HasField("tool_call") and not part.tool_call.namespace:
                    part.tool_call.namespace = self.namespaces.get(part.tool_call.name, "")
        usage, estimated = usage_or_estimate(usage_from_timings(completion), self._prompt_tokens(endpoint_id), message)
        detail = "the provider reported no usage; it is estimated" if estimated else ""
        await self._record_earlier_failures(all_counted=True)
        outcome = self._outcome(endpoint_id, common_pb2.OUTCOME_CLASS_SUCCESS, usage, attempt.ttft_ms, detail)
        outcome.usage_windows.extend(usage_window_reports(attempt.usage_reports))
        add_measured_speeds(outcome, completion.timings)
        effects = await self._report(outcome)
        return E.ExecuteResponse(
            completed=E.ExecuteCompleted(
                decision_id=self.decision.decision_id,
                served_endpoint_id=endpoint_id,
                message=message,
                usage=usage,
                reported_cost=effects.reported_cost,
                ttft_ms=attempt.ttft_ms,
                latency_ms=self._elapsed_ms(),
                finish_reason=completion.finish_reason,
                effects=effects,
            )
        )

    def _partial_usage(self, endpoint_id: str) -> outcome_pb2.Usage:
        usage, _ = usage_or_estimate(None, self._prompt_tokens(endpoint_id), self.partial.message())
        return usage

    async def _interrupted(self, endpoint_id: str, failure: AttemptFailure) -> E.ExecuteResponse:
        """RM-EXEC-011: after the first token, the call ends here; the partial answer is not resumed elsewhere."""
        await self._record_earlier_failures(all_counted=True)
        await self._report(
            self._outcome(endpoint_id, failure.outcome_class, self._partial_usage(endpoint_id), 0, failure.detail)
        )
        return E.ExecuteResponse(
            failed=E.ExecuteFailed(
                decision_id=self.decision.decision_id,
                outcome_class=failure.outcome_class,
                reason=ErrorReason.BACKEND_STREAM_INTERRUPTED.value,
                detail=f"'{endpoint_id}' failed after the answer had started: {failure.detail}",
                after_first_token=True,
                served_endpoint_id=endpoint_id,
            )
        )

    async def _all_failed(self, reason: ErrorReason) -> E.ExecuteResponse:
        """RM-EXEC-012: each allowed attempt failed before its first token, or the budget or a rejection ended them."""
        if self.failures:
            endpoint_id, last = self.failures[-1]
            await self._record_earlier_failures(all_counted=False)
            await self._report(self._outcome(endpoint_id, last.outcome_class, outcome_pb2.Usage(), 0, last.detail))
            outcome_class = last.outcome_class
        else:  # nothing was attempted, so nothing is named as served (RM-EXEC-008)
            endpoint_id, outcome_class = "", common_pb2.OUTCOME_CLASS_SERVER_ERROR
        tried = ", ".join(f"'{e}' ({f.detail})" for e, f in self.failures) or "nothing"
        if reason == ErrorReason.BUDGET_EXHAUSTED:
            detail = f"the next fallback would exceed the turn budget; tried {tried}"
        elif reason == ErrorReason.BACKEND_REJECTED:
            detail = f"the endpoint rejected the request itself: {tried}"
        else:
            detail = f"{len(self.failures)} attempt(s) failed before the first token: {tried}"
        return E.ExecuteResponse(
            failed=E.ExecuteFailed(
                decision_id=self.decision.decision_id,
                outcome_class=outcome_class,
                reason=reason.value,
                detail=detail,
                after_first_token=False,
                served_endpoint_id=endpoint_id,
            )
        )

    def _deadline_passed(self, *, attempted: bool, after_first_token: bool) -> E.ExecuteResponse:
        """RM-EXEC-018: the deadline is about to pass; the router, not the client's library, ends the stream."""
        outcome_class = self._record_abandoned()
        return E.ExecuteResponse(
            failed=E.ExecuteFailed(
                decision_id=self.decision.decision_id,
                outcome_class=outcome_class,
                reason=ErrorReason.STREAM_DEADLINE_EXCEEDED.value,
                detail=f"the call's deadline passed before the answer was complete ({len(self.failures)} failed)",
                after_first_token=after_first_token,
                served_endpoint_id=self.current if attempted else "",
            )
        )

    def _record_abandoned(self) -> common_pb2.OutcomeClass.ValueType:
        """RM-EXEC-013: the client went away or the deadline passed; the backend call is already being closed."""
        # The call's own deadline fires a moment before the one computed from time_remaining() at
        # its start, so a cancellation that close to it is the deadline, not the client.
        timed_out = self.deadline is not None and time.monotonic() >= self.deadline - DEADLINE_TOLERANCE_S
        outcome_class = common_pb2.OUTCOME_CLASS_TIMEOUT if timed_out else common_pb2.OUTCOME_CLASS_CANCELLED
        if self.outcome_reported:
            return outcome_class
        self.outcome_reported = True
        why = "the call's deadline passed" if timed_out else "the client cancelled the call"
        outcome = self._outcome(self.current, outcome_class, self._partial_usage(self.current), 0, why)

        async def record() -> None:
            await self._record_earlier_failures(all_counted=True)
            await self._report(outcome)

        self.executor.in_background(record())
        return outcome_class
