"""Answer one generation request: decode it, take the model's next step, account the cache, respond.

Every decision is made before the first byte goes out, and the request is recorded with its
outcome at that moment, so a test can assert on what the backend received as soon as its client
call returns, even when the response is a hang or a cut.
"""

from __future__ import annotations

import asyncio
import json
import math
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from rolemodel.dialects import openai_responses
from rolemodel.dialects.canonical import CanonicalRequest
from rolemodel.dialects.deltas import message_to_deltas
from rolemodel.tokens import estimate_message_tokens
from rolemodel.v1 import outcome_pb2
from rolemodel_router.backends.scripted.answers import RESPONSES, build_completion
from rolemodel_router.backends.scripted.cache_rules import CacheMode
from rolemodel_router.backends.scripted.prompt_layout import PromptLayout, layout_prompt
from rolemodel_router.backends.scripted.recording import RecordedRequest
from rolemodel_router.backends.scripted.responses import CutBodyResponse, HangingResponse, ScriptedStreamResponse
from rolemodel_router.backends.scripted.script import Fault, FaultKind, Reply
from rolemodel_router.backends.scripted.state import BackendState, ModelSetup
from rolemodel_router.backends.scripted.subscription import rate_limits_event
from rolemodel_router.backends.scripted.wire import Wire

_REJECTED_MESSAGE = "Invalid request: the scripted backend was told to reject this request."


@dataclass(frozen=True)
class _Call:
    """A request that decoded and names a scripted model, with everything needed to answer it."""

    wire: Wire
    record: RecordedRequest
    headers: Mapping[str, str]
    document: Mapping[str, Any]
    request: CanonicalRequest
    setup: ModelSetup
    layout: PromptLayout


class _Refused(Exception):
    """Ends a request early with an error in the dialect's shape."""

    def __init__(
        self,
        status: int,
        message: str,
        *,
        code: str | None = None,
        headers: Mapping[str, str] | None = None,
        record: RecordedRequest | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.code = code
        self.headers = dict(headers or {})
        self.record = record


class Generation:
    def __init__(self, state: BackendState, stopping: threading.Event) -> None:
        self._state = state
        self._stopping = stopping

    async def handle(self, request: Request, wire: Wire) -> Response:
        raw = await request.body()
        sequence = self._state.next_sequence()
        record = RecordedRequest(
            sequence=sequence,
            method=request.method,
            path=request.url.path,
            dialect=wire.dialect,
            headers=dict(request.headers),
            body=raw,
            received_at=self._state.clock.now(),
        )
        headers = {wire.request_id_header: f"req_scripted_{sequence:06d}"}
        try:
            call = self._admit(request, raw, wire, record, headers)
            record = call.record
            step = self._state.next_step(call.request.model)
            if step is None:
                raise _Refused(500, f"the script of model {call.request.model!r} has run out", code="script_exhausted")
            record = replace(record, step=step)
            if isinstance(step, Fault) and step.before_generation:
                return self._fault_before_generation(step, replace(call, record=record))
            return await self._answer(step, replace(call, record=record))
        except _Refused as refusal:
            record = refusal.record or record
            self._state.record(replace(record, status=refusal.status, error=refusal.message))
            body = wire.error_body(refusal.status, refusal.message, code=refusal.code)
            return JSONResponse(body, status_code=refusal.status, headers={**headers, **refusal.headers})

    def _admit(
        self, request: Request, raw: bytes, wire: Wire, record: RecordedRequest, headers: Mapping[str, str]
    ) -> _Call:
        key = self._state.api_key
        bearer = request.headers.get("authorization", "")
        presented = {request.headers.get("x-api-key"), bearer[7:] if bearer.startswith("Bearer ") else None}
        if key is not None and key not in presented:
            raise _Refused(401, "invalid API key", code="invalid_api_key")
        try:
            document = json.loads(raw)
            canonical = wire.decode_request(document)
        except ValueError as exc:
            raise _Refused(400, f"malformed request: {exc}") from None
        record = replace(record, request=canonical)
        setup = self._state.setup(canonical.model)
        if setup is None:
            message = f"the model {canonical.model!r} does not exist on this scripted backend"
            raise _Refused(404, message, code="model_not_found", record=record)
        layout = layout_prompt(canonical.messages, canonical.tools, with_parts=setup.cache.mode == CacheMode.EXPLICIT)
        record = replace(record, prompt_tokens=layout.prompt_tokens)
        window = setup.context_window_tokens
        if window is not None and layout.prompt_tokens > window:
            message = wire.context_overflow_message(layout.prompt_tokens, window)
            raise _Refused(400, message, code="context_length_exceeded", record=record)
        return _Call(wire, record, headers, document, canonical, setup, layout)

    def _fault_before_generation(self, fault: Fault, call: _Call) -> Response:
        if fault.kind == FaultKind.RATE_LIMITED:
            wait = fault.retry_after or 0.0
            retry = {"retry-after": str(math.ceil(wait)), "retry-after-ms": str(round(wait * 1000))}
            raise _Refused(429, "Rate limit reached for requests", code="rate_limit_exceeded", headers=retry)
        if fault.kind == FaultKind.SERVER_ERROR:
            raise _Refused(fault.status, "The server had an error while processing your request.")
        if fault.kind == FaultKind.REJECTED:
            raise _Refused(fault.status, _REJECTED_MESSAGE, code="invalid_request_error")
        if fault.kind == FaultKind.CONTEXT_OVERFLOW:
            tokens = call.layout.prompt_tokens
            window = call.setup.context_window_tokens or max(tokens - 1, 0)
            raise _Refused(400, call.wire.context_overflow_message(tokens, window), code="context_length_exceeded")
        self._state.record(call.record)
        return HangingResponse(self._stopping, self._abandoned(call.record.sequence))

    async def _answer(self, step: Reply | Fault, call: _Call) -> Response:
        reply = step if isinstance(step, Reply) else step.reply
        fault = step if isinstance(step, Fault) else None
        model, rules, layout = call.request.model, call.setup.cache, call.layout
        account = self._state.account_cache(model, rules, layout)
        prompt_usage = outcome_pb2.Usage(
            input_tokens=layout.prompt_tokens,
            cache_read_tokens=account.read,
            cache_write_tokens=account.write,
            cache_write_long_ttl_tokens=account.write_long_ttl,
        )
        sequence = call.record.sequence
        completion = build_completion(
            reply, dialect=call.wire.dialect, model=model, sequence=sequence, prompt_usage=prompt_usage
        )
        if rules.includes_output:
            tokens = layout.prompt_tokens + estimate_message_tokens(completion.message)
            self._state.remember_prefix(model, rules, layout.key_after(completion.message), tokens)
        if call.setup.subscription is not None and completion.usage is not None:
            call = replace(call, headers={**call.headers, **call.setup.subscription.meter(completion.usage)})
        fails_whole = fault is not None and fault.kind == FaultKind.STREAM_ERROR and not call.request.stream
        status = fault.status if fault is not None and fails_whole else 200
        self._state.record(replace(call.record, status=status, usage=completion.usage))

        if call.request.stream:
            deltas = message_to_deltas(completion.message, chunk_chars=reply.chunk_chars)
            include_usage = call.wire.wants_stream_usage(call.document)
            plan = call.wire.stream_plan(
                completion, deltas, include_usage=include_usage, sequence=sequence, body=call.document
            )
            limits = rate_limits_event(call.headers) if call.wire.dialect == RESPONSES else None
            if limits is not None:  # the ChatGPT backend reports the plan in its stream too
                plan.head.append(openai_responses.event_frame(limits))
            return ScriptedStreamResponse(
                plan,
                reply=reply,
                fault=fault,
                invalid_frame=call.wire.invalid_frame,
                error_frame=call.wire.stream_error_frame(fault.status if fault is not None else 500),
                headers=call.headers,
                stopping=self._stopping,
                on_abandoned=self._abandoned(sequence),
            )
        if reply.first_token_delay > 0:
            await asyncio.sleep(reply.first_token_delay)
        if fault is not None and fails_whole:
            error = call.wire.error_body(status, "The server had an error while processing your request.")
            return JSONResponse(error, status_code=status, headers=dict(call.headers))
        body = json.dumps(call.wire.response_body(completion, sequence, call.document), ensure_ascii=False).encode()
        if fault is None:
            return Response(body, media_type="application/json", headers=dict(call.headers))
        if fault.kind == FaultKind.CUT:
            return CutBodyResponse(body, call.headers)
        if fault.kind == FaultKind.INVALID_JSON:
            return Response(body[: len(body) // 2], media_type="application/json", headers=dict(call.headers))
        return HangingResponse(self._stopping, self._abandoned(sequence))

    def _abandoned(self, sequence: int) -> Callable[[], None]:
        """Marks request ``sequence`` as given up by its client (it disconnected while the backend hung)."""
        return lambda: self._state.mark_abandoned(sequence)
