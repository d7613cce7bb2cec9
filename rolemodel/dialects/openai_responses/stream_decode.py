"""Decode an OpenAI Responses stream into canonical deltas and a completion.

Events read (everything else, such as ``response.in_progress`` or ``content_part.added``, says
nothing the deltas need):

- ``response.created``: the response id and model;
- ``response.output_item.added``: a function or custom tool call starts, so its first
  ``ToolCallDelta`` carries its call id, name, item id, kind and namespace;
- ``response.output_text.delta`` and ``response.refusal.delta``: ``text``;
- ``response.function_call_arguments.delta`` and ``response.custom_tool_call_input.delta``:
  argument fragments of the call at that output index;
- ``response.reasoning_summary_text.delta``: ``reasoning_summary`` with its summary index;
  ``response.reasoning_text.delta``: ``reasoning_text``;
- ``response.output_item.done``: a reasoning item whole (``reasoning_done``, with its encrypted
  content, which only the done event carries complete), a hosted-tool item whole, and the text or
  arguments of an item whose deltas never came (some servers send only the done event);
- ``response.completed`` and ``response.incomplete``: usage and the finish reason;
- ``response.failed`` and ``error``: :class:`ProviderStreamError` with the error's code and message.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from rolemodel.dialects.accumulator import StreamAccumulator
from rolemodel.dialects.canonical import Completion
from rolemodel.dialects.errors import IncompleteStreamError, ProviderStreamError
from rolemodel.dialects.json_fields import loads_object, opt_int, opt_object, opt_str
from rolemodel.dialects.openai_responses.items import OPENAI, decode_output_item, decode_reasoning
from rolemodel.dialects.openai_responses.response import decode_usage, finish_reason
from rolemodel.dialects.sse import SSEParser
from rolemodel.v1 import outcome_pb2, router_service_pb2

r = router_service_pb2
_CALL_ITEMS = ("function_call", "custom_tool_call")
#: The ChatGPT backend's event with the plan's rate limits, as Codex parses it (rate_limits.rs).
RATE_LIMITS_EVENT = "codex.rate_limits"


class ResponsesStreamDecoder:
    """Feed it the bytes of a Responses stream; :meth:`completion` gives the answer at the end."""

    def __init__(self) -> None:
        self._parser = SSEParser()
        self._accumulator = StreamAccumulator(reasoning_provider=OPENAI)
        self._calls: dict[int, int] = {}  # output index -> tool-call index
        self._with_deltas: set[int] = set()  # output indexes whose content arrived as deltas
        self._reasoning_ids: dict[int, str] = {}  # output index -> reasoning item id not yet announced
        self._usage: outcome_pb2.Usage | None = None
        self._finish_reason = ""
        self._model = ""
        self._response_id = ""
        self.event_count = 0
        #: The provider's ``codex.rate_limits`` events not yet taken: the plan's usage, which the
        #: front door passes on to a client calling with its own credential (spec 14.5).
        self.rate_limit_events: list[dict[str, Any]] = []

    @property
    def finished(self) -> bool:
        return bool(self._finish_reason)

    def feed_bytes(self, data: bytes) -> list[r.ContentDelta]:
        deltas: list[r.ContentDelta] = []
        for event in self._parser.feed(data):
            deltas.extend(self.feed_event(loads_object(event.data, f"event {self.event_count}")))
        return deltas

    def feed_event(self, event: Mapping[str, Any]) -> list[r.ContentDelta]:
        path = f"event {self.event_count}"
        self.event_count += 1
        kind = opt_str(event, "type", path) or ""
        index = opt_int(event, "output_index", path) or 0
        deltas: list[r.ContentDelta] = []
        if kind in ("response.created", "response.in_progress"):
            self._read_response(opt_object(event, "response", path) or {})
        elif kind == "response.output_item.added":
            deltas.extend(self._item_added(opt_object(event, "item", path) or {}, index, path))
        elif kind in ("response.output_text.delta", "response.refusal.delta"):
            self._with_deltas.add(index)
            deltas.append(r.ContentDelta(text=opt_str(event, "delta", path) or ""))
        elif kind in ("response.function_call_arguments.delta", "response.custom_tool_call_input.delta"):
            self._with_deltas.add(index)
            call = r.ToolCallDelta(
                index=self._calls.get(index, 0), arguments_json_delta=opt_str(event, "delta", path) or ""
            )
            deltas.append(r.ContentDelta(tool_call=call))
        elif kind == "response.reasoning_summary_text.delta":
            summary = r.ReasoningSummaryDelta(
                summary_index=opt_int(event, "summary_index", path) or 0,
                text=opt_str(event, "delta", path) or "",
                item_id=self._reasoning_ids.pop(index, ""),
            )
            deltas.append(r.ContentDelta(reasoning_summary=summary))
        elif kind == "response.reasoning_text.delta":
            deltas.append(r.ContentDelta(reasoning_text=opt_str(event, "delta", path) or ""))
        elif kind == "response.output_item.done":
            deltas.extend(self._item_done(opt_object(event, "item", path) or {}, index, path))
        elif kind in ("response.completed", "response.incomplete"):
            self._finish(opt_object(event, "response", path) or {}, path)
        elif kind == "response.failed":
            error = opt_object(opt_object(event, "response", path) or {}, "error", path) or {}
            raise ProviderStreamError(opt_str(error, "code", path) or "", opt_str(error, "message", path) or "")
        elif kind == RATE_LIMITS_EVENT:
            self.rate_limit_events.append(dict(event))
        elif kind == "error":
            raise ProviderStreamError(opt_str(event, "code", path) or "", opt_str(event, "message", path) or "")
        self._accumulator.extend(deltas)
        return deltas

    def _read_response(self, response: Mapping[str, Any]) -> None:
        self._response_id = self._response_id or opt_str(response, "id", "response") or ""
        self._model = self._model or opt_str(response, "model", "response") or ""

    def _item_added(self, item: Mapping[str, Any], index: int, path: str) -> list[r.ContentDelta]:
        if item.get("type") == "reasoning":
            self._reasoning_ids[index] = opt_str(item, "id", path) or ""
        if item.get("type") not in _CALL_ITEMS:
            return []
        call = decode_output_item(item, path).tool_call
        self._calls[index] = len(self._calls)
        start = r.ToolCallDelta(
            index=self._calls[index],
            id=call.id,
            name=call.name,
            arguments_json_delta=call.arguments_json,
            item_id=call.item_id,
            kind=call.kind,
            namespace=call.namespace,
        )
        if call.arguments_json:
            self._with_deltas.add(index)
        return [r.ContentDelta(tool_call=start)]

    def _item_done(self, item: Mapping[str, Any], index: int, path: str) -> list[r.ContentDelta]:
        kind = item.get("type")
        if kind == "reasoning":
            return [r.ContentDelta(reasoning_done=decode_reasoning(item, path))]
        if kind == "message":
            if index in self._with_deltas:
                return []
            texts = [
                p.get("text") or p.get("refusal") or "" for p in item.get("content") or [] if isinstance(p, Mapping)
            ]
            return [r.ContentDelta(text=t) for t in texts if t]
        if kind in _CALL_ITEMS:
            if index not in self._calls:
                return self._item_added(item, index, path)
            arguments = decode_output_item(item, path).tool_call.arguments_json
            if index in self._with_deltas or not arguments:
                return []
            return [r.ContentDelta(tool_call=r.ToolCallDelta(index=self._calls[index], arguments_json_delta=arguments))]
        part = decode_output_item(item, path)
        return [r.ContentDelta(hosted_tool=part.hosted_tool)]

    def _finish(self, response: Mapping[str, Any], path: str) -> None:
        self._read_response(response)
        usage = opt_object(response, "usage", path)
        if usage is not None:
            self._usage = decode_usage(usage, "response.usage")
        message = self._accumulator.message()
        self._finish_reason = finish_reason(
            opt_str(response, "status", path) or "completed", opt_object(response, "incomplete_details", path), message
        )

    def completion(self) -> Completion:
        if not self.finished:
            raise IncompleteStreamError(f"the stream ended after {self.event_count} events without response.completed")
        return self.partial_completion()

    def partial_completion(self) -> Completion:
        return Completion(
            message=self._accumulator.message(),
            finish_reason=self._finish_reason,
            usage=self._usage,
            model=self._model,
            response_id=self._response_id,
        )
