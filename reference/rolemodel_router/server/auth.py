"""Bearer-token authentication, in one interceptor, with role scopes (spec 12.2).

Tokens come from a file or an environment variable, never from the catalog.
Only their SHA-256 digests are kept in memory, and a presented token is
compared against every known digest with ``hmac.compare_digest``, so neither
the comparison nor the lookup leaks how much of a token was right.

A token may be limited to some roles. The interceptor authenticates; the
role, which lives in the request body, is checked by the handler through
``rolemodel_router.access.check_role`` with the principal the interceptor
attached to the call.

Token file (YAML or JSON):

    tokens:
      - name: ci            # shown in logs, never the token
        token: "s3cr3t..."
        roles: [chore, summarize]   # omitted or empty: every role
        scopes: [route, ui]         # omitted: [route]; ui reads the dashboard
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
from collections.abc import Awaitable, Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import grpc
import grpc.aio
import yaml

from rolemodel.error_reasons import ErrorReason
from rolemodel_router.access import DEFAULT_SCOPES, SCOPES, Principal, current_principal
from rolemodel_router.server.interceptors import OPEN_METHODS, SERVICE_PREFIX, refusing_handler

if TYPE_CHECKING:
    Handler = grpc.RpcMethodHandler[Any, Any]
else:
    Handler = grpc.RpcMethodHandler

MIN_TOKEN_LENGTH = 16


class TokenError(ValueError):
    """The token source is malformed; the message never contains a token."""


class TokenRegistry:
    def __init__(
        self, entries: Sequence[tuple[str, str, frozenset[str]] | tuple[str, str, frozenset[str], frozenset[str]]]
    ) -> None:
        self._digests = [
            (hashlib.sha256(entry[1].encode()).digest(), Principal(entry[0], *entry[2:])) for entry in entries
        ]
        self.secrets = tuple(entry[1] for entry in entries)  # only to prove, in tests, that none leaks

    @classmethod
    def parse(cls, text: str, source: str) -> TokenRegistry:
        data = yaml.safe_load(text)
        if not isinstance(data, dict) or not isinstance(data.get("tokens"), list):
            raise TokenError(f"{source}: expected a mapping with a 'tokens' list")
        entries = []
        for i, item in enumerate(data["tokens"]):
            if not isinstance(item, dict) or not isinstance(item.get("token"), str):
                raise TokenError(f"{source}: tokens[{i}] needs a 'token' string")
            if len(item["token"]) < MIN_TOKEN_LENGTH:
                raise TokenError(f"{source}: tokens[{i}] is shorter than {MIN_TOKEN_LENGTH} characters")
            roles = item.get("roles") or []
            if not isinstance(roles, list) or not all(isinstance(r, str) for r in roles):
                raise TokenError(f"{source}: tokens[{i}].roles must be a list of role names")
            scopes = item.get("scopes", sorted(DEFAULT_SCOPES))
            if not isinstance(scopes, list) or not scopes or not all(s in SCOPES for s in scopes):
                raise TokenError(f"{source}: tokens[{i}].scopes must be a non-empty list of {', '.join(SCOPES)}")
            entries.append((str(item.get("name") or f"token-{i}"), item["token"], frozenset(roles), frozenset(scopes)))
        if not entries:
            raise TokenError(f"{source}: no tokens")
        return cls(entries)

    @classmethod
    def from_file(cls, path: Path) -> TokenRegistry:
        return cls.parse(path.read_text(), str(path))

    @classmethod
    def from_env(cls, name: str) -> TokenRegistry:
        value = os.environ.get(name)
        if not value:
            raise TokenError(f"environment variable {name} is not set")
        return cls.parse(value, f"${name}")

    def authenticate(self, presented: str) -> Principal | None:
        digest = hashlib.sha256(presented.encode()).digest()
        found = None
        for known, principal in self._digests:  # no early exit: every call costs the same
            if hmac.compare_digest(digest, known):
                found = principal
        return found

    def to_json(self) -> str:
        """Only names and scopes, for diagnostics."""
        return json.dumps(
            [{"name": p.name, "roles": sorted(p.roles), "scopes": sorted(p.scopes)} for _, p in self._digests]
        )


def bearer(metadata: tuple[tuple[str, str | bytes], ...] | None) -> str | None:
    for key, value in metadata or ():
        if key == "authorization" and isinstance(value, str) and value.startswith("Bearer "):
            return value.removeprefix("Bearer ")
    return None


def _with_principal(handler: Handler, principal: Principal) -> Handler:
    """The same handler, run with the principal set for role checks."""

    def wrap_unary(behavior: Callable[[Any, Any], Awaitable[Any]]) -> Callable[[Any, Any], Awaitable[Any]]:
        async def run(request: Any, context: Any) -> Any:
            current_principal.set(principal)
            return await behavior(request, context)

        return run

    def wrap_stream(behavior: Callable[[Any, Any], Any]) -> Callable[[Any, Any], Any]:
        async def run(request: Any, context: Any) -> Any:
            current_principal.set(principal)
            async for item in behavior(request, context):
                yield item

        return run

    if handler.unary_stream is not None:
        return grpc.unary_stream_rpc_method_handler(
            wrap_stream(handler.unary_stream), handler.request_deserializer, handler.response_serializer
        )
    if handler.unary_unary is None:  # the router has no streaming requests
        return handler
    return grpc.unary_unary_rpc_method_handler(
        wrap_unary(handler.unary_unary), handler.request_deserializer, handler.response_serializer
    )


class AuthInterceptor(grpc.aio.ServerInterceptor):
    def __init__(self, registry: TokenRegistry) -> None:
        self.registry = registry

    async def intercept_service(
        self,
        continuation: Callable[[grpc.HandlerCallDetails], Awaitable[Handler | None]],
        handler_call_details: grpc.HandlerCallDetails,
    ) -> Handler | None:
        handler = await continuation(handler_call_details)
        method = handler_call_details.method
        if handler is None or not method.startswith(SERVICE_PREFIX) or method in OPEN_METHODS:
            return handler
        presented = bearer(handler_call_details.invocation_metadata)
        principal = self.registry.authenticate(presented) if presented is not None else None
        if principal is None:
            detail = "a bearer token is required" if presented is None else "the bearer token is not valid"
            return refusing_handler(handler, ErrorReason.UNAUTHENTICATED, detail, {})
        if "route" not in principal.scopes:
            detail = "this token may only read the dashboard (its scopes do not include 'route')"
            return refusing_handler(handler, ErrorReason.ROLE_NOT_PERMITTED, detail, {"scope": "route"})
        return _with_principal(handler, principal)
