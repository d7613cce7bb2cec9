"""Items of tools a provider ran itself, across endpoints (spec chapter 8).

A hosted-tool item (an OpenAI Responses ``web_search_call``, an Anthropic ``server_tool_use`` or
``web_search_tool_result`` block) records work the provider did on its own side; only that provider
family, through the dialect that defines such items, can read it.
Any other endpoint would reject it, so it is left out, and the transform says so. The answer the
model wrote from the tool's results stays in the conversation as ordinary text.
"""

from __future__ import annotations

from rolemodel.v1 import catalog_pb2, common_pb2, conversation_pb2, decision_pb2
from rolemodel_router.handoff.families import provider_family, wire_dialect
from rolemodel_router.handoff.transforms import TransformLog

C = conversation_pb2


#: The dialect whose hosted-tool items each provider family produces.
_HOSTED_TOOL_DIALECTS = {
    "openai": common_pb2.API_DIALECT_OPENAI_RESPONSES,
    "anthropic": common_pb2.API_DIALECT_ANTHROPIC_MESSAGES,
}


def keeps_hosted_tools(endpoint: catalog_pb2.Endpoint, provider: str) -> bool:
    """Whether ``endpoint`` can read hosted-tool items that ``provider`` produced."""
    native = wire_dialect(endpoint) == _HOSTED_TOOL_DIALECTS.get(provider)
    return native and provider_family(endpoint.provider_kind) == provider


def drop_hosted_tools(message: C.Message, index: int, endpoint: catalog_pb2.Endpoint, log: TransformLog) -> C.Message:
    """``message`` without the hosted-tool items ``endpoint`` cannot read; the same object if there are none."""

    def unreadable(part: C.ContentPart) -> bool:
        return part.HasField("hosted_tool") and not keeps_hosted_tools(endpoint, part.hosted_tool.provider)

    foreign = [part for part in message.parts if unreadable(part)]
    if not foreign:
        return message
    changed = C.Message()
    changed.CopyFrom(message)
    del changed.parts[:]
    changed.parts.extend(part for part in message.parts if not unreadable(part))
    types = ", ".join(sorted({p.hosted_tool.type for p in foreign}))
    log.add(
        decision_pb2.HANDOFF_TRANSFORM_KIND_HOSTED_TOOL_DROPPED,
        index,
        f"items of tools the provider ran itself ({types}) dropped for '{endpoint.id}', which cannot read them",
    )
    return changed
