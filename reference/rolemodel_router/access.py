"""Who is calling, and which roles they may use, for any transport (spec 12.2).

A transport (the gRPC interceptor, the HTTP front door) authenticates a call
and sets ``current_principal``; code that learns the call's role from the
request body calls ``check_role``. With authentication off nothing is set
and every role is allowed.
"""

from __future__ import annotations

import contextvars
from dataclasses import dataclass

from rolemodel.error_reasons import ErrorReason
from rolemodel_router.engine.errors import RouterError


@dataclass(frozen=True)
class Principal:
    """Who a valid token belongs to, and the roles it may use (empty: all)."""

    name: str
    roles: frozenset[str]

    def may_use(self, role: str) -> bool:
        return not self.roles or role in self.roles


#: The principal of the call being handled; unset when authentication is off.
current_principal: contextvars.ContextVar[Principal | None] = contextvars.ContextVar("principal", default=None)


def check_role(role: str) -> None:
    """Raise ROLE_NOT_PERMITTED when the call's token may not use ``role`` (RM-AUTH-002)."""
    principal = current_principal.get()
    if principal is not None and not principal.may_use(role):
        raise RouterError(
            ErrorReason.ROLE_NOT_PERMITTED,
            f"this token may not use role '{role}'",
            {"role": role},
        )
