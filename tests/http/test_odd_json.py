"""Valid-but-odd JSON is a REQUEST_INVALID in each dialect's error shape on every endpoint, never a 500.

Each body parses as JSON, but no decoder can use it: a lone surrogate escape, an integer of 4,000
digits or one that overflows a 32-bit count, nesting 5,000 deep, a tool schema 900 deep, a number
too large for a float. Before, each of them failed deep in a decoder as INTERNAL_ERROR, and on
``count_tokens`` as a bare text 500.
"""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from rolemodel_router.engine.limits import Limits
from tests.http import events as ev
from tests.http.catalog import write_catalog
from tests.http.in_process import InProcessFrontDoor

HEAD = b'{"model":"rolemodel/chat","max_tokens":16,'


def _schema(depth: int) -> bytes:
    return b'{"type":"object","properties":{"a":' * depth + b'{"type":"string"}' + b"}}" * depth


ODD = {
    "lone-surrogate": HEAD + b'"messages":[{"role":"user","content":"\\ud800"}]}',
    "4000-digit-integer": b'{"model":"rolemodel/chat","max_tokens":' + b"9" * 4000 + b',"messages":[]}',
    "count-past-32-bits": b'{"model":"rolemodel/chat","max_tokens":1099511627776,"messages":[]}',
    "nesting-5000-deep": HEAD + b'"metadata":' + b"[" * 5000 + b"]" * 5000 + b',"messages":[]}',
    "tool-schema-900-deep": HEAD + b'"messages":[{"role":"user","content":"hi"}],"tools":[{"name":"t",'
    b'"description":"d","input_schema":' + _schema(900) + b',"parameters":' + _schema(900) + b"}]}",
    "number-beyond-float": HEAD + b'"temperature":1e400,"messages":[{"role":"user","content":"hi"}]}',
    "nan-literal": HEAD + b'"temperature":NaN,"messages":[{"role":"user","content":"hi"}]}',
}
ENDPOINTS = {
    "/v1/chat/completions": "openai",
    "/v1/responses": "openai",
    "/v1/messages": "anthropic",
    "/v1/messages/count_tokens": "anthropic",
}


@pytest.fixture(scope="module")
def door(tmp_path_factory: pytest.TempPathFactory) -> Iterator[InProcessFrontDoor]:
    catalog = write_catalog(tmp_path_factory.mktemp("catalog"), "http://127.0.0.1:9")
    with InProcessFrontDoor(catalog, None, Limits(max_request_bytes=1 << 20)) as running:
        running.execute.script = lambda request, started: [ev.completed(started.decision, [ev.text("ok")])]
        yield running


@pytest.mark.parametrize("endpoint", sorted(ENDPOINTS))
@pytest.mark.parametrize("case", sorted(ODD))
def test_odd_json_is_request_invalid_in_the_dialect_s_shape(door: InProcessFrontDoor, endpoint: str, case: str) -> None:
    response = httpx.post(
        door.url + endpoint, content=ODD[case], headers={"content-type": "application/json"}, timeout=30
    )
    assert response.status_code == 400, response.text[:300]
    assert response.headers["x-rolemodel-error-reason"] == "REQUEST_INVALID"
    body = response.json()
    if ENDPOINTS[endpoint] == "anthropic":
        assert body["type"] == "error" and body["error"]["type"] == "invalid_request_error"
        message = body["error"]["message"]
    else:
        assert body["error"]["code"] == "REQUEST_INVALID" and body["error"]["type"] == "invalid_request_error"
        message = body["error"]["message"]
    assert message.startswith("REQUEST_INVALID: ")
    assert door.execute.requests == [], "bad input reaches no router state"
