"""``GET /v1/models`` and ``GET /v1/rolemodel/card``: what a client can ask for, without credentials.

``/v1/models`` is how a chat client fills its model picker. It lists one alias per role of the
catalog (``rolemodel/code.edit``), in catalog order, then one pinned alias per endpoint on each
role's ladder (``rolemodel/code.edit@deepseek-chat``), in the OpenAI list shape, or in
Anthropic's when the request carries ``anthropic-version``. The card is the gRPC
``GetRouterCard`` answer in the proto3 JSON mapping. Both are discovery and, like the card over
gRPC, need no token (RM-AUTH-003).
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from rolemodel.dialects.json_fields import JSONObject
from rolemodel_router.core import RouterCore
from rolemodel_router.http.model_names import alias
from rolemodel_router.http.response_headers import proto_json

OWNER = "rolemodel"
LISTED_SINCE = "1970-01-01T00:00:00Z"


def model_aliases(core: RouterCore) -> list[tuple[str, str]]:
    """(alias, description) for every role, then for every role and endpoint on its ladder."""
    roles = core.index.catalog.roles
    listing = [(alias(role.name), role.description or f"routed within role {role.name}") for role in roles]
    listing.extend(
        (alias(role.name, endpoint_id), f"role {role.name}, pinned to {endpoint_id}")
        for role in roles
        for tier in role.ladder
        for endpoint_id in tier.endpoint_ids
    )
    return listing


def models_body(core: RouterCore, *, anthropic: bool) -> JSONObject:
    listing = model_aliases(core)
    data: list[JSONObject]
    if anthropic:
        data = [
            {"type": "model", "id": name, "display_name": name, "created_at": LISTED_SINCE, "description": text}
            for name, text in listing
        ]
        first, last = (listing[0][0], listing[-1][0]) if listing else (None, None)
        return {"data": data, "has_more": False, "first_id": first, "last_id": last}
    data = [
        {"id": name, "object": "model", "created": 0, "owned_by": OWNER, "description": text} for name, text in listing
    ]
    return {"object": "list", "data": data}


class Discovery:
    def __init__(self, core: RouterCore) -> None:
        self.core = core

    async def models(self, request: Request) -> Response:
        return JSONResponse(models_body(self.core, anthropic="anthropic-version" in request.headers))

    async def card(self, request: Request) -> Response:
        return JSONResponse(proto_json(await self.core.card()))
