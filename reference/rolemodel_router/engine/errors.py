"""The router's typed errors.

Code inside the router raises these; the gRPC service turns them into a
status with ErrorInfo (and BadRequest) in exactly one place. A reason fixes
the gRPC code through the registry, so no handler can pick a wrong code.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from google.protobuf.message import Message

from rolemodel.error_reasons import ErrorReason
from rolemodel.status import FieldViolation


class RouterError(Exception):
    def __init__(
        self,
        reason: ErrorReason,
        message: str,
        metadata: Mapping[str, str] | None = None,
        violations: Sequence[FieldViolation] = (),
        details: Sequence[Message] = (),
    ) -> None:
        super().__init__(f"{reason.value}: {message}")
        self.reason = reason
        self.message = message
        self.metadata = dict(metadata or {})
        self.violations = list(violations)
        self.details = list(details)


class Violations:
    """Collects field violations so that one error reports all of them."""

    def __init__(self) -> None:
        self.items: list[FieldViolation] = []
        self.unknown_roles: list[str] = []
        self.unknown_endpoints: list[str] = []

    @staticmethod
    def single(field: str, description: str) -> list[FieldViolation]:
        """The violation list of an error about one field."""
        return [FieldViolation(field, description)]

    def add(self, field: str, description: str) -> None:
        self.items.append(FieldViolation(field, description))

    def unknown_role(self, field: str, role: str) -> None:
        self.unknown_roles.append(role)
        self.add(field, f"unknown role '{role}'")

    def unknown_endpoint(self, field: str, endpoint_id: str) -> None:
        self.unknown_endpoints.append(endpoint_id)
        self.add(field, f"unknown endpoint '{endpoint_id}'")

    def raise_if_any(self) -> None:
        """Raise the error spec 5.2 prescribes: unknown names only get their own reason."""
        if not self.items:
            return
        structural = len(self.items) - len(self.unknown_roles) - len(self.unknown_endpoints)
        if structural > 0:
            raise RouterError(
                ErrorReason.REQUEST_INVALID,
                f"the request has {len(self.items)} field violation(s): "
                + "; ".join(f"{v.field}: {v.description}" for v in self.items[:3]),
                {"violation_count": str(len(self.items))},
                self.items,
            )
        if self.unknown_roles:
            raise RouterError(
                ErrorReason.UNKNOWN_ROLE,
                f"the catalog defines no role '{self.unknown_roles[0]}'",
                {"role": self.unknown_roles[0]},
                self.items,
            )
        raise RouterError(
            ErrorReason.UNKNOWN_ENDPOINT,
            f"the catalog defines no endpoint '{self.unknown_endpoints[0]}'",
            {"endpoint_id": self.unknown_endpoints[0]},
            self.items,
        )
