"""The HTTP front door: the router behind the two wire dialects that unmodified tools speak (spec chapter 14).

``rolemodel serve --http HOST:PORT`` serves it next to gRPC, in the same process and over the same
``RouterCore``. Coding agents and chat clients (Codex CLI, Claude Code, aider, Open WebUI) point
their base URL at it; every request becomes an ``Execute`` call, so it is routed, handed off,
served, accounted and recorded like any gRPC request.

Modules, one job each:

- :mod:`.app` the routes; :mod:`.server` uvicorn in the router's event loop;
- :mod:`.generation` the flow of a generation request, with :mod:`.openai_routes` and
  :mod:`.anthropic_routes` as the two dialects behind :mod:`.dialect`;
- :mod:`.model_names` model aliases and the catalog's client model rules; :mod:`.hints` hints
  from headers; :mod:`.conversation_id` derived conversation ids and turns;
  :mod:`.execute_request` the ExecuteRequest;
- :mod:`.response_headers` what a response says about its decision; :mod:`.errors` the one
  error boundary, in each dialect's shape; :mod:`.auth` bearer tokens; :mod:`.body` bounded
  request bodies; :mod:`.slow_clients` time, connection and keep-alive limits per client;
- :mod:`.outcomes` ReportOutcome over HTTP; :mod:`.discovery` the model list and the card;
  :mod:`.count_tokens` Anthropic's token count, estimated.
"""

from rolemodel_router.http.app import create_app
from rolemodel_router.http.server import FrontDoorServer, HttpTls
from rolemodel_router.http.slow_clients import HttpLimits

__all__ = ["FrontDoorServer", "HttpLimits", "HttpTls", "create_app"]
