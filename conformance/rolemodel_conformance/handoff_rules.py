"""Spec chapter 8 as the suite computes it: the messages and transforms a handoff must produce.

The handoff checks hold a router's answer against this function, never against
the router's own reasoning. It restates the chapter rule by rule, in the
chapter's order (response ids, reasoning, hosted-tool items, images, tool-call
ids, then cache breakpoints), and ``rolemodel-conformance --vectors`` shows that it reproduces
every published handoff vector (``spec/vectors/handoff/``) before any router is
judged with it.

What can go wrong: nothing is validated here. Give it the messages of a
request, the fixture's endpoint and the role's policy; it does not know about
compaction, so the checks keep their prompts far below every context window.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence
from dataclasses import dataclass, field

from rolemodel.v1 import catalog_pb2, common_pb2, conversation_pb2, decision_pb2

C = conversation_pb2
#: Spec 8.1: the provider family is the lower-case provider kind without its prefix.
_KIND_PREFIX = "PROVIDER_KIND_"
#: Spec 8.3: Anthropic accepts 1 to 64 of these characters; every other family is held to 1 to 40.
_ANTHROPIC_ID = re.compile(r"[A-Za-z0-9_-]{1,64}")
_PORTABLE_ID = re.compile(r"[A-Za-z0-9_-]{1,40}")
REMAPPED_PREFIX = "rm_"
REMAPPED_HEX_DIGITS = 24


def provider_family(kind: common_pb2.ProviderKind.ValueType) -> str:
    return common_pb2.ProviderKind.Name(kind).removeprefix(_KIND_PREFIX).lower()


def accepts_tool_id(kind: common_pb2.ProviderKind.ValueType, tool_id: str) -> bool:
    pattern = _ANTHROPIC_ID if kind == common_pb2.PROVIDER_KIND_ANTHROPIC else _PORTABLE_ID
    return pattern.fullmatch(tool_id) is not None


def remapped_tool_id(original: str) -> str:
    """RM-HANDOFF-021: ``rm_`` and the first 24 lower-case hex digits of SHA-256 of the UTF-8 id."""
    return REMAPPED_PREFIX + hashlib.sha256(original.encode("utf-8")).hexdigest()[:REMAPPED_HEX_DIGITS]


def placeholder_text(image: C.ImagePart) -> str:
    """RM-HANDOFF-030: the text that stands in for an image."""
    description = image.description.strip()
    return f"[image: {description}]" if description else "[image: no description was given]"


#: Families that take reasoning only with their own signature (RM-HANDOFF-006).
SIGNATURE_ONLY_FAMILIES = frozenset({"anthropic"})


def is_foreign(reasoning: C.ReasoningPart, family: str) -> bool:
    """RM-HANDOFF-006: another family's block; an unlabelled signed block; any unlabelled block for Anthropic."""
    if reasoning.provider:
        return reasoning.provider != family
    return bool(reasoning.signature) or family in SIGNATURE_ONLY_FAMILIES


@dataclass
class Handoff:
    """The messages to send and each transform kind (name without prefix) with the request indexes it touched."""

    messages: list[C.Message] = field(default_factory=list)
    transforms: dict[str, list[int]] = field(default_factory=dict)

    def note(self, kind: str, index: int) -> None:
        indexes = self.transforms.setdefault(kind, [])
        if index not in indexes:
            indexes.append(index)
            indexes.sort()


def transform_kinds(plan: decision_pb2.HandoffPlan) -> dict[str, list[int]]:
    """A plan's transforms in the same form: kind name without prefix, sorted indexes."""
    out: dict[str, list[int]] = {}
    for transform in plan.transforms:
        name = decision_pb2.HandoffTransformKind.Name(transform.kind).removeprefix("HANDOFF_TRANSFORM_KIND_")
        out[name] = sorted(set(out.get(name, [])) | set(transform.message_indexes))
    return out


def _reasoning(message: C.Message, index: int, family: str, to_text: bool, out: Handoff) -> C.Message:
    changed = C.Message()
    changed.CopyFrom(message)
    del changed.parts[:]
    for part in message.parts:
        if part.WhichOneof("kind") != "reasoning" or not is_foreign(part.reasoning, family):
            changed.parts.append(part)
        elif to_text and part.reasoning.text and not part.reasoning.redacted:
            text = changed.parts.add(text=C.TextPart(text=part.reasoning.text))
            if part.HasField("cache_breakpoint"):
                text.cache_breakpoint.CopyFrom(part.cache_breakpoint)
            out.note("REASONING_TO_TEXT", index)
        else:
            out.note("REASONING_DROPPED", index)
    return changed


def speaks_responses(endpoint: catalog_pb2.Endpoint) -> bool:
    """Spec 8.1: the connection's dialect; unspecified means Messages for Anthropic, Chat Completions otherwise."""
    return endpoint.connection.api_dialect == common_pb2.API_DIALECT_OPENAI_RESPONSES


def _hosted_tools(message: C.Message, index: int, endpoint: catalog_pb2.Endpoint, out: Handoff) -> C.Message:
    """RM-HANDOFF-008: hosted-tool items reach only a Responses endpoint of the family that made them."""
    family = provider_family(endpoint.provider_kind)

    def readable(part: C.ContentPart) -> bool:
        return part.WhichOneof("kind") != "hosted_tool" or (
            speaks_responses(endpoint) and part.hosted_tool.provider == family
        )

    if all(readable(part) for part in message.parts):
        return message
    changed = C.Message()
    changed.CopyFrom(message)
    del changed.parts[:]
    changed.parts.extend(part for part in message.parts if readable(part))
    out.note("HOSTED_TOOL_DROPPED", index)
    return changed


def _images(message: C.Message, index: int, out: Handoff) -> None:
    pieces: list[C.ContentPart | C.ToolResultContent] = [p for p in message.parts if p.WhichOneof("kind") == "image"]
    results = [p.tool_result for p in message.parts if p.WhichOneof("kind") == "tool_result"]
    pieces += [p for r in results for p in r.content if p.WhichOneof("kind") == "image"]
    for piece in pieces:
        piece.text.CopyFrom(C.TextPart(text=placeholder_text(piece.image)))
        out.note("IMAGE_PLACEHOLDER", index)


def _tool_ids(message: C.Message, index: int, kind: common_pb2.ProviderKind.ValueType, out: Handoff) -> None:
    for part in message.parts:
        which = part.WhichOneof("kind")
        if which == "tool_call" and not accepts_tool_id(kind, part.tool_call.id):
            part.tool_call.id = remapped_tool_id(part.tool_call.id)
            out.note("TOOL_IDS_REMAPPED", index)
        elif which == "tool_result" and not accepts_tool_id(kind, part.tool_result.tool_call_id):
            part.tool_result.tool_call_id = remapped_tool_id(part.tool_result.tool_call_id)
            out.note("TOOL_IDS_REMAPPED", index)


def _breakpoints(out: Handoff, origins: list[int], caching: catalog_pb2.CachingBehavior) -> None:
    """RM-HANDOFF-040 and -041: the end of the leading system messages and the end of the prompt."""
    messages = out.messages
    if caching.mode != catalog_pb2.CACHE_MODE_EXPLICIT:
        return
    if any(part.HasField("cache_breakpoint") for m in messages for part in m.parts):
        return
    leading = 0
    while leading < len(messages) and messages[leading].role == C.MESSAGE_ROLE_SYSTEM:
        leading += 1
    marked = [leading - 1] if 0 < leading < len(messages) else []
    marked += [len(messages) - 1] if messages else []
    for position in marked:
        if messages[position].parts:
            messages[position].parts[-1].cache_breakpoint.ttl_seconds = caching.ttl_seconds
            out.note("CACHE_BREAKPOINT_PLACED", origins[position])


def expected_handoff(
    messages: Sequence[C.Message], endpoint: catalog_pb2.Endpoint, policy: catalog_pb2.HandoffPolicy
) -> Handoff:
    """What a router must send ``endpoint`` for ``messages`` under the role's ``policy``."""
    out = Handoff()
    family = provider_family(endpoint.provider_kind)
    to_text = policy.reasoning == catalog_pb2.REASONING_HANDOFF_TO_TEXT
    placeholders = (
        policy.images == catalog_pb2.IMAGE_HANDOFF_PLACEHOLDER
        and common_pb2.MODALITY_IMAGE not in endpoint.input_modalities
    )
    origins: list[int] = []
    for index, original in enumerate(messages):
        message = _reasoning(original, index, family, to_text, out)
        message = _hosted_tools(message, index, endpoint, out)
        if message.provider_response_id and message.origin_endpoint_id != endpoint.id:
            message.provider_response_id = ""
            out.note("RESPONSE_ID_DROPPED", index)
        if message.role == C.MESSAGE_ROLE_ASSISTANT and original.parts and not message.parts:
            out.note("MESSAGES_DROPPED", index)
            continue
        if placeholders:
            _images(message, index, out)
        _tool_ids(message, index, endpoint.provider_kind, out)
        out.messages.append(message)
        origins.append(index)
    _breakpoints(out, origins, endpoint.caching)
    return out


#: Spec 8.6: the room a summary leaves under COMPACTION_STRATEGY_SUMMARY.
SUMMARY_ROOM_TOKENS = 1024
SUMMARY_PREFIX = "[Summary of the earlier conversation]"


@dataclass(frozen=True)
class TailWindow:
    """Spec 8.6's tail window: the request indexes kept, those dropped, and the compacted prompt's tokens."""

    kept: list[int]
    dropped: list[int]
    prompt_tokens: int


def tail_window(sizes: Sequence[int], roles: Sequence[int], tools_tokens: int, room: int) -> TailWindow | None:
    """The leading system messages and everything from the oldest user message on that fits ``room`` tokens.

    ``sizes`` are the messages' token counts and ``roles`` their roles; None when no user message qualifies.
    """
    leading = 0
    while leading < len(roles) and roles[leading] == C.MESSAGE_ROLE_SYSTEM:
        leading += 1
    fixed = tools_tokens + sum(sizes[:leading])
    start = None
    for candidate in range(leading, len(sizes)):
        if roles[candidate] == C.MESSAGE_ROLE_USER and fixed + sum(sizes[candidate:]) <= room:
            start = candidate
            break
    if start is None:
        return None
    kept = [*range(leading), *range(start, len(sizes))]
    return TailWindow(kept, list(range(leading, start)), fixed + sum(sizes[start:]))
