"""Tool-call ids the target cannot accept, remapped the same way on every turn.

Ids are remapped by a pure function of the original id, so a call and its result, and the same
call re-sent on every later turn, always get the same new id with no state to keep. Unchanged
ids stay unchanged, so a conversation that never leaves one provider is never rewritten.
"""

from __future__ import annotations

import hashlib

from rolemodel.v1 import common_pb2, conversation_pb2, decision_pb2
from rolemodel_router.handoff.families import accepts_tool_id
from rolemodel_router.handoff.transforms import TransformLog

C = conversation_pb2
REMAPPED_PREFIX = "rm_"


def remapped_tool_id(original: str) -> str:
    """``rm_`` and the first 24 hex digits of SHA-256 of the UTF-8 id: accepted by every provider family."""
    return REMAPPED_PREFIX + hashlib.sha256(original.encode()).hexdigest()[:24]


def _ids(message: C.Message) -> list[str]:
    ids = []
    for part in message.parts:
        if part.HasField("tool_call"):
            ids.append(part.tool_call.id)
        elif part.HasField("tool_result"):
            ids.append(part.tool_result.tool_call_id)
    return ids


def remap_tool_ids(
    message: C.Message, index: int, kind: common_pb2.ProviderKind.ValueType, log: TransformLog
) -> C.Message:
    """``message`` with every unacceptable call id and result reference remapped; the same object if none is."""
    rejected = [tool_id for tool_id in _ids(message) if not accepts_tool_id(kind, tool_id)]
    if not rejected:
        return message
    changed = C.Message()
    changed.CopyFrom(message)
    for part in changed.parts:
        if part.HasField("tool_call") and not accepts_tool_id(kind, part.tool_call.id):
            part.tool_call.id = remapped_tool_id(part.tool_call.id)
        elif part.HasField("tool_result") and not accepts_tool_id(kind, part.tool_result.tool_call_id):
            part.tool_result.tool_call_id = remapped_tool_id(part.tool_result.tool_call_id)
    log.add(
        decision_pb2.HANDOFF_TRANSFORM_KIND_TOOL_IDS_REMAPPED,
        index,
        "tool-call ids the target does not accept replaced by rm_ and 24 hex digits of their SHA-256",
    )
    return changed
