"""The version check, in one interceptor for every RPC (spec 2.1, RM-VER-006).

It runs before a handler sees the request, so no handler can forget it and
a refused call never reaches validation or state (RM-VER-004). Discovery
(GetRouterCard), health and reflection pass without the header.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

import grpc
import grpc.aio

from rolemodel.error_reasons import ErrorReason
from rolemodel.status import build_status
from rolemodel.versions import METADATA_KEY, SUPPORTED_VERSIONS, is_supported

SERVICE_PREFIX = "/rolemodel.v1.RouterService/"
OPEN_METHODS = frozenset({SERVICE_PREFIX + "GetRouterCard"})


def _header(metadata: tuple[tuple[str, str | bytes], ...] | None, key: str) -> str | None:
    for k, v in metadata or ():
        if k == key:
            return v if isinstance(v, str) else v.decode(errors="replace")
    return None


def version_refusal(requested: str | None) -> tuple[ErrorReason, str, dict[str, str]]:
    supported = ",".join(SUPPORTED_VERSIONS)
    if requested is None:
        return (
            ErrorReason.PROTOCOL_VERSION_REQUIRED,
            f"send the metadata '{METADATA_KEY}' with one of: {supported}",
            {"supported_versions": supported},
        )
    shown = requested[:32]
    return (
        ErrorReason.UNSUPPORTED_PROTOCOL_VERSION,
        f"protocol version '{shown}' is not served; supported: {supported}",
        {"requested_version": shown, "supported_versions": supported},
    )


if TYPE_CHECKING:
    Handler = grpc.RpcMethodHandler[Any, Any]
else:
    Handler = grpc.RpcMethodHandler


def refusing_handler(handler: Handler, reason: ErrorReason, message: str, metadata: dict[str, str]) -> Handler:
    """A handler of the same shape as ``handler`` that aborts with the rich status."""
    rich = build_status(reason, message, metadata)

    async def refuse(request: Any, context: grpc.aio.ServicerContext[Any, Any]) -> Any:
        await context.abort(rich.code, rich.message, trailing_metadata=rich.trailing_metadata)

    async def refuse_stream(request: Any, context: grpc.aio.ServicerContext[Any, Any]) -> Any:
        await context.abort(rich.code, rich.message, trailing_metadata=rich.trailing_metadata)
        yield  # pragma: no cover - makes this an async generator

    if handler.unary_stream is not None:
        return grpc.unary_stream_rpc_method_handler(
            refuse_stream, handler.request_deserializer, handler.response_serializer
        )
    return grpc.unary_unary_rpc_method_handler(refuse, handler.request_deserializer, handler.response_serializer)


class VersionInterceptor(grpc.aio.ServerInterceptor):
    async def intercept_service(
        self,
        continuation: Callable[[grpc.HandlerCallDetails], Awaitable[Handler | None]],
        handler_call_details: grpc.HandlerCallDetails,
    ) -> Handler | None:
        handler = await continuation(handler_call_details)
        method = handler_call_details.method
        if handler is None or not method.startswith(SERVICE_PREFIX) or method in OPEN_METHODS:
            return handler
        requested = _header(handler_call_details.invocation_metadata, METADATA_KEY)
        if requested is not None and is_supported(requested):
            return handler
        return refusing_handler(handler, *version_refusal(requested))
