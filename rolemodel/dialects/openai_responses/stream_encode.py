"""Encode canonical deltas as an OpenAI Responses stream, event for event as the API sends it.

The sequence: ``response.created`` and ``response.in_progress`` (the response object with no
output), then each output item in turn, opened by ``response.output_item.added`` and closed by
``response.output_item.done`` with the complete item, then ``response.completed`` (or
``response.incomplete`` for an answer cut by ``max_output_tokens`` or a content filter) with every
item and the usage. Inside the items:

- a message: ``content_part.added``, ``output_text.delta`` per text delta, ``output_text.done``,
  ``content_part.done``;
- reasoning: per summary part ``reasoning_summary_part.added``, ``reasoning_summary_text.delta``,
  ``reasoning_summary_text.done``, ``reasoning_summary_part.done``; reasoning text (from
  providers that show it) as a ``reasoning_text`` content part with ``reasoning_text.delta``;
  ``reasoning_done`` completes the item with its encrypted content, left out unless the client
  asked for it (``include``);
- a function call: ``function_call_arguments.delta`` and ``.done``; a custom tool call:
  ``custom_tool_call_input.delta`` and ``.done``;
- a hosted-tool item: added and done at once.

An item closes when a delta of another item arrives. ``sequence_number`` counts every event from
0. :meth:`ResponsesStreamEncoder.failed` ends a stream with ``response.failed`` (what Codex reads),
:meth:`ResponsesStreamEncoder.error` makes the bare ``error`` event. A reasoning signature of
another provider has no place here and is dropped; a tool-call delta for a call whose item
already closed raises :class:`DialectError`, since items do not interleave.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from rolemodel.dialects.errors import DialectError
from rolemodel.dialects.json_fields import JSONObject, loads_object
from rolemodel.dialects.openai_responses.items import ItemIds, encode_reasoning
from rolemodel.dialects.openai_responses.response import echo_fields, response_object, status_of
from rolemodel.dialects.sse import encode_event
from rolemodel.v1 import conversation_pb2, outcome_pb2, router_service_pb2

r = router_service_pb2


class _Open:
    """The item being streamed: its position, and what its content has gathered so far."""

    def __init__(self, index: int, item: JSONObject) -> None:
        self.index = index
        self.item = item
        self.texts: list[str] = []
        self.summaries: list[list[str]] = []
        self.reasoning_text: list[str] = []
        self.tool_index = -1

    @property
    def id(self) -> str:
        return str(self.item["id"])


class ResponsesStreamEncoder:
    """Call :meth:`start` once, :meth:`delta` per delta, :meth:`finish` once; frame with :func:`event_frame`."""

    def __init__(
        self,
        *,
        response_id: str,
        model: str,
        created_at: int = 0,
        echo: Mapping[str, Any] | None = None,
        keep_encrypted: bool = True,
    ) -> None:
        self._response_id = response_id
        self._model = model
        self._created_at = created_at
        self._echo = dict(echo) if echo is not None else echo_fields({})
        self._keep_encrypted = keep_encrypted
        self._ids = ItemIds(response_id)
        self._sequence = 0
        self._output: list[JSONObject] = []
        self._open: _Open | None = None
        self._calls: dict[int, _Open] = {}

    def _event(self, kind: str, **fields: Any) -> JSONObject:
        event: JSONObject = {"type": kind, "sequence_number": self._sequence, **fields}
        self._sequence += 1
        return event

    def _response(self, status: str, **extra: Any) -> JSONObject:
        return response_object(
            response_id=self._response_id,
            model=self._model,
            created_at=self._created_at,
            status=status,
            output=list(self._output),
            echo=self._echo,
            **extra,
        )

    def provider_event(self, event: Mapping[str, Any]) -> JSONObject:
        """A provider's own event (``codex.rate_limits``) passed on in order, numbered like the others."""
        fields = {k: v for k, v in event.items() if k not in ("type", "sequence_number")}
        return self._event(str(event.get("type", "")), **fields)

    def start(self) -> list[JSONObject]:
        return [
            self._event("response.created", response=self._response("in_progress")),
            self._event("response.in_progress", response=self._response("in_progress")),
        ]

    def delta(self, delta: r.ContentDelta) -> list[JSONObject]:
        kind = delta.WhichOneof("kind")
        if kind == "text":
            events, current = self._ensure("message", "")
            current.texts.append(delta.text)
            return [
                *events,
                self._event(
                    "response.output_text.delta", **_where(current), content_index=0, delta=delta.text, logprobs=[]
                ),
            ]
        if kind == "reasoning_summary":
            return self._summary(delta.reasoning_summary)
        if kind == "reasoning_text":
            return self._reasoning_text(delta.reasoning_text)
        if kind == "reasoning_done":
            return self._reasoning_done(delta.reasoning_done)
        if kind == "tool_call":
            return self._tool_call(delta.tool_call)
        if kind == "hosted_tool":
            item = dict(loads_object(delta.hosted_tool.item_json, "hosted_tool"))
            events = self._close()
            index = len(self._output)
            self._output.append(item)
            return [
                *events,
                self._event("response.output_item.added", output_index=index, item=item),
                self._event("response.output_item.done", output_index=index, item=item),
            ]
        return []

    def _ensure(self, kind: str, item_id: str) -> tuple[list[JSONObject], _Open]:
        """The open item of ``kind``, opened unless it is, and the events that closed and opened items."""
        if self._open is not None and self._open.item["type"] == kind:
            return [], self._open
        events = self._close()
        index = len(self._output)
        if kind == "message":
            item: JSONObject = {
                "id": item_id or self._ids.next("msg"),
                "type": "message",
                "status": "in_progress",
                "content": [],
                "role": "assistant",
            }
        else:
            item = {"id": item_id or self._ids.next("rs"), "type": "reasoning", "summary": []}
        current = self._open = _Open(index, item)
        self._output.append(item)
        events.append(self._event("response.output_item.added", output_index=index, item=dict(item)))
        if kind == "message":
            part = {"type": "output_text", "text": "", "annotations": []}
            events.append(self._event("response.content_part.added", **_where(current), content_index=0, part=part))
        return events, current

    def _summary(self, delta: r.ReasoningSummaryDelta) -> list[JSONObject]:
        events, current = self._ensure("reasoning", delta.item_id)
        while len(current.summaries) <= delta.summary_index:
            events.extend(self._close_summary())
            current.summaries.append([])
            part = {"type": "summary_text", "text": ""}
            events.append(
                self._event(
                    "response.reasoning_summary_part.added",
                    **_where(current),
                    summary_index=len(current.summaries) - 1,
                    part=part,
                )
            )
        current.summaries[delta.summary_index].append(delta.text)
        events.append(
            self._event(
                "response.reasoning_summary_text.delta",
                **_where(current),
                summary_index=delta.summary_index,
                delta=delta.text,
            )
        )
        return events

    def _close_summary(self) -> list[JSONObject]:
        current = self._open
        if current is None or not current.summaries:
            return []
        index = len(current.summaries) - 1
        text = "".join(current.summaries[index])
        return [
            self._event("response.reasoning_summary_text.done", **_where(current), summary_index=index, text=text),
            self._event(
                "response.reasoning_summary_part.done",
                **_where(current),
                summary_index=index,
                part={"type": "summary_text", "text": text},
            ),
        ]

    def _reasoning_text(self, text: str) -> list[JSONObject]:
        events, current = self._ensure("reasoning", "")
        if not current.reasoning_text:
            part = {"type": "reasoning_text", "text": ""}
            events.append(self._event("response.content_part.added", **_where(current), content_index=0, part=part))
        current.reasoning_text.append(text)
        events.append(self._event("response.reasoning_text.delta", **_where(current), content_index=0, delta=text))
        return events

    def _reasoning_done(self, part: conversation_pb2.ReasoningPart) -> list[JSONObject]:
        events, current = self._ensure("reasoning", part.item_id)
        done = conversation_pb2.ReasoningPart()
        done.CopyFrom(part)
        done.item_id = current.id
        if not done.summary and current.summaries:
            done.summary.extend("".join(s) for s in current.summaries)
        if not done.text and current.reasoning_text:
            done.text = "".join(current.reasoning_text)
        current.item.clear()
        current.item.update(encode_reasoning(done, self._ids, for_input=False) or {})
        return [*events, *self._close()]

    def _tool_call(self, call: r.ToolCallDelta) -> list[JSONObject]:
        events: list[JSONObject] = []
        current = self._calls.get(call.index)
        if current is None:
            events = self._close()
            custom = call.kind == conversation_pb2.TOOL_KIND_CUSTOM
            item: JSONObject = {
                "id": call.item_id or self._ids.next("ctc" if custom else "fc"),
                "type": "custom_tool_call" if custom else "function_call",
                "status": "in_progress",
                "call_id": call.id,
                "name": call.name,
                "input" if custom else "arguments": "",
            }
            if call.namespace:
                item["namespace"] = call.namespace
            current = _Open(len(self._output), item)
            current.tool_index = call.index
            self._output.append(item)
            self._calls[call.index] = current
            self._open = current
            events.append(self._event("response.output_item.added", output_index=current.index, item=dict(item)))
        elif current is not self._open:
            raise DialectError(f"tool call {call.index} continues after its item closed; items cannot interleave")
        if call.arguments_json_delta:
            current.texts.append(call.arguments_json_delta)
            kind = (
                "response.custom_tool_call_input.delta"
                if current.item["type"] == "custom_tool_call"
                else "response.function_call_arguments.delta"
            )
            events.append(self._event(kind, **_where(current), delta=call.arguments_json_delta))
        return events

    def _close(self) -> list[JSONObject]:
        current = self._open
        if current is None:
            return []
        events: list[JSONObject] = []
        item = current.item
        if item["type"] == "message":
            text = "".join(current.texts)
            part = {"type": "output_text", "text": text, "annotations": []}
            events.append(
                self._event("response.output_text.done", **_where(current), content_index=0, text=text, logprobs=[])
            )
            events.append(self._event("response.content_part.done", **_where(current), content_index=0, part=part))
            item.update(status="completed", content=[part])
        elif item["type"] == "reasoning":
            events.extend(self._close_summary())
            if current.reasoning_text:
                text = "".join(current.reasoning_text)
                events.append(
                    self._event("response.reasoning_text.done", **_where(current), content_index=0, text=text)
                )
                events.append(
                    self._event(
                        "response.content_part.done",
                        **_where(current),
                        content_index=0,
                        part={"type": "reasoning_text", "text": text},
                    )
                )
                item.setdefault("content", [{"type": "reasoning_text", "text": text}])
            if not item.get("summary") and current.summaries:
                item["summary"] = [{"type": "summary_text", "text": "".join(s)} for s in current.summaries]
            if not self._keep_encrypted:
                item.pop("encrypted_content", None)
        else:
            arguments = "".join(current.texts)
            custom = item["type"] == "custom_tool_call"
            item["input" if custom else "arguments"] = arguments
            item["status"] = "completed"
            if custom:
                events.append(self._event("response.custom_tool_call_input.done", **_where(current), input=arguments))
            else:
                events.append(
                    self._event(
                        "response.function_call_arguments.done",
                        **_where(current),
                        name=item["name"],
                        arguments=arguments,
                    )
                )
        events.append(self._event("response.output_item.done", output_index=current.index, item=dict(item)))
        self._open = None
        return events

    def finish(self, finish_reason: str, usage: outcome_pb2.Usage | None) -> list[JSONObject]:
        """Close the open item, then ``response.completed`` (or ``response.incomplete``) with the usage."""
        events = self._close()
        status, incomplete = status_of(finish_reason)
        kind = "response.completed" if status == "completed" else "response.incomplete"
        events.append(
            self._event(kind, response=self._response(status, usage=usage, ending={"incomplete_details": incomplete}))
        )
        return events

    def failed(self, message: str, *, code: str = "server_error") -> list[JSONObject]:
        """``response.failed``: the answer broke off; the items so far stay in the response object."""
        return [
            self._event(
                "response.failed",
                response=self._response("failed", ending={"error": {"code": code, "message": message}}),
            )
        ]

    def error(self, message: str, *, code: str | None = None, param: str | None = None) -> JSONObject:
        return self._event("error", code=code, message=message, param=param)


def _where(current: _Open) -> JSONObject:
    return {"item_id": current.id, "output_index": current.index}


def event_frame(event: JSONObject) -> bytes:
    """One event as an SSE frame with its ``event:`` line, as OpenAI sends them."""
    return encode_event(json.dumps(event, ensure_ascii=False, separators=(",", ":")), event=str(event["type"]))
