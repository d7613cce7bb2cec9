"""What every front-door handler shares: the router, how to execute, the tokens, the model-name rules.

The front door holds no state of its own. Decisions, outcomes and every conversation's cache
and escalation state live in the ``RouterCore`` that the gRPC service uses too, so a client may
mix transports within one conversation (RM-HTTP-001).
"""

from __future__ import annotations

from collections import deque
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Protocol

from rolemodel.v1 import router_service_pb2
from rolemodel_router.access import Principal, check_role, current_principal
from rolemodel_router.core import RouterCore
from rolemodel_router.execute.credentials import ClientCredential
from rolemodel_router.http.model_names import ClientModelRules
from rolemodel_router.http.observe import Observer
from rolemodel_router.server.auth import TokenRegistry


class ExecuteFn(Protocol):
    """``RouterCore.execute_batches``: an ExecuteRequest, with the client's own credential, to its events.

    The events come in batches, each what the router had in hand at once (one read of the
    backend's stream), so that the front door sends each batch in one write. With
    ``compact_candidates`` the decision lists only the candidates that bear on it (RM-ROUTE-012).
    """

    def __call__(
        self,
        request: router_service_pb2.ExecuteRequest,
        *,
        credential: ClientCredential = ...,
        compact_candidates: bool = ...,
    ) -> AsyncIterator[list[router_service_pb2.ExecuteResponse]]: ...


@dataclass
class FrontDoor:
    core: RouterCore
    execute: ExecuteFn
    tokens: TokenRegistry | None = None
    observer: Observer = field(default_factory=Observer)
    rules: ClientModelRules = field(init=False)
    #: The request headers some subscription endpoint is called with (spec 12.4); no other header is kept.
    credential_headers: frozenset[str] = field(init=False)

    def __post_init__(self) -> None:
        catalog = self.core.index.catalog
        self.rules = ClientModelRules(catalog.policies.client_model_rules)
        self.credential_headers = frozenset(
            name for e in catalog.endpoints for name in e.connection.client_credential_headers
        )

    @property
    def max_request_bytes(self) -> int:
        return self.core.limits.max_request_bytes


def act_as(principal: Principal | None, role: str | None = None) -> None:
    """Run the rest of this request as ``principal`` (role scopes apply), checking ``role`` when known."""
    current_principal.set(principal)
    if role is not None:
        check_role(role)


class ExecuteEvents:
    """An Execute stream read one event at a time, knowing whether the next event is already in hand.

    A stream is written to the client whenever nothing more is in hand: events that came
    together leave in one write, and no event waits for one that has not come.
    """

    def __init__(self, batches: AsyncIterator[list[router_service_pb2.ExecuteResponse]]) -> None:
        self._batches = batches
        self._held: deque[router_service_pb2.ExecuteResponse] = deque()

    @property
    def in_hand(self) -> bool:
        """Whether :meth:`next` returns without waiting."""
        return bool(self._held)

    async def next(self) -> router_service_pb2.ExecuteResponse | None:
        """The next event, or None at the end of the stream."""
        while not self._held:
            batch = await anext(self._batches, None)
            if batch is None:
                return None
            self._held.extend(batch)
        return self._held.popleft()

    async def aclose(self) -> None:
        await close_events(self._batches)


async def close_events(events: AsyncIterator[object]) -> None:
    """Close an Execute stream that will not be read to its end, so that the router cancels the call.

    Closing an async generator runs its cleanup: the executor cancels the backend call and records
    the outcome as cancelled (RM-EXEC-013). Closing a finished stream does nothing.
    """
    aclose = getattr(events, "aclose", None)
    if aclose is not None:
        await aclose()
