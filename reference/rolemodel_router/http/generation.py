"""One generation request through the front door: decode, hint, execute, answer (spec 14.1 to 14.7).

The order matters and is the same for both dialects:

1. authenticate and check a ``rolemodel-version`` header if one is sent, before reading the body;
2. read and decode the body, resolve the hints (headers, then model alias, then the catalog's
   client model rules) and check the token's role scope;
3. start ``Execute`` and read it up to its first delta or its end. Until then nothing is sent, so
   a refusal, or a failure of every attempt before the first token, is an ordinary HTTP error in
   the dialect's shape, with the decision's headers when there was a decision. The endpoint those
   headers name is the one the latest ``attempt_started`` event named: the attempt that streams,
   or the last one that failed; never an endpoint the router did not try;
4. answer: a non-streaming request waits for ``completed``; a streaming one sends its headers
   and then each delta as it arrives, the deltas that arrive together in one write. A failure
   after that can only end the stream with the dialect's error event.

A client that goes away closes the Execute stream, so the router cancels the backend call and
records the outcome as cancelled. Nothing here is logged with message content (RM-SEC-011).
"""

from __future__ import annotations

import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any, TypeVar

import anyio
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse

from rolemodel.dialects.canonical import CanonicalRequest, Completion
from rolemodel.dialects.errors import DialectError
from rolemodel.error_reasons import ErrorReason
from rolemodel.v1 import decision_pb2, router_service_pb2
from rolemodel_router.engine.errors import RouterError, Violations
from rolemodel_router.execute.credentials import ClientCredential
from rolemodel_router.execute.failures import failed_event_error
from rolemodel_router.http import response_headers
from rolemodel_router.http.anthropic_routes import carry_beta_header
from rolemodel_router.http.auth import authenticate, token_header
from rolemodel_router.http.body import read_json
from rolemodel_router.http.dialect import DialectCodec, StreamWriter
from rolemodel_router.http.errors import Dialect, HttpError, error_response, internal_error
from rolemodel_router.http.execute_request import build_execute_request
from rolemodel_router.http.front_door import ExecuteEvents, FrontDoor, act_as
from rolemodel_router.http.hints import check_version, explain_requested, missing_role_error, resolve_hints
from rolemodel_router.http.model_names import RoleSource, route_for_model

log = logging.getLogger("rolemodel.router")
SSE_HEADERS = {"cache-control": "no-cache", "x-accel-buffering": "no"}
#: Sent (to nobody) when the client closed the connection before the answer: nginx's convention.
CLIENT_CLOSED_REQUEST = 499
T = TypeVar("T")


@dataclass(slots=True)
class Head:
    """The start of an Execute stream: its decision, the attempts begun and failed, and the event after them."""

    decision: decision_pb2.Decision
    attempts: list[router_service_pb2.AttemptStarted]
    failures: list[router_service_pb2.AttemptFailed]
    event: router_service_pb2.ExecuteResponse

    @property
    def kind(self) -> str | None:
        return self.event.WhichOneof("event")

    @property
    def attempted_endpoint(self) -> str | None:
        """The endpoint of the latest attempt (RM-EXEC-008): the one whose answer follows, or whose failure ended
        the call; None when the router attempted none, so that no response names an endpoint never called."""
        return self.attempts[-1].endpoint_id if self.attempts else None


@dataclass(slots=True)
class Turn:
    """One decoded request, ready to execute."""

    codec: DialectCodec
    canonical: CanonicalRequest
    body: Mapping[str, Any]
    execute_request: router_service_pb2.ExecuteRequest
    role_source: RoleSource | None
    explain: bool
    credential: ClientCredential


def decode(codec: DialectCodec, body: object) -> CanonicalRequest:
    """The canonical request; a body the dialect does not allow is REQUEST_INVALID at its path."""
    try:
        if not isinstance(body, Mapping):
            raise DialectError("a request body is a JSON object")
        return codec.decode(body)
    except DialectError as error:
        where = error.path or "body"
        raise RouterError(
            ErrorReason.REQUEST_INVALID,
            f"the request body is not valid for this API: {error}",
            {"violation_count": "1"},
            Violations.single(where, error.reason),
        ) from None


def failure_error(
    failed: router_service_pb2.ExecuteFailed, attempts: int, decision: decision_pb2.Decision
) -> RouterError:
    """The RouterError of an Execute ``failed`` event, as the gRPC service ends its stream with it."""
    try:
        return failed_event_error(
            failed.reason,
            failed.detail,
            attempts=attempts,
            endpoint_id=failed.served_endpoint_id,
            budget_picos=decision.policy.turn_budget_picos,
        )
    except ValueError:  # a reason this router does not know: its executor broke the contract
        return internal_error()


async def read_head(events: ExecuteEvents) -> Head:
    """Read up to the first event after ``started`` and the ``attempt_started`` and ``attempt_failed`` events.

    Raises the RouterError that validation raised; a stream that breaks its contract (no
    ``started`` first, no end) is an internal error.
    """
    first = await events.next()
    if first is None or first.WhichOneof("event") != "started":
        raise internal_error()
    attempts: list[router_service_pb2.AttemptStarted] = []
    failures: list[router_service_pb2.AttemptFailed] = []
    while (event := await events.next()) is not None:
        kind = event.WhichOneof("event")
        if kind == "attempt_started":
            attempts.append(event.attempt_started)
        elif kind == "attempt_failed":
            failures.append(event.attempt_failed)
        else:
            return Head(first.started.decision, attempts, failures, event)
    raise internal_error()


class Generation:
    """The handler of one dialect's generation endpoint."""

    def __init__(self, front: FrontDoor, codec: DialectCodec) -> None:
        self.front = front
        self.codec = codec

    async def handle(self, request: Request) -> Response:
        try:
            turn = await self._prepare(request)
        except RouterError as error:
            return self._refuse(error)
        except Exception:
            log.exception("http internal error", extra={"dialect": self.codec.dialect.value})
            return self._refuse(internal_error())
        began = time.perf_counter()
        opened: list[ExecuteEvents] = []

        async def start() -> tuple[Head, ExecuteEvents]:
            # may refuse at once: a capability not claimed
            # The decision's candidates in full only where the client sees them (x-rolemodel-explain): the
            # headers, the dashboard and the metrics read only the ladder's, chosen and fallback endpoints.
            batches = self.front.execute(
                turn.execute_request, credential=turn.credential, compact_candidates=not turn.explain
            )
            events = ExecuteEvents(batches)
            opened.append(events)
            return await read_head(events), events

        started = await while_connected(request, start)
        if not isinstance(started, tuple):
            with anyio.CancelScope(shield=True):
                for events in opened:
                    await events.aclose()
            return self._unfinished(started)
        head, events = started
        self.front.observer.decided(head.decision, time.perf_counter() - began, self.codec.dialect.value)
        for failure in head.failures:
            self.front.observer.event(router_service_pb2.ExecuteResponse(attempt_failed=failure))
        headers = response_headers.decision_headers(head.decision, head.attempted_endpoint, turn.role_source)
        headers.update(turn.credential.plan_usage.headers)  # the client's own plan, as its provider said (14.5)
        if head.kind == "failed":
            self.front.observer.event(head.event)
            await events.aclose()
            return self._refuse(failure_error(head.event.failed, len(head.failures), head.decision), headers)
        if turn.canonical.stream:
            return StreamingResponse(
                self._stream(turn, head, events),
                media_type="text/event-stream",
                headers={**SSE_HEADERS, **headers},
            )
        return await self._answer(request, turn, head, events, headers)

    async def _prepare(self, request: Request) -> Turn:
        headers = request.headers
        principal = authenticate(self.front.tokens, headers)
        check_version(headers)
        body = await read_json(request, self.front.max_request_bytes)
        canonical = decode(self.codec, body)
        if self.codec.dialect == Dialect.ANTHROPIC:
            carry_beta_header(headers, canonical)
        resolved = resolve_hints(headers, route_for_model(canonical.model, self.front.rules))
        if not resolved.hints.role:
            raise missing_role_error(canonical.model)
        act_as(principal, resolved.hints.role)
        return Turn(
            codec=self.codec,
            canonical=canonical,
            body=body,
            execute_request=build_execute_request(canonical, resolved.hints, headers),
            role_source=resolved.role_source,
            explain=explain_requested(headers),
            credential=ClientCredential.from_http(
                headers, self.front.credential_headers, token_header(self.front.tokens, headers)
            ),
        )

    def _unfinished(self, why: Exception | None, headers: dict[str, str] | None = None) -> Response:
        """The answer to a call that ended in an exception, or whose client left (``why`` is None)."""
        if why is None:
            return Response(status_code=CLIENT_CLOSED_REQUEST)  # nobody reads it
        if isinstance(why, RouterError):
            return self._refuse(why, headers)
        log.error("http internal error", exc_info=why, extra={"dialect": self.codec.dialect.value})
        return self._refuse(internal_error(), headers)

    def _refuse(self, error: RouterError, headers: dict[str, str] | None = None) -> JSONResponse:
        self.front.observer.refused(error.reason.value, error.message, self.codec.dialect.value)
        return error_response(self.codec.dialect, error, headers)

    async def _answer(
        self, request: Request, turn: Turn, head: Head, events: ExecuteEvents, headers: dict[str, str]
    ) -> Response:
        """Wait for the whole answer, giving up (and cancelling the call) if the client goes away."""
        try:
            final = await while_connected(request, lambda: _last_event(head, events))
        finally:
            with anyio.CancelScope(shield=True):
                await events.aclose()
        if not isinstance(final, router_service_pb2.ExecuteResponse):
            return self._unfinished(final, headers)
        self.front.observer.event(final)
        if final.WhichOneof("event") == "failed":
            return self._refuse(failure_error(final.failed, len(head.failures), head.decision), headers)
        completed = final.completed
        completion = Completion(
            message=completed.message,
            finish_reason=completed.finish_reason,
            usage=completed.usage,
            model=turn.canonical.model,
            response_id=turn.codec.response_id(head.decision.decision_id),
        )
        try:
            body = turn.codec.encode(completion, turn.body)
        except DialectError:
            log.exception("http answer not encodable", extra={"dialect": self.codec.dialect.value})
            return self._refuse(internal_error(), headers)
        body["rolemodel"] = _summary(completed, head.decision if turn.explain else None)
        return JSONResponse(body, headers={**headers, **response_headers.completion_headers(completed)})

    async def _stream(self, turn: Turn, head: Head, events: ExecuteEvents) -> AsyncIterator[bytes]:
        """The SSE body: opening frames, each delta as it comes, then the closing or error frames.

        The frames of the events in hand go out together, in one write, as soon as nothing more is
        in hand: a delta never waits for the next one.
        """
        writer = turn.codec.writer(turn.codec.response_id(head.decision.decision_id), turn.canonical.model, turn.body)
        frames: list[bytes] = []
        try:
            frames.append(
                writer.opening({"decision": response_headers.proto_json(head.decision)} if turn.explain else None)
            )
            event: router_service_pb2.ExecuteResponse | None = head.event
            while True:
                if event is None:  # the stream ended without its last event: the executor broke its contract
                    frames.append(writer.error(HttpError.of(internal_error())))
                    break
                frame, last = self._frame(turn, head, writer, event)
                frames.append(frame)
                if last:
                    break
                if not events.in_hand:
                    yield b"".join(frames)
                    frames.clear()
                event = await events.next()
        except Exception as error:  # the status is sent; only an error event can still say so
            log.exception("http stream failed", extra={"dialect": self.codec.dialect.value})
            failure = error if isinstance(error, RouterError) else internal_error()
            frames.append(writer.error(HttpError.of(failure)))
        finally:
            with anyio.CancelScope(shield=True):
                await events.aclose()
        yield b"".join(frames)

    def _frame(
        self, turn: Turn, head: Head, writer: StreamWriter, event: router_service_pb2.ExecuteResponse
    ) -> tuple[bytes, bool]:
        """One event's frames, and whether it ends the stream."""
        kind = event.WhichOneof("event")
        frames = writer.plan_usage(turn.credential.plan_usage.take_events())
        if kind == "delta":
            return frames + writer.delta(event.delta), False
        if kind == "completed":
            self.front.observer.event(event)
            return frames + writer.closing(event.completed, _summary(event.completed, None)), True
        if kind == "failed":
            self.front.observer.event(event)
            error = failure_error(event.failed, len(head.failures), head.decision)
            self.front.observer.refused(error.reason.value, error.message, self.codec.dialect.value)
            return frames + writer.error(HttpError.of(error)), True
        return frames, False


async def _last_event(head: Head, events: ExecuteEvents) -> router_service_pb2.ExecuteResponse:
    """The ``completed`` or ``failed`` event that ends the stream."""
    event: router_service_pb2.ExecuteResponse | None = head.event
    while event is not None:
        if event.WhichOneof("event") in ("completed", "failed"):
            return event
        event = await events.next()
    raise internal_error()


async def _cancel_on_disconnect(request: Request, scope: anyio.CancelScope) -> None:
    """Cancel ``scope`` when the client closes the connection (the body has been read already)."""
    while True:
        message = await request.receive()
        if message["type"] == "http.disconnect":
            scope.cancel()
            return


async def while_connected(request: Request, work: Callable[[], Awaitable[T]]) -> T | Exception | None:
    """``work``'s result or the exception it raised; None when the client left first and ``work`` was cancelled.

    Before a response starts nothing else notices a client that goes away, and a backend slow to
    give its first token would keep the call going for nobody.
    """
    outcome: list[T | Exception] = []
    async with anyio.create_task_group() as group:
        group.start_soon(_cancel_on_disconnect, request, group.cancel_scope)
        try:
            outcome.append(await work())
        except Exception as error:  # returned, so that it leaves the task group unwrapped
            outcome.append(error)
        group.cancel_scope.cancel()
    return outcome[0] if outcome else None


def _summary(completed: router_service_pb2.ExecuteCompleted, decision: decision_pb2.Decision | None) -> dict[str, Any]:
    summary = response_headers.completion_summary(completed)
    if decision is not None:
        summary["decision"] = response_headers.proto_json(decision)
    return summary
