"""Hypothesis strategies for canonical messages, shared by the SDK, router and codec tests."""

from __future__ import annotations

from hypothesis import strategies as st

from rolemodel.v1 import conversation_pb2 as c

# Any valid Unicode except surrogates, which protobuf strings cannot hold.
texts = st.text(alphabet=st.characters(blacklist_categories=["Cs"]), max_size=80)
ids = st.text(alphabet="abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-", min_size=1, max_size=24)
media_types = st.sampled_from(["image/png", "image/jpeg", "image/webp", "image/gif"])


@st.composite
def images(draw: st.DrawFn) -> c.ImagePart:
    if draw(st.booleans()):
        return c.ImagePart(media_type=draw(media_types), data=draw(st.binary(max_size=64)))
    return c.ImagePart(media_type=draw(media_types), url="https://example.com/" + draw(ids) + ".png")


@st.composite
def json_arguments(draw: st.DrawFn) -> str:
    keys = draw(st.lists(ids, max_size=3, unique=True))
    values = draw(st.lists(texts, min_size=len(keys), max_size=len(keys)))
    import json

    return json.dumps(dict(zip(keys, values, strict=True)), ensure_ascii=False)


@st.composite
def parts(draw: st.DrawFn, role: int) -> c.ContentPart:
    if role == c.MESSAGE_ROLE_ASSISTANT:
        kind = draw(st.sampled_from(["text", "tool_call", "reasoning"]))
    elif role == c.MESSAGE_ROLE_TOOL:
        kind = "tool_result"
    elif role == c.MESSAGE_ROLE_USER:
        kind = draw(st.sampled_from(["text", "text", "image"]))
    else:
        kind = "text"
    if kind == "text":
        return c.ContentPart(text=c.TextPart(text=draw(texts)))
    if kind == "image":
        return c.ContentPart(image=draw(images()))
    if kind == "tool_call":
        return c.ContentPart(
            tool_call=c.ToolCallPart(id=draw(ids), name=draw(ids), arguments_json=draw(json_arguments()))
        )
    if kind == "reasoning":
        return c.ContentPart(
            reasoning=c.ReasoningPart(text=draw(texts), provider="anthropic", signature=draw(ids), redacted=False)
        )
    content = [c.ToolResultContent(text=c.TextPart(text=draw(texts))) for _ in range(draw(st.integers(1, 2)))]
    return c.ContentPart(
        tool_result=c.ToolResultPart(tool_call_id=draw(ids), content=content, is_error=draw(st.booleans()))
    )


@st.composite
def messages(draw: st.DrawFn) -> c.Message:
    role = draw(
        st.sampled_from([c.MESSAGE_ROLE_SYSTEM, c.MESSAGE_ROLE_USER, c.MESSAGE_ROLE_ASSISTANT, c.MESSAGE_ROLE_TOOL])
    )
    return c.Message(role=role, parts=draw(st.lists(parts(role), min_size=1, max_size=3)))


conversations = st.lists(messages(), min_size=1, max_size=6)
