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

#: What a token may do: ``route`` (Route, ReportOutcome, Execute and the front door's model calls)
#: and ``ui`` (read the dashboard). A token without ``scopes`` has ``route`` only, so that adding
#: the dashboard to a router opens it to nobody who was not given it.
SCOPES = ("route", "ui")
DEFAULT_SCOPES = frozenset({"route"})


@dataclass(frozen=True)
class Principal:
    """Who a valid token belongs to, the roles it may use (empty: all) and what it may do."""

    name: str
    roles: frozenset[str]
    scopes: frozenset[str] = DEFAULT_SCOPES

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


def require_scope(principal: Principal | None, scope: str) -> None:
    """Raise ROLE_NOT_PERMITTED when the token may not do ``scope`` (``route`` or ``ui``); None: auth off."""
    if principal is not None and scope not in principal.scopes:
        raise RouterError(
            ErrorReason.ROLE_NOT_PERMITTED,
            f"this token's scopes ({', '.join(sorted(principal.scopes))}) do not include '{scope}'",
            {"scope": scope},
        )
