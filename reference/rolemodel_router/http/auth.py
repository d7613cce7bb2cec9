"""Bearer tokens on the front door: the same tokens, scopes and comparison as gRPC (spec 12.2, 14.8).

Clients put their API key where their provider wants it: OpenAI clients in
``Authorization: Bearer <key>``, Anthropic clients in ``x-api-key: <key>`` (or ``Authorization``
when configured with an auth token). The front door accepts a router token in either place, so
that a user gives a tool a router token as its API key and changes nothing else.

With authentication off, whatever key a client sends is ignored (its SDK insists on sending one).
The token registry compares digests in constant time (RM-AUTH-004); the principal it returns goes
into :data:`rolemodel_router.access.current_principal` so the router checks role scopes exactly as
it does for gRPC calls (RM-AUTH-002).
"""

from __future__ import annotations

from collections.abc import Mapping

from rolemodel.error_reasons import ErrorReason
from rolemodel_router.access import Principal, require_scope
from rolemodel_router.engine.errors import RouterError
from rolemodel_router.server.auth import TokenRegistry

API_KEY_HEADER = "x-api-key"
_BEARER = "bearer "


def presented_tokens(headers: Mapping[str, str]) -> list[tuple[str, str]]:
    """Where a router token may be, in order: ``Authorization: Bearer`` (scheme case-insensitive), then ``x-api-key``.

    Both may be present: a Codex user signed in with ChatGPT sends the login as the bearer token
    and gives the router's token in ``x-api-key`` (spec 14.8).
    """
    found: list[tuple[str, str]] = []
    authorization = headers.get("authorization", "")
    if authorization[: len(_BEARER)].lower() == _BEARER:
        found.append(("authorization", authorization[len(_BEARER) :].strip()))
    key = headers.get(API_KEY_HEADER)
    if key is not None:
        found.append((API_KEY_HEADER, key.strip()))
    return [(header, token) for header, token in found if token]


def _authenticated(registry: TokenRegistry, headers: Mapping[str, str]) -> tuple[str, Principal] | None:
    """The header that holds a valid router token, and its principal; the other header is the client's."""
    for header, token in presented_tokens(headers):
        principal = registry.authenticate(token)
        if principal is not None:
            return header, principal
    return None


def token_header(registry: TokenRegistry | None, headers: Mapping[str, str]) -> str | None:
    """The header that carries the router's own token, which is never forwarded to a backend (spec 12.4)."""
    if registry is None:
        return None
    found = _authenticated(registry, headers)
    return found[0] if found is not None else None


def authenticate(registry: TokenRegistry | None, headers: Mapping[str, str], scope: str = "route") -> Principal | None:
    """The caller's principal; None with authentication off.

    Raises UNAUTHENTICATED without a valid token, and ROLE_NOT_PERMITTED when the token's scopes
    lack ``scope`` (``route`` for the model APIs, ``ui`` for the dashboard's read API).
    """
    if registry is None:
        return None
    found = _authenticated(registry, headers)
    if found is None:
        detail = (
            "a bearer token is required (Authorization: Bearer <token> or x-api-key: <token>)"
            if not presented_tokens(headers)
            else "the bearer token is not valid"
        )
        raise RouterError(ErrorReason.UNAUTHENTICATED, detail)
    require_scope(found[1], scope)
    return found[1]
