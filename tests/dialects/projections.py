"""What a canonical conversation looks like after a round trip through a dialect.

Each function states, as code, the losses a dialect's module docstring lists: the property tests
assert that ``decode(encode(x)) == project(x)``, so nothing else may be lost.
"""

from __future__ import annotations

import json

from rolemodel.dialects.json_fields import dumps_compact
from rolemodel.v1 import conversation_pb2 as c
from rolemodel.v1 import router_service_pb2


def _strip_common(message: c.Message) -> c.Message:
    """Fields no dialect carries: the origin endpoint, the response id, image descriptions, URL media types."""
    out = c.Message()
    out.CopyFrom(message)
    out.origin_endpoint_id = ""
    out.provider_response_id = ""
    for part in out.parts:
        images = [part.image] if part.HasField("image") else []
        if part.HasField("tool_result"):
            images += [piece.image for piece in part.tool_result.content if piece.HasField("image")]
        for image in images:
            image.description = ""
            if image.WhichOneof("source") == "url":
                image.media_type = ""
    return out


def _text(text: str) -> c.ContentPart:
    return c.ContentPart(text=c.TextPart(text=text))


def openai_messages(messages: list[c.Message], reasoning_provider: str = "") -> list[c.Message]:
    out: list[c.Message] = []
    for original in messages:
        message = _strip_common(original)
        for part in message.parts:
            part.ClearField("cache_breakpoint")
        if message.role == c.MESSAGE_ROLE_ASSISTANT:
            out.append(_openai_assistant(message, reasoning_provider))
        elif message.role in (c.MESSAGE_ROLE_USER, c.MESSAGE_ROLE_TOOL):
            out.extend(_openai_user_or_tool(message))
        else:
            out.append(c.Message(role=message.role, parts=list(message.parts) or [_text("")]))
    return out


def _openai_assistant(message: c.Message, reasoning_provider: str) -> c.Message:
    reasoning = "".join(p.reasoning.text for p in message.parts if p.HasField("reasoning") and not p.reasoning.redacted)
    texts = [p for p in message.parts if p.HasField("text")]
    if len(texts) == 1 and not texts[0].text.text:
        texts = []
    calls = [p for p in message.parts if p.HasField("tool_call")]
    parts = [c.ContentPart(reasoning=c.ReasoningPart(text=reasoning, provider=reasoning_provider))] if reasoning else []
    return c.Message(role=c.MESSAGE_ROLE_ASSISTANT, parts=parts + texts + calls)


def _openai_user_or_tool(message: c.Message) -> list[c.Message]:
    out: list[c.Message] = []
    pending: list[c.ContentPart] = []
    for part in message.parts:
        if part.HasField("tool_result"):
            if pending:
                out.append(c.Message(role=c.MESSAGE_ROLE_USER, parts=pending))
                pending = []
            result = c.ToolResultPart(tool_call_id=part.tool_result.tool_call_id)
            result.content.extend(part.tool_result.content or [c.ToolResultContent(text=c.TextPart(text=""))])
            out.append(c.Message(role=c.MESSAGE_ROLE_TOOL, parts=[c.ContentPart(tool_result=result)]))
        else:
            pending.append(part)
    if pending:
        out.append(c.Message(role=c.MESSAGE_ROLE_USER, parts=pending))
    return out or [c.Message(role=c.MESSAGE_ROLE_USER, parts=[_text("")])]


def anthropic_messages(messages: list[c.Message]) -> list[c.Message]:
    """Leading system messages merge into the top-level ``system``; later ones stay in place."""
    out: list[c.Message] = []
    system: list[c.ContentPart] = []
    leading = True
    for original in messages:
        message = _strip_common(original)
        leading = leading and message.role == c.MESSAGE_ROLE_SYSTEM
        if leading:
            system.extend(message.parts)
            continue
        if message.role == c.MESSAGE_ROLE_SYSTEM:
            out.append(message)
            continue
        for part in message.parts:
            if part.HasField("tool_call"):
                arguments = part.tool_call.arguments_json
                part.tool_call.arguments_json = dumps_compact(json.loads(arguments) if arguments else {})
            if part.HasField("reasoning") and part.reasoning.redacted:
                part.reasoning.text = ""
        if message.role != c.MESSAGE_ROLE_ASSISTANT:
            has_result = any(p.HasField("tool_result") for p in message.parts)
            message.role = c.MESSAGE_ROLE_TOOL if has_result else c.MESSAGE_ROLE_USER
        out.append(message)
    if system:
        out.insert(0, c.Message(role=c.MESSAGE_ROLE_SYSTEM, parts=system))
    return out


def accumulated(message: c.Message) -> c.Message:
    """An answer after streaming: the accumulator's rules applied to whole parts.

    Adjacent texts merge and empty ones vanish; reasoning text continues an unsigned reasoning
    part before it; reasoning with a signature but no text comes back redacted, and with neither
    it vanishes.
    """
    out = c.Message(role=c.MESSAGE_ROLE_ASSISTANT)
    for part in message.parts:
        kind = part.WhichOneof("kind")
        last = out.parts[-1] if out.parts else None
        if kind == "text":
            if last is not None and last.HasField("text"):
                last.text.text += part.text.text
            elif part.text.text:
                out.parts.add().text.text = part.text.text
        elif kind == "reasoning":
            _accumulate_reasoning(out, last, part.reasoning)
        else:
            out.parts.add().CopyFrom(c.ContentPart(tool_call=part.tool_call))
    return out


def _accumulate_reasoning(out: c.Message, last: c.ContentPart | None, reasoning: c.ReasoningPart) -> None:
    text = "" if reasoning.redacted else reasoning.text
    open_part = last is not None and last.HasField("reasoning") and not last.reasoning.signature
    if not text:
        if last is not None and open_part:
            last.reasoning.signature = reasoning.signature
        elif reasoning.signature:
            out.parts.add().reasoning.CopyFrom(
                c.ReasoningPart(provider=reasoning.provider, signature=reasoning.signature, redacted=True)
            )
        return
    if last is not None and open_part:
        last.reasoning.text += text
        last.reasoning.signature = reasoning.signature
        return
    out.parts.add().reasoning.CopyFrom(
        c.ReasoningPart(text=text, provider=reasoning.provider, signature=reasoning.signature)
    )


def meaningful(deltas: list[router_service_pb2.ContentDelta]) -> list[router_service_pb2.ContentDelta]:
    """Deltas without the empty ones a codec may drop: empty text, and empty argument fragments after the first."""
    out = []
    seen_calls: set[int] = set()
    for delta in deltas:
        kind = delta.WhichOneof("kind")
        if kind in ("text", "reasoning_text", "reasoning_signature") and not getattr(delta, kind):
            continue
        if kind == "tool_call":
            index = delta.tool_call.index
            if index in seen_calls and not delta.tool_call.arguments_json_delta:
                continue
            seen_calls.add(index)
        out.append(delta)
    return out


def anthropic_deltas(deltas: list[router_service_pb2.ContentDelta]) -> list[router_service_pb2.ContentDelta]:
    """Deltas as an Anthropic stream carries them: a call's name and id open its block, separately from arguments."""
    out = []
    for delta in meaningful(deltas):
        call = delta.tool_call
        if delta.HasField("tool_call") and call.id and call.arguments_json_delta:
            head = router_service_pb2.ToolCallDelta(index=call.index, id=call.id, name=call.name)
            out.append(router_service_pb2.ContentDelta(tool_call=head))
            tail = router_service_pb2.ToolCallDelta(index=call.index, arguments_json_delta=call.arguments_json_delta)
            out.append(router_service_pb2.ContentDelta(tool_call=tail))
        else:
            out.append(delta)
    return out
