"""Read a request body as JSON, within the router's request limit (RM-HINT-010 over HTTP).

The body is read in pieces and refused as soon as it passes ``max_request_bytes``, so an
oversized upload costs the router no more memory than the limit; a ``Content-Length`` above the
limit is refused before anything is read. Malformed JSON is a field violation of ``body``.
"""

from __future__ import annotations

import json
from typing import Any

from starlette.requests import Request

from rolemodel.error_reasons import ErrorReason
from rolemodel_router.engine.errors import RouterError, Violations


def too_large(size: int, limit: int) -> RouterError:
    return RouterError(
        ErrorReason.REQUEST_TOO_LARGE,
        f"the request body has {'more than ' if size > limit + 1 else ''}{size} bytes, the limit is {limit}",
        {"max_request_bytes": str(limit), "request_bytes": str(size)},
    )


async def read_body(request: Request, limit: int) -> bytes:
    """The raw body; raises REQUEST_TOO_LARGE past ``limit`` bytes."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise too_large(int(declared), limit)
    pieces: list[bytes] = []
    size = 0
    async for piece in request.stream():
        size += len(piece)
        if size > limit:
            raise too_large(size, limit)
        pieces.append(piece)
    return b"".join(pieces)


def parse_json(raw: bytes, *, where: str = "body") -> Any:
    """The JSON document in ``raw``; raises REQUEST_INVALID with a violation of ``where``."""
    try:
        return json.loads(raw)
    except ValueError as error:  # JSONDecodeError and UnicodeDecodeError
        description = f"not valid JSON: {error}"
        raise RouterError(
            ErrorReason.REQUEST_INVALID,
            f"the request {where} is {description}",
            {"violation_count": "1"},
            Violations.single(where, description),
        ) from None


async def read_json(request: Request, limit: int) -> Any:
    return parse_json(await read_body(request, limit))
