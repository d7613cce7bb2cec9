"""Anthropic content blocks to canonical content parts and back, with their cache breakpoints.

Mapping (canonical part: Anthropic block):

- text: ``{"type": "text", "text"}`` (citations are dropped);
- image: ``{"type": "image", "source": {"type": "base64", "media_type", "data"}}`` or a
  ``{"type": "url", "url"}`` source (a URL carries no media type, so it decodes as empty);
- tool call: ``{"type": "tool_use", "id", "name", "input"}``. ``input`` is a JSON object while the
  canonical arguments are JSON text: decoding writes the compact text of the object, encoding
  parses the text (empty text is ``{}``), so whitespace in the text does not survive;
- tool result: ``{"type": "tool_result", "tool_use_id", "content", "is_error"}``; content is a
  string or text and image blocks;
- reasoning: ``{"type": "thinking", "thinking", "signature"}``, and a redacted reasoning part is
  ``{"type": "redacted_thinking", "data"}`` with the data in the signature.
- hosted tool: a block of a tool Anthropic ran itself, ``server_tool_use`` and the results named
  ``*_tool_result`` (``web_search_tool_result``, ``code_execution_tool_result``, ...), kept whole
  (without its ``cache_control``) as a hosted-tool part of provider ``anthropic``; only an
  Anthropic endpoint can read it, so the handoff drops it for any other (8.2).
- ``cache_control: {"type": "ephemeral", "ttl": "5m" | "1h"}`` on a block is the part's cache
  breakpoint, with ``ttl_seconds`` 300 or 3600, and 0 when no TTL is given (the default, 5 minutes).
  A breakpoint TTL other than those rounds up to the next one Anthropic offers. Breakpoints inside
  a tool result's content have no canonical place and are dropped.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Mapping
from typing import Any

from rolemodel.dialects.errors import DialectError
from rolemodel.dialects.json_fields import (
    JSONObject,
    as_list,
    as_object,
    at,
    dumps_compact,
    loads_json,
    loads_object,
    opt_bool,
    opt_object,
    opt_str,
    req_str,
)
from rolemodel.v1 import conversation_pb2 as c

ANTHROPIC = "anthropic"
_TTL_NAMES = {"5m": 300, "1h": 3600}


def decode_cache_control(block: Mapping[str, Any], path: str) -> c.CacheBreakpoint | None:
    control = opt_object(block, "cache_control", path)
    if control is None:
        return None
    path = at(path, "cache_control")
    kind = opt_str(control, "type", path)
    if kind != "ephemeral":
        raise DialectError(f"unsupported cache_control type {kind!r}", path=path)
    ttl = opt_str(control, "ttl", path)
    if ttl is None:
        return c.CacheBreakpoint()
    if ttl not in _TTL_NAMES:
        raise DialectError(f"unsupported cache TTL {ttl!r}; use '5m' or '1h'", path=at(path, "ttl"))
    return c.CacheBreakpoint(ttl_seconds=_TTL_NAMES[ttl])


def encode_cache_control(breakpoint_: c.CacheBreakpoint) -> JSONObject:
    if breakpoint_.ttl_seconds == 0:
        return {"type": "ephemeral"}
    return {"type": "ephemeral", "ttl": "5m" if breakpoint_.ttl_seconds <= _TTL_NAMES["5m"] else "1h"}


def decode_block(item: object, path: str, *, reasoning_provider: str = ANTHROPIC) -> c.ContentPart:
    """The canonical part for one content block; raises :class:`DialectError` for other block types."""
    block = as_object(item, path)
    kind = opt_str(block, "type", path)
    part = c.ContentPart()
    if kind == "text":
        part.text.text = req_str(block, "text", path)
    elif kind == "image":
        part.image.CopyFrom(_decode_image(block, path))
    elif kind == "tool_use":
        value = block.get("input")
        part.tool_call.CopyFrom(
            c.ToolCallPart(
                id=req_str(block, "id", path),
                name=req_str(block, "name", path),
                arguments_json=dumps_compact({} if value is None else as_object(value, at(path, "input"))),
            )
        )
    elif kind == "tool_result":
        part.tool_result.CopyFrom(_decode_tool_result(block, path))
    elif kind == "thinking":
        part.reasoning.CopyFrom(
            c.ReasoningPart(
                text=req_str(block, "thinking", path),
                provider=reasoning_provider,
                signature=opt_str(block, "signature", path) or "",
            )
        )
    elif kind == "redacted_thinking":
        part.reasoning.CopyFrom(
            c.ReasoningPart(provider=reasoning_provider, signature=req_str(block, "data", path), redacted=True)
        )
    elif is_server_tool_block(kind):
        part.hosted_tool.CopyFrom(hosted_tool_part(block, path))
    else:
        raise DialectError(f"content blocks of type {kind!r} are not supported", path=at(path, "type"))
    breakpoint_ = decode_cache_control(block, path)
    if breakpoint_ is not None:
        part.cache_breakpoint.CopyFrom(breakpoint_)
    return part


def is_server_tool_block(kind: str | None) -> bool:
    """Whether a content block records a tool Anthropic ran itself: ``server_tool_use`` or a ``*_tool_result``."""
    return kind == "server_tool_use" or (kind is not None and kind != "tool_result" and kind.endswith("_tool_result"))


def hosted_tool_part(block: Mapping[str, Any], path: str) -> c.HostedToolPart:
    """A server-tool block, whole but for its cache breakpoint, which has a canonical place of its own."""
    kept = {key: value for key, value in block.items() if key != "cache_control"}
    return c.HostedToolPart(
        provider=ANTHROPIC,
        type=req_str(block, "type", path),
        item_id=opt_str(block, "id", path) or opt_str(block, "tool_use_id", path) or "",
        item_json=dumps_compact(kept),
    )


def _decode_image(block: Mapping[str, Any], path: str) -> c.ImagePart:
    source = opt_object(block, "source", path)
    path = at(path, "source")
    if source is None:
        raise DialectError("is required", path=path)
    kind = opt_str(source, "type", path)
    if kind == "url":
        return c.ImagePart(url=req_str(source, "url", path))
    if kind != "base64":
        raise DialectError(f"image sources of type {kind!r} are not supported", path=at(path, "type"))
    try:
        data = base64.b64decode(req_str(source, "data", path), validate=True)
    except (binascii.Error, ValueError):
        raise DialectError("is not valid base64", path=at(path, "data")) from None
    return c.ImagePart(media_type=req_str(source, "media_type", path), data=data)


def _decode_tool_result(block: Mapping[str, Any], path: str) -> c.ToolResultPart:
    result = c.ToolResultPart(
        tool_call_id=req_str(block, "tool_use_id", path), is_error=bool(opt_bool(block, "is_error", path))
    )
    content = block.get("content")
    if isinstance(content, str):
        result.content.add().text.text = content
        return result
    for i, item in enumerate(as_list(content, at(path, "content")) if content is not None else []):
        piece_path = at(at(path, "content"), i)
        piece = as_object(item, piece_path)
        kind = opt_str(piece, "type", piece_path)
        if kind == "text":
            result.content.add().text.text = req_str(piece, "text", piece_path)
        elif kind == "image":
            result.content.add().image.CopyFrom(_decode_image(piece, piece_path))
        else:
            raise DialectError(f"tool result content of type {kind!r} is not supported", path=piece_path)
    return result


def encode_part(part: c.ContentPart, path: str, *, reasoning_provider: str = ANTHROPIC) -> JSONObject:
    """The content block for one part.

    Raises :class:`DialectError` for a reasoning part of another provider (spec RM-HANDOFF-002:
    the handoff must drop or convert it before it reaches this codec) and for tool arguments that
    are not a JSON object.
    """
    kind = part.WhichOneof("kind")
    block: JSONObject
    if kind == "text":
        block = {"type": "text", "text": part.text.text}
    elif kind == "image":
        block = {"type": "image", "source": _encode_source(part.image)}
    elif kind == "tool_call":
        call = part.tool_call
        arguments = loads_json(call.arguments_json, at(path, "arguments_json")) if call.arguments_json else {}
        block = {"type": "tool_use", "id": call.id, "name": call.name, "input": as_object(arguments, path)}
    elif kind == "tool_result":
        block = _encode_tool_result(part.tool_result)
    elif kind == "reasoning":
        block = _encode_reasoning(part.reasoning, path, reasoning_provider)
    elif kind == "hosted_tool":
        block = _encode_hosted_tool(part.hosted_tool, path)
    else:
        raise DialectError("content part has no kind set", path=path)
    if part.HasField("cache_breakpoint"):
        block["cache_control"] = encode_cache_control(part.cache_breakpoint)
    return block


def _encode_source(image: c.ImagePart) -> JSONObject:
    if image.WhichOneof("source") == "url":
        return {"type": "url", "url": image.url}
    return {"type": "base64", "media_type": image.media_type, "data": base64.b64encode(image.data).decode()}


def _encode_tool_result(result: c.ToolResultPart) -> JSONObject:
    block: JSONObject = {"type": "tool_result", "tool_use_id": result.tool_call_id}
    if result.content:
        block["content"] = [
            {"type": "text", "text": piece.text.text}
            if piece.WhichOneof("kind") == "text"
            else {"type": "image", "source": _encode_source(piece.image)}
            for piece in result.content
        ]
    if result.is_error:
        block["is_error"] = True
    return block


def _encode_hosted_tool(hosted: c.HostedToolPart, path: str) -> JSONObject:
    if hosted.provider != ANTHROPIC:
        raise DialectError(
            f"a {hosted.type!r} item of {hosted.provider or 'an unknown provider'!r} cannot be sent to Anthropic; "
            "the handoff drops it first",
            path=path,
        )
    return dict(loads_object(hosted.item_json, at(path, "item_json")))


def _encode_reasoning(reasoning: c.ReasoningPart, path: str, provider: str) -> JSONObject:
    if reasoning.provider != provider:
        raise DialectError(
            f"a reasoning block signed by {reasoning.provider or 'an unknown provider'!r} cannot be sent to "
            f"{provider!r}; the handoff drops it or converts it to text first",
            path=path,
        )
    if reasoning.redacted:
        return {"type": "redacted_thinking", "data": reasoning.signature}
    return {"type": "thinking", "thinking": reasoning.text, "signature": reasoning.signature}
