"""The handoff for one target endpoint: every rule of spec chapter 8, in a fixed order.

``Route`` (for ``include_handoff`` and the plan's transforms) and ``Execute`` (for what it sends)
call the same function, which is what makes RM-HANDOFF-010 true by construction: a client that
calls the model itself sends exactly what ``Execute`` would have sent.

Order matters where rules meet: response ids and reasoning first (they concern the message's
origin), then images and tool ids (the target's formats), and cache breakpoints last, on the
final list of messages.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from rolemodel.v1 import catalog_pb2, common_pb2, conversation_pb2, decision_pb2
from rolemodel_router.handoff.breakpoints import place_breakpoints
from rolemodel_router.handoff.compaction import Compaction
from rolemodel_router.handoff.families import provider_family
from rolemodel_router.handoff.hosted_tools import drop_hosted_tools
from rolemodel_router.handoff.images import replace_images
from rolemodel_router.handoff.reasoning import transform_reasoning
from rolemodel_router.handoff.tool_ids import remap_tool_ids
from rolemodel_router.handoff.transforms import TransformLog

C = conversation_pb2
D = decision_pb2


@dataclass(frozen=True, slots=True)
class HandoffTarget:
    """What the rules need to know about the endpoint that receives the conversation."""

    endpoint: catalog_pb2.Endpoint
    accepts_images: bool

    @classmethod
    def of(cls, endpoint: catalog_pb2.Endpoint) -> HandoffTarget:
        return cls(endpoint, common_pb2.MODALITY_IMAGE in endpoint.input_modalities)


@dataclass(frozen=True, slots=True)
class Handoff:
    """The messages to send and the transforms that made them from the request's messages."""

    messages: tuple[C.Message, ...]
    transforms: tuple[D.HandoffTransform, ...]
    summary_at: int | None = None  # where a summary of the dropped turns goes, under the summary strategy


def _drop_response_id(message: C.Message, index: int, target_id: str, log: TransformLog) -> C.Message:
    """RM-HANDOFF-004: a server-side response id means nothing to any other endpoint."""
    if not message.provider_response_id or message.origin_endpoint_id == target_id:
        return message
    changed = C.Message()
    changed.CopyFrom(message)
    changed.provider_response_id = ""
    log.add(
        D.HANDOFF_TRANSFORM_KIND_RESPONSE_ID_DROPPED,
        index,
        f"provider response ids of other endpoints dropped for '{target_id}'",
    )
    return changed


_MAY_HOLD_IMAGES = frozenset({"image", "tool_result"})
_MAY_HOLD_TOOL_IDS = frozenset({"tool_call", "tool_result"})


def _is_empty_assistant(message: C.Message) -> bool:
    return message.role == C.MESSAGE_ROLE_ASSISTANT and not message.parts


def apply_handoff(
    messages: Sequence[C.Message],
    target: HandoffTarget,
    policy: catalog_pb2.HandoffPolicy,
    compaction: Compaction | None = None,
) -> Handoff:
    """The transformed messages for ``target`` under the role's ``policy``.

    With a ``compaction`` (see :mod:`.compaction`) only the messages it keeps are sent; under the
    summary strategy the summary is not made here (it needs a model): :attr:`Handoff.summary_at`
    says where Execute inserts it. Messages that need no change are returned as the same objects.
    """
    endpoint = target.endpoint
    family = provider_family(endpoint.provider_kind)
    log = TransformLog()
    out: list[C.Message] = []
    origins: list[int] = []
    dropped: list[int] = []
    if compaction is not None:
        kind = (
            D.HANDOFF_TRANSFORM_KIND_MESSAGES_SUMMARIZED
            if compaction.summarized
            else D.HANDOFF_TRANSFORM_KIND_MESSAGES_DROPPED
        )
        why = "replaced by a summary from the summarize role" if compaction.summarized else "left out"
        log.add_many(
            kind,
            list(compaction.dropped),
            f"the conversation exceeds the window of '{endpoint.id}': older turns {why}, "
            "keeping the system prompt and the newest turns from a user message on",
        )
    placeholders = not target.accepts_images and policy.images == catalog_pb2.IMAGE_HANDOFF_PLACEHOLDER
    client_breakpoint = False
    for index in range(len(messages)) if compaction is None else compaction.kept:
        message = messages[index]
        # One pass over the parts says which rules can apply; most messages are plain text and skip them all.
        kinds = set()
        for part in message.parts:
            kinds.add(part.WhichOneof("kind"))
            client_breakpoint = client_breakpoint or part.HasField("cache_breakpoint")
        if message.provider_response_id:
            message = _drop_response_id(message, index, endpoint.id, log)
        if "reasoning" in kinds:
            message = transform_reasoning(message, index, family, policy.reasoning, log)
            if _is_empty_assistant(message):
                dropped.append(index)  # held nothing but foreign reasoning; an empty turn is invalid everywhere
                continue
        if "hosted_tool" in kinds:
            message = drop_hosted_tools(message, index, endpoint, log)
            if _is_empty_assistant(message):
                dropped.append(index)
                continue
        if placeholders and kinds & _MAY_HOLD_IMAGES:
            message = replace_images(message, index, log)
        if kinds & _MAY_HOLD_TOOL_IDS:
            message = remap_tool_ids(message, index, endpoint.provider_kind, log)
        out.append(message)
        origins.append(index)
    if dropped:
        log.add_many(
            D.HANDOFF_TRANSFORM_KIND_MESSAGES_DROPPED,
            dropped,
            "assistant messages left empty once their foreign reasoning or hosted-tool items were dropped",
        )
    if not client_breakpoint:
        place_breakpoints(out, origins, endpoint.caching, log)
    summary_at = compaction.shared_prefix_messages if compaction is not None and compaction.summarized else None
    return Handoff(tuple(out), tuple(log.to_proto()), summary_at)
