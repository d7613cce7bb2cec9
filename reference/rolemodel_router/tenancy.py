"""Each principal's own namespace of conversations, decisions and idempotency keys (spec 12.5).

A client names its conversations and idempotency keys itself, so two tenants may pick the same
names. The router keeps them apart by storing every such name under its principal: a key here is
``<length of the principal's name>:<name>/<client's id>``, which no other principal's key can
equal whatever characters the names hold. With authentication off there is one anonymous
principal and a key is the client's id unchanged, so state written before tenancy existed, and
every store opened without tokens, reads exactly as before.

Decision ids are made by the router and unguessable; a decision belongs to the principal whose
conversation key its record holds, and another principal's report or escalation finds nothing.
"""

from __future__ import annotations

from rolemodel.error_reasons import ErrorReason
from rolemodel_router.access import Principal, current_principal
from rolemodel_router.engine.catalog_index import CatalogIndex
from rolemodel_router.engine.errors import RouterError


def namespace(principal: Principal | None) -> str:
    """The prefix of the principal's keys; empty for the anonymous principal (authentication off)."""
    if principal is None:
        return ""
    return f"{len(principal.name)}:{principal.name}/"


def scoped(client_id: str, principal: Principal | None = None) -> str:
    """The store key of a conversation id or idempotency key of the calling principal."""
    if not client_id:
        return client_id
    return namespace(principal if principal is not None else current_principal.get()) + client_id


def unscoped(key: str, principal: Principal | None = None) -> str:
    """The client's id back from its store key."""
    prefix = namespace(principal if principal is not None else current_principal.get())
    return key[len(prefix) :] if prefix and key.startswith(prefix) else key


def owns(conversation_key: str, principal: Principal | None = None) -> bool:
    """Whether a record stored under ``conversation_key`` belongs to the calling principal.

    With authentication off every record is the anonymous principal's. With it on, a record
    belongs to the principal whose namespace starts its key; a record written before tenancy
    (no namespace) belongs to nobody, so a token cannot adopt an older tenant's decision.
    """
    who = principal if principal is not None else current_principal.get()
    if who is None:
        return True
    return conversation_key.startswith(namespace(who))


def check_pin(index: CatalogIndex, pinned: str, principal: Principal | None = None) -> None:
    """Refuse a pin outside every role the token may use (RM-AUTH-005): a role scope limits spending too."""
    who = principal if principal is not None else current_principal.get()
    if not pinned or who is None or not who.roles:
        return
    for role in who.roles:
        role_index = index.roles.get(role)
        if role_index is not None and pinned in role_index.tier_of:
            return
    raise RouterError(
        ErrorReason.ROLE_NOT_PERMITTED,
        f"this token may not pin '{pinned}': it is on none of the token's roles ({', '.join(sorted(who.roles))})",
        {"endpoint_id": pinned},
    )
