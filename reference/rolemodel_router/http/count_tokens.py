"""``POST /v1/messages/count_tokens``: Anthropic's token count, with the protocol's normative estimate.

Claude Code asks gateways for it (to size its context) and degrades when it is missing. The router
has no tokenizer for every model it might route to, so it answers with the estimate of spec 4.4,
the same number its decisions use for a prompt without counts: ``{"input_tokens": N}``. The count
is of the prompt as sent, before any handoff, and is an estimate, not what any provider will bill.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from rolemodel.tokens import estimate_message_tokens, estimate_tools_tokens
from rolemodel_router.engine.errors import RouterError
from rolemodel_router.http.anthropic_routes import AnthropicMessagesCodec
from rolemodel_router.http.auth import authenticate
from rolemodel_router.http.body import read_json
from rolemodel_router.http.errors import Dialect, error_response
from rolemodel_router.http.front_door import FrontDoor
from rolemodel_router.http.generation import decode
from rolemodel_router.http.hints import check_version


class CountTokens:
    def __init__(self, front: FrontDoor) -> None:
        self.front = front
        self.codec = AnthropicMessagesCodec()

    async def handle(self, request: Request) -> Response:
        try:
            authenticate(self.front.tokens, request.headers)
            check_version(request.headers)
            canonical = decode(self.codec, await read_json(request, self.front.max_request_bytes))
        except RouterError as error:
            self.front.observer.refused(error.reason.value, error.message, Dialect.ANTHROPIC.value)
            return error_response(Dialect.ANTHROPIC, error)
        tokens = sum(estimate_message_tokens(m) for m in canonical.messages) + estimate_tools_tokens(canonical.tools)
        return JSONResponse({"input_tokens": tokens})
