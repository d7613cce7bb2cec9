"""The scripted backend's HTTP application: the three dialects, the model list, and a small control API.

``/_scripted/*`` lets a test in another process script the backend (``POST /_scripted/script``),
read what it received (``GET /_scripted/requests``: each request's summary, body included), start
a scenario afresh (``POST /_scripted/reset``) and move its clock (``POST /_scripted/clock``), the
same things the in-process API offers.
"""

from __future__ import annotations

import json
import threading

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from rolemodel_router.backends.scripted.generation import Generation
from rolemodel_router.backends.scripted.script_file import ScriptError, apply_document
from rolemodel_router.backends.scripted.state import BackendState
from rolemodel_router.backends.scripted.wire import AnthropicMessagesWire, OpenAIChatWire, OpenAIResponsesWire

_OPENAI = OpenAIChatWire()
_ANTHROPIC = AnthropicMessagesWire()
_RESPONSES = OpenAIResponsesWire()


def create_app(state: BackendState, stopping: threading.Event) -> Starlette:
    """The ASGI app over ``state``; ``stopping`` releases hanging responses when the server stops."""
    generation = Generation(state, stopping)

    async def chat_completions(request: Request) -> Response:
        return await generation.handle(request, _OPENAI)

    async def responses(request: Request) -> Response:
        return await generation.handle(request, _RESPONSES)

    async def messages(request: Request) -> Response:
        return await generation.handle(request, _ANTHROPIC)

    async def models(request: Request) -> Response:
        names = state.models()
        if "anthropic-version" in request.headers:
            listing = [
                {"type": "model", "id": n, "display_name": n, "created_at": "2025-01-01T00:00:00Z"} for n in names
            ]
            first, last = (names[0], names[-1]) if names else (None, None)
            return JSONResponse({"data": listing, "has_more": False, "first_id": first, "last_id": last})
        data = [{"id": n, "object": "model", "created": 0, "owned_by": "rolemodel-scripted"} for n in names]
        return JSONResponse({"object": "list", "data": data})

    async def load_script(request: Request) -> Response:
        try:
            apply_document(state, json.loads(await request.body()))
        except (ScriptError, ValueError) as exc:
            return JSONResponse({"error": str(exc)}, status_code=400)
        return JSONResponse({"models": state.models(), "remaining": {m: state.remaining(m) for m in state.models()}})

    async def list_requests(request: Request) -> Response:
        return JSONResponse([r.summary() for r in state.requests()])

    async def reset(request: Request) -> Response:
        state.reset()
        return JSONResponse({"models": state.models()})

    async def advance_clock(request: Request) -> Response:
        try:
            seconds = float(json.loads(await request.body())["advance_seconds"])
            state.clock.advance(seconds)
        except (KeyError, TypeError, ValueError) as exc:
            return JSONResponse({"error": f"expected {{'advance_seconds': number >= 0}}: {exc}"}, status_code=400)
        return JSONResponse({"now": state.clock.now()})

    return Starlette(
        routes=[
            Route("/v1/chat/completions", chat_completions, methods=["POST"]),
            Route("/v1/responses", responses, methods=["POST"]),
            Route("/v1/messages", messages, methods=["POST"]),
            Route("/v1/models", models, methods=["GET"]),
            Route("/_scripted/script", load_script, methods=["POST"]),
            Route("/_scripted/requests", list_requests, methods=["GET"]),
            Route("/_scripted/reset", reset, methods=["POST"]),
            Route("/_scripted/clock", advance_clock, methods=["POST"]),
        ]
    )
