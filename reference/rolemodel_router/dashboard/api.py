"""The dashboard's routes: the page under ``/ui`` and its read API under ``/ui/api/v1``.

| route | answers |
|---|---|
| ``GET /ui/`` | the page (static files; they hold no data, so they need no token) |
| ``GET /ui/api/v1/overview`` | totals, cost per hour and day against the baselines, cache hits, premium share |
| ``GET /ui/api/v1/decisions`` | decisions changed after ``after``; filters ``role``, ``endpoint``, ``conversation`` |
| ``GET /ui/api/v1/conversations`` | conversations, most recently active first; ``limit`` |
| ``GET /ui/api/v1/conversations/{id}`` | one conversation's timeline |
| ``GET /ui/api/v1/quotas`` | every quota with its use, reset and forecast |
| ``GET /ui/api/v1/endpoints`` | every endpoint's health, time to first token, failures and cooldown |

Every API call needs a token with the ``ui`` scope when the router has tokens, and answers
errors as the front door's own endpoints do (``google.rpc.Status`` in JSON). Unknown query
parameters are refused by name, never ignored. Each answer first folds what the router decided
up to the call, so a client that routed and then asks sees its decision.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from importlib import resources
from pathlib import Path
from typing import Any

from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, RedirectResponse, Response
from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import StaticFiles

from rolemodel.error_reasons import ErrorReason
from rolemodel.v1 import common_pb2
from rolemodel.versions import SUPPORTED_VERSIONS
from rolemodel_router.core import RouterCore
from rolemodel_router.dashboard.feed import ActivityFeed
from rolemodel_router.dashboard.forecast import quotas_json
from rolemodel_router.dashboard.timeline import timeline
from rolemodel_router.engine.errors import RouterError, Violations
from rolemodel_router.http.auth import authenticate
from rolemodel_router.http.errors import Dialect, error_response
from rolemodel_router.server.auth import TokenRegistry

API_VERSION = "v1"
PREFIX = "/ui"
API = f"{PREFIX}/api/{API_VERSION}"
MAX_LIMIT = 10_000
#: The page loads only its own script and style and talks only to this router; it is never framed.
PAGE_HEADERS = {
    "cache-control": "no-cache",
    "content-security-policy": "default-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
    "frame-ancestors 'none'; base-uri 'none'; form-action 'none'",
    "x-content-type-options": "nosniff",
    "referrer-policy": "no-referrer",
}


def static_dir() -> Path:
    """The built page, shipped inside the package (``dashboard-ui`` builds it)."""
    return Path(str(resources.files("rolemodel_router.dashboard") / "static"))


def _query(request: Request, allowed: Mapping[str, str]) -> dict[str, str]:
    """The query parameters, refusing unknown and repeated ones by name (REQUEST_INVALID)."""
    violations = Violations()
    for name in request.query_params:
        if name not in allowed:
            violations.add(name, f"unknown query parameter; this endpoint takes {', '.join(allowed) or 'none'}")
        elif len(request.query_params.getlist(name)) > 1:
            violations.add(name, "given more than once")
    values = {name: request.query_params.get(name, default) for name, default in allowed.items()}
    for name in ("after", "limit"):
        if name in values and not values[name].isdigit():
            violations.add(name, "must be a non-negative integer")
    if "limit" in values and values["limit"].isdigit() and not 1 <= int(values["limit"]) <= MAX_LIMIT:
        violations.add("limit", f"must be between 1 and {MAX_LIMIT}")
    violations.raise_if_any()
    return values


class DashboardApi:
    def __init__(self, core: RouterCore, feed: ActivityFeed, tokens: TokenRegistry | None, store_name: str) -> None:
        self.core = core
        self.feed = feed
        self.view = feed.view
        self.tokens = tokens
        self.store_name = store_name

    def routes(self) -> list[BaseRoute]:
        api: list[tuple[str, Callable[[Request], Awaitable[Any]]]] = [
            ("/overview", self.overview),
            ("/decisions", self.decisions),
            ("/conversations", self.conversations),
            ("/conversations/{conversation_id:path}", self.conversation),
            ("/quotas", self.quotas),
            ("/endpoints", self.endpoints),
        ]
        routes: list[BaseRoute] = [Route(API + path, self._guarded(handler), methods=["GET"]) for path, handler in api]
        routes += [
            Route(PREFIX, lambda _: RedirectResponse(PREFIX + "/"), methods=["GET"]),
            Route(PREFIX + "/", self.page, methods=["GET"]),
        ]
        assets = static_dir() / "assets"
        if assets.is_dir():
            routes.append(Mount(PREFIX + "/assets", app=StaticFiles(directory=assets), name="dashboard-assets"))
        return routes

    async def page(self, request: Request) -> Response:
        index = static_dir() / "index.html"
        if not index.is_file():
            return JSONResponse(
                {"error": "the dashboard page is not built: run `npm ci && npm run build` in dashboard-ui/"}, 503
            )
        return FileResponse(index, headers=PAGE_HEADERS)

    def _guarded(self, handler: Callable[[Request], Awaitable[Any]]) -> Callable[[Request], Awaitable[Response]]:
        async def run(request: Request) -> Response:
            try:
                authenticate(self.tokens, request.headers, scope="ui")
                await self.feed.sync()
                body = await handler(request)
            except RouterError as error:
                return error_response(Dialect.ROLEMODEL, error)
            return JSONResponse(body, headers={"cache-control": "no-store"})

        return run

    def _now_ms(self) -> int:
        return self.core.clock()

    async def overview(self, request: Request) -> dict[str, Any]:
        _query(request, {})
        view = self.view
        return {
            "api_version": API_VERSION,
            "protocol_versions": list(SUPPORTED_VERSIONS),
            "catalog": {"name": self.core.index.catalog.name, "digest": self.core.index.digest},
            "currency": self.core.index.currency,
            "state_store": self.store_name,
            "journal": self.feed.journal.name,
            "journal_failing": self.feed.failing,
            "journal_dropped_batches": self.feed.dropped_batches,
            "view_id": view.view_id,
            "rev": view.rev,
            "now_ms": self._now_ms(),
            "decisions_held": len(view.ring),
            "max_decisions": view.max_decisions,
            "roles": [r.name for r in self.core.index.catalog.roles],
            "endpoints": list(self.core.index.endpoint_order),
            "totals": view.sums_json(view.totals),
            "hours": view.hourly(),
            "days": view.daily(),
            "premium_share": view.premium_share_by_role(),
        }

    async def decisions(self, request: Request) -> dict[str, Any]:
        q = _query(request, {"after": "0", "role": "", "endpoint": "", "conversation": "", "limit": str(MAX_LIMIT)})
        items, more = self.view.decisions(
            after=int(q["after"]),
            role=q["role"],
            endpoint=q["endpoint"],
            conversation=q["conversation"],
            limit=int(q["limit"]),
        )
        # With more to come, the next page starts after the last one here; else after everything seen.
        next_after = items[-1]["rev"] if more else self.view.rev
        return {
            "view_id": self.view.view_id,
            "rev": self.view.rev,
            "next_after": next_after,
            "more": more,
            "decisions": items,
        }

    async def conversations(self, request: Request) -> dict[str, Any]:
        q = _query(request, {"limit": "200"})
        return {"conversations": self.view.conversation_list(int(q["limit"]))}

    async def conversation(self, request: Request) -> dict[str, Any]:
        _query(request, {})
        conversation_id = request.path_params["conversation_id"]
        summary = self.view.conversation(conversation_id)
        if summary is None:
            raise RouterError(
                ErrorReason.REQUEST_INVALID,
                f"the dashboard holds no conversation '{conversation_id}'",
                {"violation_count": "1"},
                Violations.single("conversation_id", "not among the conversations the dashboard holds"),
            )
        return timeline(self.view, summary)

    async def quotas(self, request: Request) -> dict[str, Any]:
        _query(request, {})
        now = self._now_ms()
        return {"now_ms": now, "quotas": quotas_json(self.core.index, self.view.quotas, now)}

    async def endpoints(self, request: Request) -> dict[str, Any]:
        _query(request, {})
        card = await self.core.card()
        now = self._now_ms()
        rows = []
        for profile in card.endpoints:
            endpoint, status = profile.endpoint, profile.status
            cooldown_ms = status.cooldown_until.ToMilliseconds() if status.HasField("cooldown_until") else 0
            rows.append(
                {
                    "id": endpoint.id,
                    "display_name": endpoint.display_name,
                    "locality": "local" if endpoint.locality == common_pb2.LOCALITY_LOCAL else "remote",
                    "model": endpoint.model,
                    "declared_ttft_ms": endpoint.latency.ttft_ms,
                    "observed_outcomes": status.observed_outcomes,
                    "observed_failure_rate": status.observed_failure_rate,
                    "observed_ttft_ms": status.observed_ttft_ms,
                    "cooldown_until_ms": cooldown_ms or None,
                    "cooling_down": cooldown_ms > now,
                    "healthy": cooldown_ms <= now,
                    **self.view.endpoint_stats(endpoint.id),
                }
            )
        return {"now_ms": now, "endpoints": rows}
