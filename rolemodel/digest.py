"""The message digest chain (spec chapter 4).

Each message is serialised canonically, hashed, and chained:
``d_0 = 32 zero bytes`` and ``d_i = SHA-256(d_{i-1} || SHA-256(canonical(m_i)))``.
Because each digest covers everything before it, one equal digest proves that
two conversations share the whole prefix up to that message. Routers use this
to match a prompt against the prefix a provider holds in its cache without
seeing the text again.

The canonical form is a JSON object with every key present, keys sorted,
no insignificant whitespace, non-ASCII characters as raw UTF-8, and only the
escapes JSON requires (RFC 8785 for documents without numbers). Fields that do
not reach the model (origin endpoint, response id, cache breakpoints, image
descriptions, provider item ids) are left out, so that they never change a digest. Keys added
after 1.0 (a custom call's kind, a call's namespace, a reasoning summary) appear only when set.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from typing import Any

from rolemodel.v1 import conversation_pb2

DIGEST_SIZE = 32
ZERO_DIGEST = bytes(DIGEST_SIZE)

_ROLE_NAMES = {
    conversation_pb2.MESSAGE_ROLE_SYSTEM: "system",
    conversation_pb2.MESSAGE_ROLE_USER: "user",
    conversation_pb2.MESSAGE_ROLE_ASSISTANT: "assistant",
    conversation_pb2.MESSAGE_ROLE_TOOL: "tool",
}


def _image(image: conversation_pb2.ImagePart) -> dict[str, Any]:
    if image.WhichOneof("source") == "url":
        return {"type": "image", "media_type": image.media_type, "url": image.url, "sha256": ""}
    return {
        "type": "image",
        "media_type": image.media_type,
        "url": "",
        "sha256": hashlib.sha256(image.data).hexdigest(),
    }


def _part(part: conversation_pb2.ContentPart) -> dict[str, Any]:
    kind = part.WhichOneof("kind")
    if kind == "text":
        return {"type": "text", "text": part.text.text}
    if kind == "image":
        return _image(part.image)
    if kind == "tool_call":
        call = part.tool_call
        document = {"type": "tool_call", "id": call.id, "name": call.name, "arguments": call.arguments_json}
        if call.kind == conversation_pb2.TOOL_KIND_CUSTOM:
            document["kind"] = "custom"  # keys added after 1.0 appear only when set, so 1.0 digests hold
        if call.namespace:
            document["namespace"] = call.namespace
        return document
    if kind == "tool_result":
        result = part.tool_result
        content: list[dict[str, Any]] = []
        for piece in result.content:
            if piece.WhichOneof("kind") == "image":
                content.append(_image(piece.image))
            else:
                content.append({"type": "text", "text": piece.text.text})
        return {
            "type": "tool_result",
            "tool_call_id": result.tool_call_id,
            "is_error": result.is_error,
            "content": content,
        }
    if kind == "reasoning":
        r = part.reasoning
        return {
            "type": "reasoning",
            "text": r.text,
            "provider": r.provider,
            "signature": r.signature,
            "redacted": r.redacted,
            **({"summary": list(r.summary)} if r.summary else {}),
        }
    if kind == "hosted_tool":
        h = part.hosted_tool
        return {"type": "hosted_tool", "provider": h.provider, "tool_type": h.type, "item": h.item_json}
    raise ValueError("content part has no kind set")


def canonical_message(message: conversation_pb2.Message) -> bytes:
    """The canonical UTF-8 serialisation of one message.

    Raises ValueError for a message without a role or with an empty part,
    since those have no canonical form.
    """
    role = _ROLE_NAMES.get(message.role)
    if role is None:
        raise ValueError("message role is unspecified")
    document = {"role": role, "parts": [_part(p) for p in message.parts]}
    return json.dumps(document, ensure_ascii=False, separators=(",", ":"), sort_keys=True).encode()


def chain(previous: bytes, message: conversation_pb2.Message) -> bytes:
    """d_i from d_{i-1} and m_i."""
    if len(previous) != DIGEST_SIZE:
        raise ValueError(f"a digest has {DIGEST_SIZE} bytes, got {len(previous)}")
    inner = hashlib.sha256(canonical_message(message)).digest()
    return hashlib.sha256(previous + inner).digest()


def digest_chain(messages: Iterable[conversation_pb2.Message]) -> list[bytes]:
    """[d_1, ..., d_n] for the messages in order."""
    out: list[bytes] = []
    previous = ZERO_DIGEST
    for message in messages:
        previous = chain(previous, message)
        out.append(previous)
    return out
