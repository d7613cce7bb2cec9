"""Hypothesis strategies for the codec tests: canonical conversations with every feature a dialect
might carry (cache breakpoints, redacted reasoning, images in tool results, URL images), assistant
answers, and random fragmentations of an answer into stream deltas."""

from __future__ import annotations

import json
from itertools import pairwise

from hypothesis import strategies as st

from rolemodel.v1 import conversation_pb2 as c
from rolemodel.v1 import outcome_pb2, router_service_pb2
from tests.strategies import ids, json_arguments, media_types, texts

PROVIDERS = st.sampled_from(["anthropic", "deepseek", ""])
TTLS = st.sampled_from([0, 300, 3600])


@st.composite
def images(draw: st.DrawFn, *, with_description: bool = True) -> c.ImagePart:
    description = draw(texts) if with_description else ""
    if draw(st.booleans()):
        return c.ImagePart(media_type=draw(media_types), data=draw(st.binary(max_size=48)), description=description)
    return c.ImagePart(
        media_type=draw(st.sampled_from(["", "image/png"])),
        url="https://example.com/" + draw(ids) + ".png",
        description=description,
    )


@st.composite
def reasoning_parts(draw: st.DrawFn, provider: str | None = None) -> c.ReasoningPart:
    chosen = draw(PROVIDERS) if provider is None else provider
    if draw(st.integers(0, 4)) == 0:
        return c.ReasoningPart(provider=chosen, signature=draw(ids), redacted=True)
    return c.ReasoningPart(text=draw(texts), provider=chosen, signature=draw(st.sampled_from(["", "sig"]) | ids))


@st.composite
def tool_results(draw: st.DrawFn, *, allow_images: bool = True) -> c.ToolResultPart:
    content = []
    for _ in range(draw(st.integers(0, 3))):
        if allow_images and draw(st.integers(0, 3)) == 0:
            content.append(c.ToolResultContent(image=draw(images())))
        else:
            content.append(c.ToolResultContent(text=c.TextPart(text=draw(texts))))
    return c.ToolResultPart(tool_call_id=draw(ids), content=content, is_error=draw(st.booleans()))


def _with_breakpoint(draw: st.DrawFn, part: c.ContentPart, allowed: bool) -> c.ContentPart:
    if allowed and draw(st.integers(0, 3)) == 0:
        part.cache_breakpoint.ttl_seconds = draw(TTLS)
    return part


@st.composite
def parts(
    draw: st.DrawFn,
    role: int,
    *,
    reasoning_provider: str | None = None,
    tool_result_images: bool = True,
    breakpoints: bool = True,
) -> c.ContentPart:
    if role == c.MESSAGE_ROLE_ASSISTANT:
        kind = draw(st.sampled_from(["text", "tool_call", "reasoning"]))
    elif role == c.MESSAGE_ROLE_TOOL:
        kind = draw(st.sampled_from(["tool_result", "tool_result", "text"]))
    elif role == c.MESSAGE_ROLE_USER:
        kind = draw(st.sampled_from(["text", "text", "image"]))
    else:
        kind = "text"
    part = c.ContentPart()
    if kind == "text":
        part.text.text = draw(texts)
    elif kind == "image":
        part.image.CopyFrom(draw(images()))
    elif kind == "tool_call":
        arguments = draw(json_arguments() | st.sampled_from(["", '{"a": [1, 2.5, null, true]}', '{ "x" : "y" }']))
        part.tool_call.CopyFrom(c.ToolCallPart(id=draw(ids), name=draw(ids), arguments_json=arguments))
    elif kind == "reasoning":
        part.reasoning.CopyFrom(draw(reasoning_parts(reasoning_provider)))
    else:
        part.tool_result.CopyFrom(draw(tool_results(allow_images=tool_result_images)))
    return _with_breakpoint(draw, part, breakpoints and kind != "reasoning")


@st.composite
def conversations(
    draw: st.DrawFn,
    *,
    system_first_only: bool = False,
    reasoning_provider: str | None = None,
    tool_result_images: bool = True,
) -> list[c.Message]:
    """Conversations whose tool messages start with a tool result (a tool message is one that carries them)."""
    out: list[c.Message] = []
    if system_first_only and draw(st.booleans()):
        system_parts = draw(st.lists(parts(c.MESSAGE_ROLE_SYSTEM), max_size=3))
        out.append(c.Message(role=c.MESSAGE_ROLE_SYSTEM, parts=system_parts))
    roles = [c.MESSAGE_ROLE_USER, c.MESSAGE_ROLE_ASSISTANT, c.MESSAGE_ROLE_TOOL]
    if not system_first_only:
        roles.append(c.MESSAGE_ROLE_SYSTEM)
    for _ in range(draw(st.integers(1, 5))):
        role = draw(st.sampled_from(roles))
        part_strategy = parts(role, reasoning_provider=reasoning_provider, tool_result_images=tool_result_images)
        message_parts = draw(st.lists(part_strategy, min_size=1, max_size=4))
        if role == c.MESSAGE_ROLE_TOOL and message_parts[0].WhichOneof("kind") != "tool_result":
            first = c.ContentPart(tool_result=draw(tool_results(allow_images=tool_result_images)))
            message_parts.insert(0, first)
        message = c.Message(role=role, parts=message_parts)
        message.origin_endpoint_id = draw(st.sampled_from(["", "openai:gpt"]))
        out.append(message)
    return out


@st.composite
def tool_definitions(draw: st.DrawFn) -> c.ToolDefinition:
    properties = {key: {"type": "string"} for key in draw(st.lists(ids, max_size=3, unique=True))}
    schema = {"type": "object", "properties": properties}
    return c.ToolDefinition(
        name=draw(ids), description=draw(texts), parameters_json_schema=json.dumps(schema, separators=(",", ":"))
    )


@st.composite
def generation_params(draw: st.DrawFn, *, require_max_tokens: bool = False) -> router_service_pb2.GenerationParams:
    params = router_service_pb2.GenerationParams(
        max_output_tokens=draw(st.integers(1 if require_max_tokens else 0, 200_000)),
        stop=draw(st.lists(st.text(min_size=1, max_size=5), max_size=3)),
    )
    if draw(st.booleans()):
        params.temperature = draw(st.floats(0, 2, allow_nan=False))
    if draw(st.booleans()):
        params.response_json_schema = '{"type":"object","properties":{"answer":{"type":"string"}}}'
    return params


usages = st.builds(
    lambda read, write, uncached, output: outcome_pb2.Usage(
        input_tokens=read + write + uncached, cache_read_tokens=read, cache_write_tokens=write, output_tokens=output
    ),
    st.integers(0, 10**6),
    st.integers(0, 10**6),
    st.integers(0, 10**6),
    st.integers(0, 10**5),
)
finish_reasons = st.sampled_from(["stop", "length", "tool_calls", "content_filter"])


@st.composite
def answers(draw: st.DrawFn, *, reasoning_provider: str = "anthropic", signed: bool = True) -> c.Message:
    """An assistant answer as a provider streams it: reasoning first, then text and tool calls."""
    message = c.Message(role=c.MESSAGE_ROLE_ASSISTANT)
    for _ in range(draw(st.integers(0, 2))):
        if signed and draw(st.integers(0, 4)) == 0:
            reasoning = c.ReasoningPart(provider=reasoning_provider, signature=draw(ids), redacted=True)
        else:
            signature = draw(ids) if signed else ""
            reasoning = c.ReasoningPart(text=draw(texts.filter(bool)), provider=reasoning_provider, signature=signature)
        message.parts.add().reasoning.CopyFrom(reasoning)
        if not signed:
            break
    for _ in range(draw(st.integers(0, 1))):
        message.parts.add().text.text = draw(texts.filter(bool))
    for _ in range(draw(st.integers(0, 3))):
        message.parts.add().tool_call.CopyFrom(
            c.ToolCallPart(id=draw(ids), name=draw(ids), arguments_json=draw(json_arguments()))
        )
    return message


def _fragments(draw: st.DrawFn, text: str) -> list[str]:
    """``text`` cut at random places; never an empty list."""
    if not text:
        return [""]
    cuts = sorted(draw(st.sets(st.integers(1, max(1, len(text) - 1)), max_size=6)))
    bounds = [0, *[cut for cut in cuts if cut < len(text)], len(text)]
    return [text[a:b] for a, b in pairwise(bounds)]


@st.composite
def fragmented_deltas(draw: st.DrawFn, message: c.Message) -> list[router_service_pb2.ContentDelta]:
    """The deltas of ``message`` with every text, reasoning text and argument string cut at random places."""
    deltas: list[router_service_pb2.ContentDelta] = []
    tool_index = 0
    for part in message.parts:
        kind = part.WhichOneof("kind")
        if kind == "text":
            deltas.extend(router_service_pb2.ContentDelta(text=t) for t in _fragments(draw, part.text.text))
        elif kind == "reasoning":
            if not part.reasoning.redacted:
                pieces = _fragments(draw, part.reasoning.text)
                deltas.extend(router_service_pb2.ContentDelta(reasoning_text=t) for t in pieces)
            if part.reasoning.signature:
                deltas.append(router_service_pb2.ContentDelta(reasoning_signature=part.reasoning.signature))
        elif kind == "tool_call":
            call = part.tool_call
            for i, piece in enumerate(_fragments(draw, call.arguments_json)):
                delta = router_service_pb2.ToolCallDelta(index=tool_index, arguments_json_delta=piece)
                if i == 0:
                    delta.id, delta.name = call.id, call.name
                deltas.append(router_service_pb2.ContentDelta(tool_call=delta))
            tool_index += 1
    return deltas


@st.composite
def byte_splits(draw: st.DrawFn, data: bytes) -> list[bytes]:
    """``data`` cut at random byte offsets (splitting UTF-8 characters and CRLF pairs too)."""
    if len(data) < 2:
        return [data]
    cuts = sorted(draw(st.sets(st.integers(1, len(data) - 1), max_size=12)))
    bounds = [0, *cuts, len(data)]
    return [data[a:b] for a, b in pairwise(bounds)]
