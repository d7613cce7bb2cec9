"""Provider families and what each accepts, the facts every handoff rule starts from (spec 8.1).

A reasoning signature is valid only within the family that made it, and each family has its own
rule for tool-call ids. The family of an endpoint follows from its provider kind alone, so two
endpoints of one kind (two Anthropic models, two self-hosted servers) share state freely.
"""

from __future__ import annotations

import re

from rolemodel.v1 import catalog_pb2, common_pb2

_FAMILIES: dict[common_pb2.ProviderKind.ValueType, str] = {
    common_pb2.PROVIDER_KIND_OPENAI: "openai",
    common_pb2.PROVIDER_KIND_ANTHROPIC: "anthropic",
    common_pb2.PROVIDER_KIND_DEEPSEEK: "deepseek",
    common_pb2.PROVIDER_KIND_GOOGLE: "google",
    common_pb2.PROVIDER_KIND_OPENAI_COMPATIBLE: "openai_compatible",
}

#: Anthropic accepts tool_use ids of letters, digits, '_' and '-'.
_ANTHROPIC_TOOL_ID = re.compile(r"[A-Za-z0-9_-]{1,64}")
#: OpenAI rejects ids longer than 40 characters; compatible servers are held to the same portable form.
_PORTABLE_TOOL_ID = re.compile(r"[A-Za-z0-9_-]{1,40}")


def provider_family(kind: common_pb2.ProviderKind.ValueType) -> str:
    """The family name that ``ReasoningPart.provider`` uses for reasoning this kind produced."""
    return _FAMILIES.get(kind, "unspecified")


def wire_dialect(endpoint: catalog_pb2.Endpoint) -> common_pb2.ApiDialect.ValueType:
    """The endpoint's dialect: the connection's, or the provider kind's usual one when unspecified."""
    dialect = endpoint.connection.api_dialect
    if dialect != common_pb2.API_DIALECT_UNSPECIFIED:
        return dialect
    if endpoint.provider_kind == common_pb2.PROVIDER_KIND_ANTHROPIC:
        return common_pb2.API_DIALECT_ANTHROPIC_MESSAGES
    return common_pb2.API_DIALECT_OPENAI_CHAT


def accepts_tool_id(kind: common_pb2.ProviderKind.ValueType, tool_id: str) -> bool:
    """Whether an endpoint of this kind accepts ``tool_id`` as a tool-call id unchanged."""
    pattern = _ANTHROPIC_TOOL_ID if kind == common_pb2.PROVIDER_KIND_ANTHROPIC else _PORTABLE_TOOL_ID
    return pattern.fullmatch(tool_id) is not None
