"""Set the dashboard up for a running router: its feed, its journal and its routes.

The journal follows the state store: with the state on Redis the events go to a stream beside
the router's other keys (``<prefix>activity``), so replicas sharing the state share the dashboard
too; otherwise they stay in this process.
"""

from __future__ import annotations

from dataclasses import dataclass

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from rolemodel.dialects import openai_chat
from rolemodel_router.core import RouterCore
from rolemodel_router.dashboard.api import DashboardApi
from rolemodel_router.dashboard.feed import ActivityFeed
from rolemodel_router.dashboard.journal import Journal, MemoryJournal, RedisJournal
from rolemodel_router.dashboard.view import ActivityView
from rolemodel_router.server.auth import TokenRegistry
from rolemodel_router.state.redis_store import RedisStore
from rolemodel_router.state.store import StateStore


@dataclass
class Dashboard:
    feed: ActivityFeed
    api: DashboardApi

    async def stop(self) -> None:
        await self.feed.stop()


def journal_for(store: StateStore) -> Journal:
    if isinstance(store, RedisStore):
        return RedisJournal(store.redis, store.keys.activity())
    return MemoryJournal()


def start_dashboard(core: RouterCore, store: StateStore, tokens: TokenRegistry | None) -> Dashboard:
    """Attach a feed to ``core`` and start folding; call inside the router's event loop."""
    feed = ActivityFeed(ActivityView(core.index), journal_for(store))
    core.activity = feed
    feed.start()
    return Dashboard(feed, DashboardApi(core, feed, tokens, store.name))


async def _not_found(request: Request, error: Exception) -> Response:
    status = error.status_code if isinstance(error, HTTPException) else 500
    return JSONResponse(openai_chat.encode_error(status, f"{request.method} {request.url.path}: not found"), status)


def dashboard_app(dashboard: Dashboard) -> Starlette:
    """The dashboard alone, for ``--ui HOST:PORT`` on a router without a front door."""
    return Starlette(routes=dashboard.api.routes(), exception_handlers={HTTPException: _not_found})
