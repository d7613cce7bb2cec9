"""An HTTP fuzzer for the front door: any JSON body, on any generation endpoint, is answered below 500.

Bodies start from a valid request of each dialect and have fields replaced by arbitrary JSON values
(hypothesis), or are arbitrary JSON documents outright, or carry in any field one of the valid-but-odd
JSON values of the hardening review (a lone surrogate, a 4,000-digit integer, nesting 5,000 deep, a
schema 900 deep, a number beyond a float). Whatever arrives, the answer is a success or a 4xx in the
dialect's error shape with a protocol reason, never an internal error.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from rolemodel_router.engine.limits import Limits
from tests.http import events as ev
from tests.http.catalog import write_catalog
from tests.http.in_process import InProcessFrontDoor

JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=4),
    max_leaves=12,
)
VALID: dict[str, dict[str, Any]] = {
    "/v1/chat/completions": {"model": "rolemodel/chat", "messages": [{"role": "user", "content": "hi"}]},
    "/v1/messages": {"model": "rolemodel/chat", "max_tokens": 16, "messages": [{"role": "user", "content": "hi"}]},
    "/v1/messages/count_tokens": {"model": "rolemodel/chat", "messages": [{"role": "user", "content": "hi"}]},
    "/v1/responses": {"model": "rolemodel/chat", "input": "hi"},
}
ANTHROPIC = {"/v1/messages", "/v1/messages/count_tokens"}
PLACEHOLDER = "odd-value-goes-here"
ODD_VALUES = (
    '"\\ud800"',
    "9" * 4000,
    "-" + "9" * 4000,
    "1e400",
    "[" * 5000 + "]" * 5000,
    '{"type":"object","properties":{"a":' * 900 + '{"type":"string"}' + "}}" * 900,
    '[{"role":"user","content":"\\udfff"}]',
)


@pytest.fixture(scope="module")
def door(tmp_path_factory: pytest.TempPathFactory) -> Iterator[InProcessFrontDoor]:
    catalog = write_catalog(tmp_path_factory.mktemp("catalog"), "http://127.0.0.1:9")
    with InProcessFrontDoor(catalog, None, Limits(max_request_bytes=1 << 20)) as running:
        running.execute.script = lambda request, started: [ev.completed(started.decision, [ev.text("ok")])]
        yield running


def _check(door: InProcessFrontDoor, endpoint: str, body: Any, odd: str | None = None) -> None:
    text = json.dumps(body)
    if odd is not None:
        text = text.replace(json.dumps(PLACEHOLDER), odd)
    response = httpx.post(door.url + endpoint, content=text, timeout=30)
    assert response.status_code < 500, (endpoint, body, response.text[:300])
    if response.status_code >= 400:
        payload = response.json()
        error = payload["error"]
        assert error["type"] == "invalid_request_error" or response.status_code != 400, payload
        assert error["message"].split(":", 1)[0] == response.headers["x-rolemodel-error-reason"]
        if endpoint in ANTHROPIC:
            assert payload["type"] == "error"


@pytest.mark.parametrize("endpoint", sorted(VALID))
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_mutated_requests_never_get_a_5xx(door: InProcessFrontDoor, endpoint: str, data: st.DataObject) -> None:
    body: dict[str, Any] = dict(VALID[endpoint])
    for key in data.draw(st.lists(st.sampled_from([*body, "tools", "stream", "metadata", "system"]), max_size=3)):
        body[key] = data.draw(JSON)
    _check(door, endpoint, body)


@pytest.mark.parametrize("endpoint", sorted(VALID))
@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(body=JSON)
def test_arbitrary_json_never_gets_a_5xx(door: InProcessFrontDoor, endpoint: str, body: Any) -> None:
    _check(door, endpoint, body)


@pytest.mark.parametrize("endpoint", sorted(VALID))
@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_odd_values_in_any_field_never_get_a_5xx(door: InProcessFrontDoor, endpoint: str, data: st.DataObject) -> None:
    body: dict[str, Any] = json.loads(json.dumps(VALID[endpoint]))
    fields = [*body, "tools", "temperature", "max_tokens", "metadata", "system", "instructions"]
    key = data.draw(st.sampled_from(fields))
    if key == "messages" and data.draw(st.booleans()):
        body["messages"][0]["content"] = PLACEHOLDER  # the odd value inside a message
    else:
        body[key] = PLACEHOLDER
    _check(door, endpoint, body, data.draw(st.sampled_from(ODD_VALUES)))
