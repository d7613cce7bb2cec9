"""OpenAI Responses items to canonical messages and back.

A Responses conversation is a flat list of items; the canonical form groups them into messages
so that the digest chain is the same whichever dialect a conversation travels in:

- a ``message`` item of role ``user`` is a user message; ``system`` and ``developer`` are system
  messages (encoded as ``developer``, the role OpenAI gives instructions);
- the items a model produced in one turn (``reasoning``, assistant ``message``,
  ``function_call``, ``custom_tool_call`` and hosted-tool items such as ``web_search_call``), when
  adjacent, form one assistant message, in order, as Chat Completions keeps reasoning, text and
  tool calls of one answer in one message;
- each ``function_call_output`` or ``custom_tool_call_output`` is one tool message, as each
  Chat Completions ``tool`` message is.

Provider-bound state travels in the canonical fields made for it: a reasoning item's
``encrypted_content`` is the reasoning part's ``signature`` and its id the part's ``item_id``;
a call's ``call_id`` is the part's ``id`` and its ``fc_`` item id the part's ``item_id``; a
hosted-tool item is kept whole. Reasoning without ``encrypted_content`` is nobody's (provider
empty), because only OpenAI's encrypted content proves where reasoning came from.

What this module does not keep: the ``id`` and ``status`` of message and output items (they name
nothing when the client stores no responses), ``annotations`` and ``logprobs`` of output text,
and an image's ``detail``. Items this dialect defines but the router cannot carry
(``item_reference``, ``file_id`` images, files, computer and shell calls) are refused by name.
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
    loads_object,
    opt_list,
    opt_str,
    req_str,
)
from rolemodel.v1 import conversation_pb2 as c

OPENAI = "openai"
#: Items of tools the provider runs itself: valid only where they were made.
HOSTED_ITEM_TYPES = frozenset(
    {
        "web_search_call",
        "file_search_call",
        "code_interpreter_call",
        "image_generation_call",
        "mcp_call",
        "mcp_list_tools",
        "tool_search_call",
        "tool_search_output",
    }
)
_ASSISTANT_ITEMS = frozenset({"reasoning", "function_call", "custom_tool_call"}) | HOSTED_ITEM_TYPES
_OUTPUT_ITEMS = frozenset({"function_call_output", "custom_tool_call_output"})
_SYSTEM_ROLES = ("system", "developer")


def decode_input(value: object, path: str = "input") -> list[c.Message]:
    """Canonical messages for a request's ``input``: a string (one user message) or a list of items."""
    if isinstance(value, str):
        return [c.Message(role=c.MESSAGE_ROLE_USER, parts=[c.ContentPart(text=c.TextPart(text=value))])]
    messages: list[c.Message] = []
    turn: c.Message | None = None
    for i, item in enumerate(as_list(value, path)):
        item_path = at(path, i)
        obj = as_object(item, item_path)
        kind = opt_str(obj, "type", item_path) or ("message" if "role" in obj else "")
        if kind == "message" and req_str(obj, "role", item_path) == "assistant":
            turn = _turn(messages, turn)
            turn.parts.extend(_assistant_content(obj.get("content"), at(item_path, "content")))
        elif kind in _ASSISTANT_ITEMS:
            turn = _turn(messages, turn)
            turn.parts.append(decode_output_item(obj, item_path))
        elif kind == "message":
            turn = None
            messages.append(_input_message(obj, item_path))
        elif kind in _OUTPUT_ITEMS:
            turn = None
            messages.append(_tool_output(obj, kind, item_path))
        else:
            raise DialectError(f"input items of type {kind!r} are not supported", path=at(item_path, "type"))
    return messages


def _turn(messages: list[c.Message], turn: c.Message | None) -> c.Message:
    if turn is None:
        turn = c.Message(role=c.MESSAGE_ROLE_ASSISTANT)
        messages.append(turn)
    return turn


def _input_message(obj: Mapping[str, Any], path: str) -> c.Message:
    role = req_str(obj, "role", path)
    content = obj.get("content")
    if role in _SYSTEM_ROLES:
        return c.Message(role=c.MESSAGE_ROLE_SYSTEM, parts=_input_content(content, at(path, "content"), images=False))
    if role == "user":
        return c.Message(role=c.MESSAGE_ROLE_USER, parts=_input_content(content, at(path, "content"), images=True))
    raise DialectError(f"unsupported role {role!r}", path=at(path, "role"))


def _input_content(content: object, path: str, *, images: bool) -> list[c.ContentPart]:
    if isinstance(content, str):
        return [c.ContentPart(text=c.TextPart(text=content))]
    parts: list[c.ContentPart] = []
    for i, item in enumerate(as_list(content, path)):
        piece = as_object(item, at(path, i))
        kind = piece.get("type")
        if kind in ("input_text", "output_text"):
            parts.append(c.ContentPart(text=c.TextPart(text=req_str(piece, "text", at(path, i)))))
        elif kind == "input_image" and images:
            parts.append(c.ContentPart(image=_decode_image(piece, at(path, i))))
        else:
            raise DialectError(f"content parts of type {kind!r} are not supported here", path=at(path, i))
    return parts


def _decode_image(piece: Mapping[str, Any], path: str) -> c.ImagePart:
    if piece.get("file_id") is not None:
        raise DialectError("images by file_id are not supported (the router stores no files)", path=at(path, "file_id"))
    url = req_str(piece, "image_url", path)
    if is_data_url(url):
        media_type, data = parse_data_url(url, path=at(path, "image_url"))
        return c.ImagePart(media_type=media_type, data=data)
    return c.ImagePart(url=url)


def _assistant_content(content: object, path: str) -> list[c.ContentPart]:
    if isinstance(content, str):
        return [c.ContentPart(text=c.TextPart(text=content))]
    parts: list[c.ContentPart] = []
    for i, item in enumerate(as_list(content, path)):
        piece = as_object(item, at(path, i))
        kind = piece.get("type")
        if kind in ("output_text", "input_text"):
            parts.append(c.ContentPart(text=c.TextPart(text=req_str(piece, "text", at(path, i)))))
        elif kind == "refusal":
            parts.append(c.ContentPart(text=c.TextPart(text=req_str(piece, "refusal", at(path, i)))))
        else:
            raise DialectError(f"assistant content of type {kind!r} is not supported", path=at(path, i))
    return parts


def decode_output_item(obj: Mapping[str, Any], path: str) -> c.ContentPart:
    """One model-produced item other than a message, as a canonical part."""
    kind = req_str(obj, "type", path)
    if kind == "reasoning":
        return c.ContentPart(reasoning=decode_reasoning(obj, path))
    if kind in ("function_call", "custom_tool_call"):
        custom = kind == "custom_tool_call"
        arguments = req_str(obj, "input", path) if custom else opt_str(obj, "arguments", path) or ""
        return c.ContentPart(
            tool_call=c.ToolCallPart(
                id=req_str(obj, "call_id", path),
                name=req_str(obj, "name", path),
                arguments_json=arguments,
                item_id=opt_str(obj, "id", path) or "",
                kind=c.TOOL_KIND_CUSTOM if custom else c.TOOL_KIND_FUNCTION,
                namespace=opt_str(obj, "namespace", path) or "",
            )
        )
    return c.ContentPart(
        hosted_tool=c.HostedToolPart(
            provider=OPENAI, type=kind, item_id=opt_str(obj, "id", path) or "", item_json=dumps_compact(obj)
        )
    )


def decode_reasoning(obj: Mapping[str, Any], path: str) -> c.ReasoningPart:
    summary = [
        req_str(as_object(s, at(at(path, "summary"), i)), "text", at(at(path, "summary"), i))
        for i, s in enumerate(opt_list(obj, "summary", path) or [])
    ]
    text = "".join(
        req_str(as_object(p, at(at(path, "content"), i)), "text", at(at(path, "content"), i))
        for i, p in enumerate(opt_list(obj, "content", path) or [])
    )
    encrypted = opt_str(obj, "encrypted_content", path) or ""
    return c.ReasoningPart(
        text=text,
        provider=OPENAI if encrypted else "",
        signature=encrypted,
        summary=summary,
        item_id=opt_str(obj, "id", path) or "",
    )


def _tool_output(obj: Mapping[str, Any], kind: str, path: str) -> c.Message:
    output = obj.get("output")
    content: list[c.ToolResultContent] = []
    if isinstance(output, str):
        content.append(c.ToolResultContent(text=c.TextPart(text=output)))
    else:
        for i, item in enumerate(as_list(output, at(path, "output"))):
            piece = as_object(item, at(at(path, "output"), i))
            if piece.get("type") in ("input_text", "output_text"):
                content.append(c.ToolResultContent(text=c.TextPart(text=req_str(piece, "text", at(path, "output")))))
            elif piece.get("type") == "input_image":
                content.append(c.ToolResultContent(image=_decode_image(piece, at(at(path, "output"), i))))
            else:
                raise DialectError(f"output parts of type {piece.get('type')!r} are not supported", path=path)
    result = c.ToolResultPart(
        tool_call_id=req_str(obj, "call_id", path),
        content=content,
        kind=c.TOOL_KIND_CUSTOM if kind == "custom_tool_call_output" else c.TOOL_KIND_FUNCTION,
    )
    return c.Message(role=c.MESSAGE_ROLE_TOOL, parts=[c.ContentPart(tool_result=result)])


# -- encoding ---------------------------------------------------------------------------------


def encode_input(messages: Sequence[c.Message]) -> list[JSONObject]:
    """Input items for canonical messages, for a request to a Responses endpoint.

    Reasoning without encrypted content is left out: the Responses API accepts a reasoning item
    only with the encrypted content (or, for stored responses, by id) that OpenAI made.
    """
    items: list[JSONObject] = []
    for i, message in enumerate(messages):
        path = at("messages", i)
        if message.role == c.MESSAGE_ROLE_SYSTEM:
            items.append({"type": "message", "role": "developer", "content": _input_parts(message, path)})
        elif message.role == c.MESSAGE_ROLE_ASSISTANT:
            items.extend(encode_assistant_items(message, path, for_input=True))
        elif message.role in (c.MESSAGE_ROLE_USER, c.MESSAGE_ROLE_TOOL):
            items.extend(_user_or_tool_items(message, path))
        else:
            raise DialectError("message role is unspecified", path=path)
    return items


def _input_parts(message: c.Message, path: str) -> list[JSONObject]:
    parts: list[JSONObject] = []
    for j, part in enumerate(message.parts):
        kind = part.WhichOneof("kind")
        if kind == "text":
            parts.append({"type": "input_text", "text": part.text.text})
        elif kind == "image" and message.role != c.MESSAGE_ROLE_SYSTEM:
            parts.append({"type": "input_image", "image_url": _image_url(part.image, path), "detail": "auto"})
        else:
            raise DialectError(f"this message cannot carry a {kind} part", path=at(at(path, "parts"), j))
    return parts


def _user_or_tool_items(message: c.Message, path: str) -> list[JSONObject]:
    items: list[JSONObject] = []
    pending = c.Message(role=c.MESSAGE_ROLE_USER)
    for j, part in enumerate(message.parts):
        kind = part.WhichOneof("kind")
        if kind == "tool_result":
            if pending.parts:
                items.append({"type": "message", "role": "user", "content": _input_parts(pending, path)})
                del pending.parts[:]
            items.append(_encode_tool_output(part.tool_result, at(at(path, "parts"), j)))
        elif kind in ("text", "image"):
            pending.parts.append(part)
        else:
            raise DialectError(f"a user or tool message cannot carry a {kind} part", path=at(at(path, "parts"), j))
    if pending.parts or not items:
        items.append({"type": "message", "role": "user", "content": _input_parts(pending, path)})
    return items


def _encode_tool_output(result: c.ToolResultPart, path: str) -> JSONObject:
    custom = result.kind == c.TOOL_KIND_CUSTOM
    output: str | list[JSONObject]
    if all(piece.WhichOneof("kind") == "text" for piece in result.content):
        output = "".join(piece.text.text for piece in result.content)
    else:
        output = [
            {"type": "input_text", "text": piece.text.text}
            if piece.WhichOneof("kind") == "text"
            else {"type": "input_image", "image_url": _image_url(piece.image, path), "detail": "auto"}
            for piece in result.content
        ]
    return {
        "type": "custom_tool_call_output" if custom else "function_call_output",
        "call_id": result.tool_call_id,
        "output": output,
    }


def _image_url(image: c.ImagePart, path: str) -> str:
    if image.WhichOneof("source") == "url":
        return image.url
    if not image.media_type:
        raise DialectError("an inline image needs a media type", path=path)
    return format_data_url(image.media_type, image.data)


def encode_assistant_items(
    message: c.Message, path: str = "message", *, for_input: bool = False, ids: ItemIds | None = None
) -> list[JSONObject]:
    """The items of one assistant message, in order; adjacent text parts share one message item.

    ``for_input`` writes items as a request's input carries them (reasoning without encrypted
    content left out); otherwise as a response's output (every item complete with an id, from
    ``ids`` when the part has none).
    """
    ids = ids or ItemIds("")
    items: list[JSONObject] = []
    texts: list[JSONObject] = []

    def flush() -> None:
        if texts:
            item: JSONObject = {"type": "message", "role": "assistant", "content": list(texts)}
            if not for_input:
                item = {"id": ids.next("msg"), **item, "status": "completed"}
            items.append(item)
            texts.clear()

    for j, part in enumerate(message.parts):
        kind = part.WhichOneof("kind")
        if kind == "text":
            texts.append({"type": "output_text", "text": part.text.text, "annotations": []})
            continue
        flush()
        if kind == "reasoning":
            reasoning = encode_reasoning(part.reasoning, ids, for_input=for_input)
            if reasoning is not None:
                items.append(reasoning)
        elif kind == "tool_call":
            items.append(encode_tool_call(part.tool_call, ids, for_input=for_input))
        elif kind == "hosted_tool":
            items.append(dict(loads_object(part.hosted_tool.item_json, at(at(path, "parts"), j))))
        else:
            raise DialectError(f"an assistant message cannot carry a {kind} part", path=at(at(path, "parts"), j))
    flush()
    return items


def encode_reasoning(part: c.ReasoningPart, ids: ItemIds, *, for_input: bool) -> JSONObject | None:
    """A reasoning item; None for input reasoning that OpenAI would not accept (no encrypted content)."""
    if for_input and not (part.provider == OPENAI and part.signature):
        return None
    item: JSONObject = {
        "type": "reasoning",
        "summary": [{"type": "summary_text", "text": s} for s in part.summary],
    }
    if part.item_id or not for_input:
        item = {"id": part.item_id or ids.next("rs"), **item}
    if part.text and not part.redacted:
        item["content"] = [{"type": "reasoning_text", "text": part.text}]
    if part.provider == OPENAI and part.signature:
        item["encrypted_content"] = part.signature
    return item


def encode_tool_call(call: c.ToolCallPart, ids: ItemIds, *, for_input: bool) -> JSONObject:
    custom = call.kind == c.TOOL_KIND_CUSTOM
    item: JSONObject = {"type": "custom_tool_call" if custom else "function_call"}
    if call.item_id or not for_input:
        item["id"] = call.item_id or ids.next("ctc" if custom else "fc")
    item["call_id"] = call.id
    if call.namespace:
        item["namespace"] = call.namespace
    item["name"] = call.name
    item["input" if custom else "arguments"] = call.arguments_json
    if not for_input:
        item["status"] = "completed"
    return item


class ItemIds:
    """Ids for output items the provider gave none (an answer that came through another dialect).

    They derive from the response id and a counter, so one response never repeats an id.
    """

    def __init__(self, response_id: str) -> None:
        self._base = response_id.split("_", 1)[-1] if response_id else "item"
        self._count = 0

    def next(self, prefix: str) -> str:
        self._count += 1
        return f"{prefix}_{self._base}_{self._count}"
