"""Read a request body as JSON, within the router's request limit (RM-HINT-010 over HTTP).

The body is read in pieces and refused as soon as it passes ``max_request_bytes``, so an
oversized upload costs the router no more memory than the limit; a ``Content-Length`` above the
limit is refused before anything is read. Malformed JSON is a field violation of ``body``.
"""

from __future__ import annotations

import json
import math
from typing import Any

from starlette.requests import ClientDisconnect, Request

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
    try:
        async for piece in request.stream():
            size += len(piece)
            if size > limit:
                raise too_large(size, limit)
            pieces.append(piece)
    except ClientDisconnect:
        # Gone before its body arrived, or closed for taking too long (slow_clients): no one reads the answer.
        raise RouterError(
            ErrorReason.REQUEST_INVALID, "the client closed the connection, or was closed, before its body arrived"
        ) from None
    return b"".join(pieces)


#: Deepest nesting of arrays and objects accepted; real requests (tool schemas included) stay far below.
MAX_JSON_DEPTH = 64
#: Integers must fit in 64 bits, the widest the protocol's fields take.
_INT_RANGE = (-(1 << 63), (1 << 64) - 1)


def _invalid(where: str, description: str) -> RouterError:
    return RouterError(
        ErrorReason.REQUEST_INVALID,
        f"the request {where} is {description}",
        {"violation_count": "1"},
        Violations.single(where, description),
    )


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON number")


def _finite(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise ValueError(f"{text[:32]} is too large for a number")
    return value


def parse_json(raw: bytes, *, where: str = "body") -> Any:
    """The JSON document in ``raw``; raises REQUEST_INVALID with a violation of ``where``.

    Valid-but-odd JSON is refused here, in one place for every dialect and endpoint, rather than
    failing deep in a decoder as an internal error: nesting past MAX_JSON_DEPTH, integers beyond
    64 bits, lone surrogate escapes (text that cannot be UTF-8), and NaN or Infinity.
    """
    try:
        document = json.loads(raw, parse_constant=_refuse_constant, parse_float=_finite)
    except RecursionError:
        raise _invalid(where, f"nested deeper than {MAX_JSON_DEPTH} levels") from None
    except ValueError as error:  # JSONDecodeError, UnicodeDecodeError, the digit limit, NaN
        raise _invalid(where, f"not valid JSON: {error}") from None
    problem = _odd_value(document, where)
    if problem is not None:
        path, description = problem
        raise RouterError(
            ErrorReason.REQUEST_INVALID,
            f"the request {where} has a value it cannot take: {path}: {description}",
            {"violation_count": "1"},
            Violations.single(path, description),
        )
    return document


def _odd_value(document: Any, where: str) -> tuple[str, str] | None:
    """The first value no decoder can use, with its path; an iterative walk, so depth cannot crash it."""
    stack: list[tuple[Any, str, int]] = [(document, where, 0)]
    while stack:
        value, path, depth = stack.pop()
        if isinstance(value, dict | list):
            if depth >= MAX_JSON_DEPTH:
                return path, f"nested deeper than {MAX_JSON_DEPTH} levels"
            if isinstance(value, dict):
                for key, item in value.items():
                    if not _is_utf8(key):
                        return path, "a key holds a lone surrogate escape, which is not text"
                    stack.append((item, f"{path}.{key}", depth + 1))
            else:
                stack.extend((item, f"{path}[{i}]", depth + 1) for i, item in enumerate(value))
        elif isinstance(value, str) and not _is_utf8(value):
            return path, "holds a lone surrogate escape, which is not text"
        elif isinstance(value, int) and not isinstance(value, bool) and not _INT_RANGE[0] <= value <= _INT_RANGE[1]:
            return path, "an integer beyond 64 bits"
    return None


def _is_utf8(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


async def read_json(request: Request, limit: int) -> Any:
    return parse_json(await read_body(request, limit))
