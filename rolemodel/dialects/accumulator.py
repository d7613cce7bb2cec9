"""Turn a sequence of canonical ``ContentDelta`` into the final canonical assistant ``Message``.

Streams arrive as small pieces; the router needs the whole answer (to record it, to compute its
digest for the next turn, to hand it to a client that did not stream). The rules, which every
stream codec follows so that accumulating inverts :func:`~rolemodel.dialects.deltas.message_to_deltas`:

- ``text`` appends to the text part in progress, or starts one when the newest part is not text;
  empty text carries nothing and is ignored (OpenAI opens streams with ``content: ""``).
- ``reasoning_text`` appends to the open reasoning part, or starts one.
- ``reasoning_signature`` completes the open reasoning part with its signature and closes it, so
  the next ``reasoning_text`` starts a new part. A signature with no open reasoning part is a
  redacted block (Anthropic's ``redacted_thinking``): its data travels as the signature.
- ``reasoning_summary`` appends to summary part ``summary_index`` of the open reasoning part, or
  starts one; ``reasoning_done`` closes the open reasoning part and replaces it by the whole part
  it carries (or adds that part when none is open), keeping the open part's text when the done
  part has none;
- ``hosted_tool`` adds its part as it is;
- ``tool_call`` deltas are grouped by ``index`` (the call's position among the answer's tool
  calls, from 0): the first delta of an index starts a call and names it, later ones append
  argument fragments, wherever other parts came in between.

What a delta stream cannot say, and so the accumulated message cannot hold: where one text
part ends and the next adjacent one begins, empty text parts, a reasoning block that has a
signature but no text (it comes back as redacted), and where an unsigned reasoning part ends when
reasoning follows it (the two merge; a redacted block after it becomes its signature). No single
provider produces that last mix: signed and redacted reasoning come from Anthropic, unsigned
reasoning from OpenAI-compatible servers.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from rolemodel.v1 import conversation_pb2, router_service_pb2


@dataclass(slots=True)
class _Text:
    pieces: list[str] = field(default_factory=list)


@dataclass(slots=True)
class _Reasoning:
    pieces: list[str] = field(default_factory=list)
    signature: str = ""
    closed: bool = False
    redacted: bool = False
    summary: list[list[str]] = field(default_factory=list)
    done: conversation_pb2.ReasoningPart | None = None


@dataclass(slots=True)
class _ToolCall:
    id: str
    name: str
    arguments: list[str] = field(default_factory=list)
    item_id: str = ""
    kind: int = 0
    namespace: str = ""


_Part = _Text | _Reasoning | _ToolCall | conversation_pb2.HostedToolPart


class StreamAccumulator:
    """Collects deltas in order; :meth:`message` builds the assistant message at any point.

    ``reasoning_provider`` is written into every reasoning part, because a delta does not say
    which provider signed it; the decoder that produced the deltas knows.
    """

    def __init__(self, *, reasoning_provider: str = "") -> None:
        self._reasoning_provider = reasoning_provider
        self._parts: list[_Part] = []
        self._calls: dict[int, _ToolCall] = {}
        self.delta_count = 0

    def add(self, delta: router_service_pb2.ContentDelta) -> None:
        self.delta_count += 1
        kind = delta.WhichOneof("kind")
        if kind == "text":
            self._add_text(delta.text)
        elif kind == "reasoning_text":
            self._add_reasoning_text(delta.reasoning_text)
        elif kind == "reasoning_signature":
            self._add_signature(delta.reasoning_signature)
        elif kind == "tool_call":
            self._add_tool_call(delta.tool_call)
        elif kind == "reasoning_summary":
            self._add_summary(delta.reasoning_summary)
        elif kind == "reasoning_done":
            self._add_reasoning_done(delta.reasoning_done)
        elif kind == "hosted_tool":
            self._parts.append(delta.hosted_tool)

    def extend(self, deltas: Iterable[router_service_pb2.ContentDelta]) -> None:
        for delta in deltas:
            self.add(delta)

    def _add_text(self, text: str) -> None:
        if not text:
            return
        last = self._parts[-1] if self._parts else None
        if isinstance(last, _Text):
            last.pieces.append(text)
        else:
            self._parts.append(_Text([text]))

    def _open_reasoning(self) -> _Reasoning | None:
        last = self._parts[-1] if self._parts else None
        return last if isinstance(last, _Reasoning) and not last.closed else None

    def _add_reasoning_text(self, text: str) -> None:
        if not text:
            return
        current = self._open_reasoning()
        if current is None:
            self._parts.append(_Reasoning([text]))
        else:
            current.pieces.append(text)

    def _add_signature(self, signature: str) -> None:
        if not signature:
            return
        current = self._open_reasoning()
        if current is None:
            self._parts.append(_Reasoning(signature=signature, closed=True, redacted=True))
        else:
            current.signature = signature
            current.closed = True

    def _add_summary(self, delta: router_service_pb2.ReasoningSummaryDelta) -> None:
        current = self._open_reasoning()
        if current is None:
            current = _Reasoning()
            self._parts.append(current)
        while len(current.summary) <= delta.summary_index:
            current.summary.append([])
        current.summary[delta.summary_index].append(delta.text)

    def _add_reasoning_done(self, done: conversation_pb2.ReasoningPart) -> None:
        current = self._open_reasoning()
        if current is None:
            current = _Reasoning()
            self._parts.append(current)
        current.done = done
        current.closed = True

    def _add_tool_call(self, delta: router_service_pb2.ToolCallDelta) -> None:
        call = self._calls.get(delta.index)
        if call is None:
            call = _ToolCall(
                id=delta.id, name=delta.name, item_id=delta.item_id, kind=delta.kind, namespace=delta.namespace
            )
            self._calls[delta.index] = call
            self._parts.append(call)
        else:
            call.id = call.id or delta.id
            call.name = call.name or delta.name
            call.item_id = call.item_id or delta.item_id
            call.kind = call.kind or delta.kind
            call.namespace = call.namespace or delta.namespace
        if delta.arguments_json_delta:
            call.arguments.append(delta.arguments_json_delta)

    def message(self) -> conversation_pb2.Message:
        """The assistant message so far; calling it does not end accumulation."""
        message = conversation_pb2.Message(role=conversation_pb2.MESSAGE_ROLE_ASSISTANT)
        for part in self._parts:
            if isinstance(part, _Text):
                message.parts.add().text.text = "".join(part.pieces)
            elif isinstance(part, _Reasoning):
                message.parts.add().reasoning.CopyFrom(self._reasoning(part))
            elif isinstance(part, _ToolCall):
                message.parts.add().tool_call.CopyFrom(
                    conversation_pb2.ToolCallPart(
                        id=part.id,
                        name=part.name,
                        arguments_json="".join(part.arguments),
                        item_id=part.item_id,
                        kind=part.kind,  # type: ignore[arg-type]
                        namespace=part.namespace,
                    )
                )
            else:
                message.parts.add().hosted_tool.CopyFrom(part)
        return message

    def _reasoning(self, part: _Reasoning) -> conversation_pb2.ReasoningPart:
        built = conversation_pb2.ReasoningPart(
            text="".join(part.pieces),
            provider=self._reasoning_provider,
            signature=part.signature,
            redacted=part.redacted,
            summary=["".join(pieces) for pieces in part.summary],
        )
        if part.done is not None:
            text = built.text
            built.CopyFrom(part.done)
            built.text = built.text or text
        return built
