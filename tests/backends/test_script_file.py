"""The JSON script format: every step kind parses, and mistakes are named instead of ignored."""

from __future__ import annotations

from typing import Any

import pytest

from rolemodel.v1 import catalog_pb2
from rolemodel_router.backends.scripted import CacheMode, CacheRules, Fault, Reply, ScriptError, ToolCall
from rolemodel_router.backends.scripted.script_file import apply_document
from rolemodel_router.backends.scripted.state import BackendState

DOCUMENT: dict[str, Any] = {
    "api_key": "sk-test",
    "models": {
        "gpt-small": {
            "cache": "openai",
            "context_window_tokens": 128000,
            "script": [
                {"text": "Hello", "chunk_chars": 2, "first_token_delay": 0},
                {
                    "tool_calls": [{"name": "read_file", "arguments": {"path": "a.py"}, "id": "call_1"}],
                    "reasoning": "r",
                },
                {"fault": "rate_limited", "retry_after": 2},
                {"fault": "server_error", "status": 503},
                {"fault": "context_overflow"},
                {"fault": "hang"},
                {"fault": "hang", "after_deltas": 1},
                {"fault": "cut", "after_deltas": 3, "reply": {"text": "partial answer"}},
                {"fault": "invalid_json"},
                {"fault": "stream_error", "after_deltas": 2, "status": 503},
            ],
            "default": {"text": "ok"},
        },
        "claude": {"cache": {"mode": "explicit", "min_tokens": 1024, "ttl_seconds": 300, "refresh_on_hit": True}},
    },
}


def test_a_document_with_every_step_kind() -> None:
    state = BackendState()
    apply_document(state, DOCUMENT)
    assert state.api_key == "sk-test"
    assert state.models() == ["claude", "gpt-small"]
    setup = state.setup("gpt-small")
    assert setup is not None
    assert (setup.cache, setup.context_window_tokens, setup.default) == (CacheRules.openai(), 128000, Reply(text="ok"))
    steps = [state.next_step("gpt-small") for _ in range(11)]
    assert steps == [
        Reply(text="Hello", chunk_chars=2),
        Reply(tool_calls=(ToolCall("read_file", {"path": "a.py"}, id="call_1"),), reasoning="r"),
        Fault.rate_limited(retry_after=2),
        Fault.server_error(503),
        Fault.context_overflow(),
        Fault.hang(),
        Fault.hang(after_deltas=1),
        Fault.cut(after_deltas=3, reply=Reply(text="partial answer")),
        Fault.invalid_json(),
        Fault.stream_error(after_deltas=2, status=503),
        Reply(text="ok"),
    ]
    claude = state.setup("claude")
    assert claude is not None and claude.cache == CacheRules(CacheMode.EXPLICIT, min_tokens=1024)


@pytest.mark.parametrize(
    ("document", "message"),
    [
        ({"models": {"m": {"script": [{"txt": "typo"}]}}}, "unknown keys ['txt']"),
        ({"models": {"m": {"script": [{"fault": "explode"}]}}}, "unknown fault 'explode'"),
        ({"models": {"m": {"script": [{"fault": "server_error", "status": 404}]}}}, "5xx"),
        ({"models": {"m": {"script": [{"text": 5}]}}}, "script.models.m.script[0].text: expected str"),
        ({"models": {"m": {"script": [{"output_tokens": True}]}}}, "expected int"),
        ({"models": {"m": {"cache": "gemini"}}}, "unknown preset 'gemini'"),
        ({"models": {"m": {"cache": {"mode": "sometimes"}}}}, "script.models.m.cache"),
        ({"models": {"m": {"script": {"text": "x"}}}}, "expected an array"),
        ({"model": {}}, "unknown keys ['model']"),
    ],
)
def test_mistakes_are_named(document: dict[str, Any], message: str) -> None:
    with pytest.raises(ScriptError, match=message.replace("[", r"\[").replace("]", r"\]")):
        apply_document(BackendState(), document)


def test_a_bad_document_changes_nothing() -> None:
    state = BackendState()
    with pytest.raises(ScriptError):
        apply_document(
            state, {"api_key": "k", "models": {"a": {"script": [{"text": "x"}]}, "b": {"script": [{"x": 1}]}}}
        )
    assert (state.models(), state.api_key) == ([], None)


def test_cache_rules_mirror_a_catalog_endpoint() -> None:
    caching = catalog_pb2.CachingBehavior(
        mode=catalog_pb2.CACHE_MODE_EXPLICIT, min_cacheable_tokens=2048, ttl_seconds=3600, refresh_on_hit=True
    )
    assert CacheRules.from_catalog(caching) == CacheRules(
        CacheMode.EXPLICIT, min_tokens=2048, granularity=1, ttl_seconds=3600, refresh_on_hit=True
    )
    assert CacheRules.from_catalog(catalog_pb2.CachingBehavior()).mode == CacheMode.NONE
    with pytest.raises(ValueError, match="granularity"):
        CacheRules(granularity=0)
