"""The front door's ASGI application: its routes, over one ``FrontDoor`` (spec 14.1).

| route | answers |
|---|---|
| ``POST /v1/chat/completions`` | OpenAI Chat Completions, through Execute |
| ``POST /v1/responses`` | OpenAI Responses, through Execute |
| ``POST /v1/messages`` | Anthropic Messages, through Execute |
| ``POST /v1/messages/count_tokens`` | the normative token estimate of a Messages request |
| ``GET /v1/models`` | the model aliases, in either dialect's list shape |
| ``POST /v1/rolemodel/outcomes`` | ReportOutcome, in JSON |
| ``GET /v1/rolemodel/card`` | GetRouterCard, in JSON |
| ``GET /``, ``HEAD /`` | 200 and the router's name: clients and load balancers probe the base URL |
| ``GET /ui/...`` | the dashboard and its read API (``rolemodel_router.dashboard.api``) |

Paths without ``/v1`` are served too, because some clients are configured with a base URL that
already ends in ``/v1`` and some without it. Unknown paths get a 404 in the OpenAI error shape,
the shape most clients can read, with ``x-should-retry: false`` like every other client error.
Every request, whatever its fate, gets one access-log line (:mod:`.access_log`).
"""

from __future__ import annotations

from collections.abc import Sequence
from http import HTTPStatus

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import BaseRoute, Route

from rolemodel.dialects import openai_chat
from rolemodel_router import __version__
from rolemodel_router.core import ROUTER_NAME, RouterCore
from rolemodel_router.http.access_log import AccessLog
from rolemodel_router.http.anthropic_routes import AnthropicMessagesCodec
from rolemodel_router.http.count_tokens import CountTokens
from rolemodel_router.http.discovery import Discovery
from rolemodel_router.http.errors import SHOULD_RETRY_HEADER
from rolemodel_router.http.front_door import ExecuteFn, FrontDoor
from rolemodel_router.http.generation import Generation
from rolemodel_router.http.observe import Observer
from rolemodel_router.http.openai_routes import OpenAIChatCodec
from rolemodel_router.http.outcomes import Outcomes
from rolemodel_router.http.responses_routes import OpenAIResponsesCodec
from rolemodel_router.observe.metrics import Metrics
from rolemodel_router.server.auth import TokenRegistry


async def _http_error(request: Request, error: Exception) -> Response:
    """An error Starlette raised before any handler (unknown path, wrong method): a client error, never retried."""
    status = error.status_code if isinstance(error, HTTPException) else 500
    detail = error.detail if isinstance(error, HTTPException) else "internal error"
    body = openai_chat.encode_error(status, f"{request.method} {request.url.path}: {detail}")
    headers = dict(error.headers or {}) if isinstance(error, HTTPException) else {}
    headers[SHOULD_RETRY_HEADER] = "false" if status < HTTPStatus.INTERNAL_SERVER_ERROR else "true"
    return JSONResponse(body, status, headers=headers)


async def _root(request: Request) -> Response:
    """What a probe of the base URL learns: that a rolemodel router answers here."""
    return PlainTextResponse(f"{ROUTER_NAME} {__version__}\n")


def create_app(
    core: RouterCore,
    execute: ExecuteFn,
    tokens: TokenRegistry | None = None,
    metrics: Metrics | None = None,
    extra_routes: Sequence[BaseRoute] = (),
) -> Starlette:
    """The front door over ``core``; ``execute`` is ``core.execute_batches``, or a stand-in in unit tests.

    ``extra_routes`` are served beside it: the dashboard's, under ``/ui``.
    """
    front = FrontDoor(core, execute, tokens, Observer(metrics))
    chat = Generation(front, OpenAIChatCodec())
    messages = Generation(front, AnthropicMessagesCodec())
    responses = Generation(front, OpenAIResponsesCodec())
    discovery = Discovery(core)
    outcomes = Outcomes(front)
    count_tokens = CountTokens(front)
    routes: list[BaseRoute] = list(extra_routes)
    for prefix in ("/v1", ""):
        routes += [
            Route(f"{prefix}/chat/completions", chat.handle, methods=["POST"]),
            Route(f"{prefix}/responses", responses.handle, methods=["POST"]),
            Route(f"{prefix}/messages", messages.handle, methods=["POST"]),
            Route(f"{prefix}/messages/count_tokens", count_tokens.handle, methods=["POST"]),
            Route(f"{prefix}/models", discovery.models, methods=["GET"]),
        ]
    routes += [
        Route("/v1/rolemodel/outcomes", outcomes.report, methods=["POST"]),
        Route("/v1/rolemodel/card", discovery.card, methods=["GET"]),
        Route("/", _root, methods=["GET", "HEAD"]),
    ]
    return Starlette(routes=routes, exception_handlers={HTTPException: _http_error}, middleware=[Middleware(AccessLog)])
