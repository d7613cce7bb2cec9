"""OpenAI Chat Completions messages to canonical messages and back.

One OpenAI message becomes one canonical message, so that the digest chain of a conversation is
the same every time a client re-sends it. The other direction can split a canonical message: a
canonical tool message with several results becomes one ``tool`` message per result (OpenAI has
no other way to say it), and text or images inside a canonical tool message follow as a ``user``
message.

Mapping (canonical part: OpenAI form):

- system: ``{"role": "system"}``; ``developer`` messages decode as system too.
- text: a content string when it is a message's only part, else ``{"type": "text"}`` parts.
- image: ``{"type": "image_url", "image_url": {"url": ...}}``, a ``data:`` URL for inline bytes.
- tool call: an entry of the assistant's ``tool_calls`` (``type: function``).
- tool result: a ``{"role": "tool", "tool_call_id": ...}`` message.
- reasoning: the assistant's ``reasoning_content`` (DeepSeek, vLLM; ``reasoning`` is read too).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from rolemodel.dialects.data_url import format_data_url, is_data_url, parse_data_url
from rolemodel.dialects.errors import DialectError
from rolemodel.dialects.json_fields import (
    JSONObject,
    as_list,
    as_object,
    at,
    dumps_compact,
    opt_list,
    opt_object,
    opt_str,
    req_str,
)
from rolemodel.v1 import conversation_pb2 as c

_SYSTEM_ROLES = ("system", "developer")


def decode_messages(items: object, *, reasoning_provider: str = "", path: str = "messages") -> list[c.Message]:
    """Canonical messages for an OpenAI ``messages`` array."""
    return [
        decode_message(item, at(path, i), reasoning_provider=reasoning_provider)
        for i, item in enumerate(as_list(items, path))
    ]


def decode_message(item: object, path: str, *, reasoning_provider: str = "") -> c.Message:
    obj = as_object(item, path)
    role = req_str(obj, "role", path)
    if role in _SYSTEM_ROLES:
        return c.Message(role=c.MESSAGE_ROLE_SYSTEM, parts=_text_parts(obj.get("content"), at(path, "content")))
    if role == "user":
        return c.Message(role=c.MESSAGE_ROLE_USER, parts=_user_parts(obj.get("content"), at(path, "content")))
    if role == "assistant":
        return decode_assistant(obj, path, reasoning_provider=reasoning_provider)
    if role == "tool":
        result = c.ToolResultPart(
            tool_call_id=req_str(obj, "tool_call_id", path),
            content=[c.ToolResultContent(text=p.text) for p in _text_parts(obj.get("content"), at(path, "content"))],
        )
        return c.Message(role=c.MESSAGE_ROLE_TOOL, parts=[c.ContentPart(tool_result=result)])
    raise DialectError(
        f"unsupported role {role!r} (the legacy 'function' role is not supported)", path=at(path, "role")
    )


def decode_assistant(obj: Mapping[str, Any], path: str, *, reasoning_provider: str = "") -> c.Message:
    """An assistant message; also the ``message`` of a non-streaming response."""
    message = c.Message(role=c.MESSAGE_ROLE_ASSISTANT)
    reasoning = opt_str(obj, "reasoning_content", path) or opt_str(obj, "reasoning", path)
    if reasoning:
        message.parts.add().reasoning.CopyFrom(c.ReasoningPart(text=reasoning, provider=reasoning_provider))
    content = obj.get("content")
    if isinstance(content, str):
        if content:
            message.parts.add().text.text = content
    elif content is not None:
        for i, item in enumerate(as_list(content, at(path, "content"))):
            piece = as_object(item, at(at(path, "content"), i))
            kind = piece.get("type")
            if kind not in ("text", "refusal"):
                raise DialectError(f"assistant content of type {kind!r} is not supported", path=at(path, "content"))
            message.parts.add().text.text = req_str(piece, str(kind), at(at(path, "content"), i))
    refusal = opt_str(obj, "refusal", path)
    if refusal:
        message.parts.add().text.text = refusal
    for i, item in enumerate(opt_list(obj, "tool_calls", path) or []):
        message.parts.add().tool_call.CopyFrom(_decode_tool_call(item, at(at(path, "tool_calls"), i)))
    return message


def _decode_tool_call(item: object, path: str) -> c.ToolCallPart:
    obj = as_object(item, path)
    kind = opt_str(obj, "type", path) or "function"
    if kind != "function":
        raise DialectError(f"tool calls of type {kind!r} are not supported", path=at(path, "type"))
    function = opt_object(obj, "function", path)
    if function is None:
        raise DialectError("is required", path=at(path, "function"))
    arguments = function.get("arguments")
    if arguments is None:
        arguments = ""
    elif not isinstance(arguments, str):
        arguments = dumps_compact(arguments)  # Some compatible servers send an object.
    return c.ToolCallPart(
        id=opt_str(obj, "id", path) or "",
        name=req_str(function, "name", at(path, "function")),
        arguments_json=arguments,
    )


def _text_parts(content: object, path: str) -> list[c.ContentPart]:
    if isinstance(content, str):
        return [c.ContentPart(text=c.TextPart(text=content))]
    if content is None:
        return []
    parts = []
    for i, item in enumerate(as_list(content, path)):
        piece = as_object(item, at(path, i))
        if piece.get("type") != "text":
            raise DialectError(f"only text parts are allowed here, got {piece.get('type')!r}", path=at(path, i))
        parts.append(c.ContentPart(text=c.TextPart(text=req_str(piece, "text", at(path, i)))))
    return parts


def _user_parts(content: object, path: str) -> list[c.ContentPart]:
    if isinstance(content, str) or content is None:
        return _text_parts(content, path)
    parts = []
    for i, item in enumerate(as_list(content, path)):
        piece = as_object(item, at(path, i))
        kind = piece.get("type")
        if kind == "text":
            parts.append(c.ContentPart(text=c.TextPart(text=req_str(piece, "text", at(path, i)))))
        elif kind == "image_url":
            parts.append(c.ContentPart(image=_decode_image(piece.get("image_url"), at(at(path, i), "image_url"))))
        else:
            raise DialectError(f"content parts of type {kind!r} are not supported", path=at(path, i))
    return parts


def _decode_image(value: object, path: str) -> c.ImagePart:
    url = value if isinstance(value, str) else req_str(as_object(value, path), "url", path)
    if is_data_url(url):
        media_type, data = parse_data_url(url, path=path)
        return c.ImagePart(media_type=media_type, data=data)
    return c.ImagePart(url=url)


def encode_messages(messages: Sequence[c.Message]) -> list[JSONObject]:
    """OpenAI messages for canonical ones; see the module docstring for when one becomes several."""
    out: list[JSONObject] = []
    for i, message in enumerate(messages):
        path = at("messages", i)
        if message.role == c.MESSAGE_ROLE_SYSTEM:
            out.append({"role": "system", "content": _encode_texts(message, path)})
        elif message.role == c.MESSAGE_ROLE_ASSISTANT:
            out.append(encode_assistant(message, path))
        elif message.role in (c.MESSAGE_ROLE_USER, c.MESSAGE_ROLE_TOOL):
            out.extend(_encode_user_or_tool(message, path))
        else:
            raise DialectError("message role is unspecified", path=path)
    return out


def encode_assistant(message: c.Message, path: str = "message") -> JSONObject:
    """An assistant message: ``reasoning_content``, ``content`` (null without text) and ``tool_calls``.

    Redacted reasoning and reasoning signatures have no place in this dialect and are dropped;
    several reasoning parts are joined. Text parts all go into ``content`` before the tool calls.
    """
    reasoning: list[str] = []
    texts: list[str] = []
    calls: list[JSONObject] = []
    for j, part in enumerate(message.parts):
        kind = part.WhichOneof("kind")
        if kind == "text":
            texts.append(part.text.text)
        elif kind == "reasoning":
            if not part.reasoning.redacted:
                reasoning.append(part.reasoning.text)
        elif kind == "tool_call":
            call = part.tool_call
            if call.kind == c.TOOL_KIND_CUSTOM:
                raise DialectError("Chat Completions cannot carry a custom tool call", path=at(at(path, "parts"), j))
            calls.append(
                {"id": call.id, "type": "function", "function": {"name": call.name, "arguments": call.arguments_json}}
            )
        else:
            raise DialectError(f"an assistant message cannot carry a {kind} part", path=at(at(path, "parts"), j))
    out: JSONObject = {"role": "assistant", "content": _text_content(texts) if texts else None}
    if "".join(reasoning):
        out["reasoning_content"] = "".join(reasoning)
    if calls:
        out["tool_calls"] = calls
    return out


def _text_content(texts: list[str]) -> str | list[JSONObject]:
    return texts[0] if len(texts) == 1 else [{"type": "text", "text": t} for t in texts]


def _encode_texts(message: c.Message, path: str) -> str | list[JSONObject]:
    texts = []
    for j, part in enumerate(message.parts):
        if part.WhichOneof("kind") != "text":
            raise DialectError("a system message can only carry text", path=at(at(path, "parts"), j))
        texts.append(part.text.text)
    return _text_content(texts) if texts else ""


def _encode_user_or_tool(message: c.Message, path: str) -> list[JSONObject]:
    out: list[JSONObject] = []
    pending: list[c.ContentPart] = []

    def flush() -> None:
        if pending:
            out.append({"role": "user", "content": _user_content(pending, path)})
            pending.clear()

    for j, part in enumerate(message.parts):
        kind = part.WhichOneof("kind")
        if kind == "tool_result":
            flush()
            out.append(_encode_tool_result(part.tool_result, at(at(path, "parts"), j)))
        elif kind in ("text", "image"):
            pending.append(part)
        else:
            raise DialectError(f"a user or tool message cannot carry a {kind} part", path=at(at(path, "parts"), j))
    flush()
    if not out:
        out.append({"role": "user", "content": ""})
    return out


def _user_content(parts: list[c.ContentPart], path: str) -> str | list[JSONObject]:
    if len(parts) == 1 and parts[0].WhichOneof("kind") == "text":
        return parts[0].text.text
    return [
        {"type": "text", "text": p.text.text}
        if p.WhichOneof("kind") == "text"
        else {"type": "image_url", "image_url": {"url": _image_url(p.image, path)}}
        for p in parts
    ]


def _image_url(image: c.ImagePart, path: str) -> str:
    if image.WhichOneof("source") == "url":
        return image.url
    if not image.media_type:
        raise DialectError("an inline image needs a media type", path=path)
    return format_data_url(image.media_type, image.data)


def _encode_tool_result(result: c.ToolResultPart, path: str) -> JSONObject:
    texts = []
    for piece in result.content:
        if piece.WhichOneof("kind") != "text":
            raise DialectError("an OpenAI tool message cannot carry an image", path=path)
        texts.append(piece.text.text)
    return {"role": "tool", "tool_call_id": result.tool_call_id, "content": _text_content(texts) if texts else ""}
