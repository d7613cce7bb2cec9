"""One endpoint's wire dialect: its URL, headers, and the codecs that encode and decode for it.

The codecs in :mod:`rolemodel.dialects` know the formats; this module knows how an endpoint of the
catalog is reached (which dialect, which path, which key header), so the executor never branches
on a provider.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from rolemodel.dialects import anthropic_messages, openai_chat
from rolemodel.dialects.canonical import CanonicalRequest, Completion, ProviderError
from rolemodel.v1 import catalog_pb2, common_pb2, router_service_pb2
from rolemodel_router.handoff.families import provider_family

ANTHROPIC_VERSION = "2023-06-01"
#: Anthropic needs max_tokens; an endpoint that declares no maximum gets this.
FALLBACK_MAX_TOKENS = 4096


class StreamDecoder(Protocol):
    def feed_bytes(self, data: bytes) -> list[router_service_pb2.ContentDelta]: ...

    def completion(self) -> Completion: ...


@dataclass(frozen=True)
class Dialect:
    """How to call one endpoint."""

    endpoint: catalog_pb2.Endpoint
    anthropic: bool
    llama_cpp: bool = False  # Chat Completions with llama.cpp's slot and cache extensions (spec 10.4)

    @classmethod
    def of(cls, endpoint: catalog_pb2.Endpoint) -> Dialect:
        dialect = endpoint.connection.api_dialect
        if dialect == common_pb2.API_DIALECT_UNSPECIFIED:
            anthropic = endpoint.provider_kind == common_pb2.PROVIDER_KIND_ANTHROPIC
        else:
            anthropic = dialect == common_pb2.API_DIALECT_ANTHROPIC_MESSAGES
        return cls(endpoint, anthropic, dialect == common_pb2.API_DIALECT_LLAMA_CPP)

    @property
    def family(self) -> str:
        return provider_family(self.endpoint.provider_kind)

    @property
    def streams(self) -> bool:
        return common_pb2.CAPABILITY_STREAMING in self.endpoint.capabilities

    @property
    def url(self) -> str:
        """Chat Completions base URLs end in /v1 (as the OpenAI SDK's do); Messages base URLs do not."""
        base = self.endpoint.connection.base_url.rstrip("/")
        return f"{base}/v1/messages" if self.anthropic else f"{base}/chat/completions"

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

    def encode(self, request: CanonicalRequest, *, slot: int | None = None) -> dict[str, Any]:
        """The request body; raises DialectError for content this dialect cannot carry.

        On a llama.cpp server the prompt stays cached (``cache_prompt``) and, when the decision
        gave the conversation a slot, the request is pinned to it (``id_slot``), so that the
        server's cache follows the router's residents (spec 7.7) instead of its own slot choice.
        """
        if self.anthropic:
            return anthropic_messages.encode_request(
                request,
                default_max_tokens=self.endpoint.max_output_tokens or FALLBACK_MAX_TOKENS,
                reasoning_provider=self.family,
            )
        official = self.endpoint.provider_kind == common_pb2.PROVIDER_KIND_OPENAI
        body = openai_chat.encode_request(
            request, max_tokens_field="max_completion_tokens" if official else "max_tokens", include_usage=True
        )
        if self.llama_cpp:
            body["cache_prompt"] = True
            if slot is not None:
                body["id_slot"] = slot
        return body

    def stream_decoder(self) -> StreamDecoder:
        if self.anthropic:
            return anthropic_messages.MessagesStreamDecoder(reasoning_provider=self.family)
        return openai_chat.ChatStreamDecoder(reasoning_provider=self.family)

    def decode_response(self, body: Mapping[str, Any]) -> Completion:
        if self.anthropic:
            return anthropic_messages.decode_response(body, reasoning_provider=self.family)
        return openai_chat.decode_response(body, reasoning_provider=self.family)

    def decode_error(self, status: int, body: bytes) -> ProviderError:
        if self.anthropic:
            return anthropic_messages.decode_error(status, body)
        return openai_chat.decode_error(status, body)
