"""The front door served by uvicorn on loopback, in a thread, over a real RouterCore with a scripted Execute.

The scripted Execute routes for real (so the decision, its costs and its headers are real) and then
plays back the events a test gives it instead of calling a backend. That isolates the front door's
own job, translating Execute events into each dialect's wire format, from the executor's; the
end-to-end tests run the real executor against the scripted backend.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import AsyncGenerator, Callable, Sequence
from pathlib import Path
from types import TracebackType

from rolemodel.v1 import decision_pb2, router_service_pb2
from rolemodel_router.config.catalog_loader import load_catalog
from rolemodel_router.core import RouterCore
from rolemodel_router.engine.catalog_index import CatalogIndex
from rolemodel_router.engine.limits import Limits
from rolemodel_router.execute.credentials import NO_CREDENTIAL, ClientCredential
from rolemodel_router.http import FrontDoorServer, create_app
from rolemodel_router.server.auth import TokenRegistry
from rolemodel_router.state.in_process import InProcessStore

E = router_service_pb2
#: What a test scripts: the events after ``started``, given the request and its ``started`` event.
Script = Callable[[E.ExecuteRequest, E.ExecuteStarted], Sequence[E.ExecuteResponse]]


class ScriptedExecute:
    """Routes each request for real, then yields ``started`` and the scripted events; records what it saw.

    Like the executor, it yields batches: the scripted events come in one batch, as the deltas of one
    read of a backend's stream do, or one by one ``delay_s`` apart.
    """

    def __init__(self, core: RouterCore) -> None:
        self.core = core
        self.script: Script = lambda request, started: []
        self.requests: list[E.ExecuteRequest] = []
        self.credentials: list[ClientCredential] = []
        self.closed: list[bool] = []
        #: The decisions made, as routed: compact or complete as the front door asked.
        self.decisions: list[decision_pb2.Decision] = []
        self.delay_s = 0.0

    async def __call__(
        self,
        request: E.ExecuteRequest,
        *,
        credential: ClientCredential = NO_CREDENTIAL,
        compact_candidates: bool = False,
    ) -> AsyncGenerator[list[E.ExecuteResponse], None]:
        self.requests.append(request)
        self.credentials.append(credential)
        route = E.RouteRequest(
            conversation=request.conversation, hints=request.hints, compact_candidates=compact_candidates
        )
        route_input = self.core.validate_route(route)
        started = E.ExecuteStarted(decision=await self.core.route(route_input))
        self.decisions.append(started.decision)
        finished = False
        try:
            yield [E.ExecuteResponse(started=started)]
            events = list(self.script(request, started))
            if not self.delay_s:
                yield events
            else:
                for event in events:
                    await asyncio.sleep(self.delay_s)
                    yield [event]
            finished = True
        finally:
            self.closed.append(not finished)


class InProcessFrontDoor:
    def __init__(self, catalog: Path, tokens: TokenRegistry | None = None, limits: Limits | None = None) -> None:
        self.index = CatalogIndex(load_catalog(catalog))
        self.core = RouterCore(self.index, InProcessStore(None, self.index.quotas), limits or Limits())
        self.execute = ScriptedExecute(self.core)
        self._tokens = tokens
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="front-door", daemon=True)
        self._server: FrontDoorServer | None = None
        self.url = ""

    def __enter__(self) -> InProcessFrontDoor:
        self._thread.start()
        app = create_app(self.core, self.execute, self._tokens)
        self._server = FrontDoorServer(app, "127.0.0.1:0", grace_s=1.0)
        asyncio.run_coroutine_threadsafe(self._server.start(), self._loop).result(timeout=10)
        self.url = self._server.url
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if self._server is not None:
            asyncio.run_coroutine_threadsafe(self._server.stop(), self._loop).result(timeout=10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=10)
        self._loop.close()
