"""The client's own credential, held for one Execute call and shown to nobody (spec 12.4).

A subscription endpoint (``EndpointConnection.client_credential_headers``) is called with the
headers the client sent, not with a key of the router's. :class:`ClientCredential` carries those
values from the transport (gRPC metadata, the front door's request headers) to the one place
that writes them onto a backend request, :meth:`ClientCredential.headers_for`. It never prints
its values: its ``repr`` lists header names only, so a log line, a traceback or an error detail
that mentions it reveals nothing. The engine sees only the names (``RouteInput``), which is
enough to exclude an endpoint whose credential is missing.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from rolemodel.credentials import credential_from_metadata


@dataclass
class PlanUsage:
    """What an endpoint called with this credential said about the client's own plan (spec 14.5).

    Execute fills it from the answer of such an endpoint, and only of such an endpoint: its
    usage-window headers (the last answer's, a refusal's included, since a 429 says the plan is
    out) and its ``codex.rate_limits`` stream events, which the front door takes as it streams.
    The usage of an endpoint the router pays for is the router operator's, never the client's.
    """

    headers: dict[str, str] = field(default_factory=dict)
    events: list[dict[str, Any]] = field(default_factory=list)

    def take_events(self) -> list[dict[str, Any]]:
        taken, self.events = self.events, []
        return taken


class ClientCredential:
    """Header values by lower-case name; empty values count as absent."""

    __slots__ = ("_values", "plan_usage")

    def __init__(self, headers: Mapping[str, str] | None = None) -> None:
        self._values = {name.lower(): value for name, value in (headers or {}).items() if value}
        self.plan_usage = PlanUsage()

    @classmethod
    def from_metadata(cls, metadata: Iterable[tuple[str, str | bytes]] | None) -> ClientCredential:
        """The ``rolemodel-credential-<name>`` entries of a gRPC call's metadata."""
        return cls(credential_from_metadata(metadata or ()))

    @classmethod
    def from_http(
        cls, headers: Mapping[str, str], wanted: Iterable[str], router_token_header: str | None
    ) -> ClientCredential:
        """The ``wanted`` headers of a front-door request, minus the one that carried the router's own token."""
        return cls(
            {name: value for name in wanted if name != router_token_header and (value := headers.get(name)) is not None}
        )

    @property
    def names(self) -> frozenset[str]:
        return frozenset(self._values)

    def headers_for(self, declared: Sequence[str]) -> dict[str, str] | None:
        """The declared headers with the client's values, or None when any is missing."""
        if not declared or any(name not in self._values for name in declared):
            return None
        return {name: self._values[name] for name in declared}

    def __repr__(self) -> str:
        return f"ClientCredential(names={sorted(self._values)})"

    __str__ = __repr__


NO_CREDENTIAL = ClientCredential()
