"""One endpoint's wire dialect: its URL, headers, and the codecs that encode and decode for it.

The codecs in :mod:`rolemodel.dialects` know the formats; this module knows how an endpoint of the
catalog is reached (which dialect, which path, which key header), so the executor never branches
on a provider.

Tools that only the Responses API knows are adapted here for the other dialects: the function
tools of a namespace tool are offered one by one under their own names (Chat Completions and
Messages have no namespaces), and :func:`namespace_of_calls` puts the namespace back on the calls
the model makes. Custom tools and hosted tools have no equivalent; a request that offers them to
another dialect is refused by the codec (hosted tools never get that far: eligibility excludes
endpoints that do not list them).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from rolemodel.dialects import anthropic_messages, openai_chat, openai_responses
from rolemodel.dialects.canonical import CanonicalRequest, Completion, ProviderError
from rolemodel.dialects.errors import DialectError
from rolemodel.v1 import catalog_pb2, common_pb2, conversation_pb2, router_service_pb2
from rolemodel_router.handoff.families import provider_family, wire_dialect

ANTHROPIC_VERSION = "2023-06-01"
#: Anthropic needs max_tokens; an endpoint that declares no maximum gets this.
FALLBACK_MAX_TOKENS = 4096
C = conversation_pb2


class StreamDecoder(Protocol):
    def feed_bytes(self, data: bytes) -> list[router_service_pb2.ContentDelta]: ...

    def completion(self) -> Completion: ...


def flatten_namespaces(tools: list[C.ToolDefinition], *, hosted: bool = False) -> list[C.ToolDefinition]:
    """Tools for a dialect without namespaces: a namespace's tools take its place, each under its own name.

    ``hosted`` says whether the dialect has hosted tools (the Messages API's server tools; the
    eligibility rules send one only to an endpoint that lists it). Raises DialectError for custom
    tools, which only the Responses API has, and for hosted tools where the dialect has none.
    """
    flat: list[C.ToolDefinition] = []
    for tool in tools:
        flat.extend(tool.tools if tool.kind == C.TOOL_KIND_NAMESPACE else [tool])
    refused = (C.TOOL_KIND_CUSTOM,) if hosted else (C.TOOL_KIND_CUSTOM, C.TOOL_KIND_HOSTED)
    only_responses = sorted(t.name for t in flat if t.kind in refused)
    if only_responses:
        raise DialectError(
            f"only the Responses API has the custom or hosted tools {', '.join(only_responses)}", path="tools"
        )
    names = [tool.name for tool in flat]
    duplicates = sorted({name for name in names if names.count(name) > 1})
    if duplicates:
        raise DialectError(f"namespaced tools share names with other tools: {', '.join(duplicates)}", path="tools")
    return flat


def namespace_of_calls(tools: list[C.ToolDefinition]) -> dict[str, str]:
    """Tool name to namespace, for the tools defined inside namespace tools."""
    return {member.name: tool.name for tool in tools if tool.kind == C.TOOL_KIND_NAMESPACE for member in tool.tools}


@dataclass(frozen=True, slots=True)
class Dialect:
    """How to call one endpoint."""

    endpoint: catalog_pb2.Endpoint
    wire: common_pb2.ApiDialect.ValueType

    @classmethod
    def of(cls, endpoint: catalog_pb2.Endpoint) -> Dialect:
        return cls(endpoint, wire_dialect(endpoint))

    @property
    def anthropic(self) -> bool:
        return self.wire == common_pb2.API_DIALECT_ANTHROPIC_MESSAGES

    @property
    def responses(self) -> bool:
        return self.wire == common_pb2.API_DIALECT_OPENAI_RESPONSES

    @property
    def llama_cpp(self) -> bool:
        """Chat Completions with llama.cpp's slot and cache extensions (spec 10.4)."""
        return self.wire == common_pb2.API_DIALECT_LLAMA_CPP

    @property
    def family(self) -> str:
        return provider_family(self.endpoint.provider_kind)

    @property
    def streams(self) -> bool:
        return common_pb2.CAPABILITY_STREAMING in self.endpoint.capabilities

    @property
    def url(self) -> str:
        """OpenAI base URLs end in /v1 (as the OpenAI SDK's do); Messages base URLs do not."""
        base = self.endpoint.connection.base_url.rstrip("/")
        if self.anthropic:
            return f"{base}/v1/messages"
        return f"{base}/responses" if self.responses else f"{base}/chat/completions"

    def headers(self, api_key: str | None) -> dict[str, str]:
        headers = {
            "content-type": "application/json",
            "accept": "text/event-stream" if self.streams else "application/json",
        }
        if self.anthropic:
            headers["anthropic-version"] = ANTHROPIC_VERSION
            if api_key:
                headers["x-api-key"] = api_key
        elif api_key:
            headers["authorization"] = f"Bearer {api_key}"
        return headers

    def passthrough_headers(self, params: router_service_pb2.GenerationParams) -> dict[str, str]:
        """The client's headers of this endpoint's dialect that the request carries (``anthropic-beta``)."""
        if not self.anthropic:
            return {}
        prefix = anthropic_messages.PASSTHROUGH_PREFIX + "header:"
        return {key.removeprefix(prefix): value for key, value in params.passthrough.items() if key.startswith(prefix)}

    @property
    def reasons(self) -> bool:
        return common_pb2.CAPABILITY_REASONING in self.endpoint.capabilities

    def encode(self, request: CanonicalRequest, *, slot: int | None = None) -> dict[str, Any]:
        """The request body; raises DialectError for content this dialect cannot carry.

        On a llama.cpp server the prompt stays cached (``cache_prompt``) and, when the decision
        gave the conversation a slot, the request is pinned to it (``id_slot``), so that the
        server's cache follows the router's residents (spec 7.7) instead of its own slot choice.
        """
        if self.responses:
            reasons = common_pb2.CAPABILITY_REASONING in self.endpoint.capabilities
            return openai_responses.encode_request(request, include_reasoning=reasons)
        request = CanonicalRequest(
            model=request.model,
            messages=request.messages,
            tools=flatten_namespaces(list(request.tools), hosted=self.anthropic),
            params=request.params,
            stream=request.stream,
        )
        if self.anthropic:
            return anthropic_messages.encode_request(
                request,
                default_max_tokens=self.endpoint.max_output_tokens or FALLBACK_MAX_TOKENS,
                reasoning_provider=self.family,
                reasoning=self.reasons,
            )
        official = self.endpoint.provider_kind == common_pb2.PROVIDER_KIND_OPENAI
        body = openai_chat.encode_request(
            request,
            max_tokens_field="max_completion_tokens" if official else "max_tokens",
            include_usage=True,
            reasoning=self.reasons,
        )
        if self.llama_cpp:
            body["cache_prompt"] = True
            if slot is not None:
                body["id_slot"] = slot
        return body

    def stream_decoder(self) -> StreamDecoder:
        if self.responses:
            return openai_responses.ResponsesStreamDecoder()
        if self.anthropic:
            return anthropic_messages.MessagesStreamDecoder(reasoning_provider=self.family)
        return openai_chat.ChatStreamDecoder(reasoning_provider=self.family)

    def decode_response(self, body: Mapping[str, Any]) -> Completion:
        if self.responses:
            return openai_responses.decode_response(body)
        if self.anthropic:
            return anthropic_messages.decode_response(body, reasoning_provider=self.family)
        return openai_chat.decode_response(body, reasoning_provider=self.family)

    def decode_error(self, status: int, body: bytes) -> ProviderError:
        if self.anthropic:
            return anthropic_messages.decode_error(status, body)
        return openai_chat.decode_error(status, body)
