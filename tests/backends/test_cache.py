"""The simulated prompt cache across turns: cold writes, warm reads, TTL expiry, breakpoints vs automatic."""

from __future__ import annotations

import json

import httpx
import pytest

from rolemodel.cost import cacheable_tokens, economics_from_endpoint
from rolemodel.v1 import catalog_pb2, outcome_pb2
from rolemodel.v1 import conversation_pb2 as c
from rolemodel_router.backends.scripted import CacheMode, CacheRules, Reply, ScriptedBackend
from tests.backends.dialect_calls import assistant, body, decode, post, stream, system, user, words

SYSTEM = words(1500)  # 1,504 tokens as a message
FIRST = words(100)  # 104 tokens
SECOND = words(50)  # 54 tokens


def usage_of(
    backend: ScriptedBackend, http: httpx.Client, dialect: str, messages: list[c.Message], **kw: object
) -> outcome_pb2.Usage:
    backend.script("m", [Reply(text="ok")])
    usage = decode(dialect, post(http, dialect, "m", messages, **kw)).usage
    assert usage is not None
    return usage


def usage_tuple(usage: outcome_pb2.Usage) -> tuple[int, int, int]:
    return usage.input_tokens, usage.cache_read_tokens, usage.cache_write_tokens


class TestAutomatic:
    """OpenAI-style: everything from 1,024 tokens is cached, reads count in 128-token steps."""

    @pytest.fixture(autouse=True)
    def _rules(self, backend: ScriptedBackend) -> None:
        backend.configure("m", cache=CacheRules.openai())

    def test_a_cold_turn_then_a_warm_turn(self, backend: ScriptedBackend, http: httpx.Client) -> None:
        turn1 = [system(SYSTEM), user(FIRST)]
        assert usage_tuple(usage_of(backend, http, "openai", turn1)) == (1608, 0, 0)
        turn2 = [*turn1, assistant("ok"), user(SECOND)]
        assert usage_tuple(usage_of(backend, http, "openai", turn2)) == (1667, 1536, 0)
        response = backend.requests[-1]
        assert json.loads(response.body)["messages"][2] == {"role": "assistant", "content": "ok"}

    def test_entries_expire_after_the_ttl(self, backend: ScriptedBackend, http: httpx.Client) -> None:
        prompt = [system(SYSTEM), user(FIRST)]
        usage_of(backend, http, "openai", prompt)
        backend.clock.advance(299)
        assert usage_of(backend, http, "openai", prompt).cache_read_tokens == 1536
        backend.clock.advance(299)  # The hit at 299 restarted the TTL.
        assert usage_of(backend, http, "openai", prompt).cache_read_tokens == 1536
        backend.clock.advance(301)
        assert usage_of(backend, http, "openai", prompt).cache_read_tokens == 0

    def test_a_prompt_below_the_minimum_is_never_cached(self, backend: ScriptedBackend, http: httpx.Client) -> None:
        prompt = [user(words(900))]
        usage_of(backend, http, "openai", prompt)
        assert usage_of(backend, http, "openai", prompt).cache_read_tokens == 0
        assert backend.cached_prefixes("m") == []

    def test_other_tools_are_another_prefix(self, backend: ScriptedBackend, http: httpx.Client) -> None:
        prompt = [system(SYSTEM), user(FIRST)]
        tool = c.ToolDefinition(name="read", description="Read a file.", parameters_json_schema='{"type":"object"}')
        usage_of(backend, http, "openai", prompt)
        with_tool = usage_of(backend, http, "openai", prompt, tools=[tool])
        assert (with_tool.input_tokens, with_tool.cache_read_tokens) == (1608 + 8 + 9, 0)

    def test_breakpoints_mean_nothing_to_automatic_caching(self, backend: ScriptedBackend, http: httpx.Client) -> None:
        prompt = [system(SYSTEM, ttl=0), user(FIRST)]
        usage_of(backend, http, "anthropic", prompt)
        assert usage_tuple(usage_of(backend, http, "anthropic", prompt)) == (1608, 1536, 0)

    def test_the_router_cost_model_predicts_the_reported_read(
        self, backend: ScriptedBackend, http: httpx.Client
    ) -> None:
        caching = catalog_pb2.CachingBehavior(
            mode=catalog_pb2.CACHE_MODE_AUTOMATIC, min_cacheable_tokens=1024, granularity_tokens=128, ttl_seconds=300
        )
        endpoint = catalog_pb2.Endpoint(
            id="gpt",
            caching=caching,
            pricing=catalog_pb2.EndpointPricing(currency="USD", input_per_mtok="1", output_per_mtok="2"),
        )
        backend.configure("m", cache=CacheRules.from_catalog(caching))
        turn1 = [system(SYSTEM), user(FIRST)]
        usage_of(backend, http, "openai", turn1)
        reported = usage_of(backend, http, "openai", [*turn1, assistant("ok"), user(SECOND)])
        assert reported.cache_read_tokens == cacheable_tokens(economics_from_endpoint(endpoint), 1608)


def test_refresh_on_hit_decides_whether_a_hit_extends_the_ttl(backend: ScriptedBackend, http: httpx.Client) -> None:
    prompt = [user(FIRST)]
    for model, refresh in (("refreshing", True), ("fixed", False)):
        backend.configure(model, cache=CacheRules(CacheMode.AUTOMATIC, ttl_seconds=300, refresh_on_hit=refresh))
        backend.script(model, [Reply(text="ok")] * 3)
    reads: dict[str, list[int]] = {"refreshing": [], "fixed": []}
    for advance in (0, 200, 150):
        backend.clock.advance(advance)
        for model, seen in reads.items():
            usage = decode("openai", post(http, "openai", model, prompt)).usage
            assert usage is not None
            seen.append(usage.cache_read_tokens)
    assert reads == {"refreshing": [0, 104, 104], "fixed": [0, 104, 0]}


def test_a_cache_that_includes_the_answer(backend: ScriptedBackend, http: httpx.Client) -> None:
    backend.configure("m", cache=CacheRules(CacheMode.AUTOMATIC, includes_output=True))
    backend.script("m", [Reply(text="answer"), Reply(text="ok")])
    decode("openai", post(http, "openai", "m", [user(FIRST)]))
    usage = decode("openai", post(http, "openai", "m", [user(FIRST), assistant("answer"), user("next")])).usage
    assert usage is not None and usage.cache_read_tokens == 104 + 4 + 2


class TestExplicit:
    """Anthropic-style: only prefixes ending at a breakpoint are written, from 1,024 tokens on."""

    @pytest.fixture(autouse=True)
    def _rules(self, backend: ScriptedBackend) -> None:
        backend.configure("m", cache=CacheRules.anthropic())

    def test_without_breakpoints_nothing_is_cached(self, backend: ScriptedBackend, http: httpx.Client) -> None:
        prompt = [system(SYSTEM), user(FIRST)]
        usage_of(backend, http, "anthropic", prompt)
        assert usage_tuple(usage_of(backend, http, "anthropic", prompt)) == (1608, 0, 0)

    def test_a_cold_write_then_a_warm_read_with_the_breakpoint_moving_forward(
        self, backend: ScriptedBackend, http: httpx.Client
    ) -> None:
        turn1 = [system(SYSTEM, ttl=0), user(FIRST, ttl=0)]
        assert usage_tuple(usage_of(backend, http, "anthropic", turn1)) == (1608, 0, 1608)
        wire_usage = backend.requests[-1]
        assert wire_usage.usage is not None
        turn2 = [system(SYSTEM, ttl=0), user(FIRST), assistant("ok"), user(SECOND, ttl=0)]
        assert usage_tuple(usage_of(backend, http, "anthropic", turn2)) == (1667, 1608, 59)

    def test_the_wire_reports_anthropic_input_tokens_without_the_cache(
        self, backend: ScriptedBackend, http: httpx.Client
    ) -> None:
        backend.script("m", [Reply(text="ok")])
        response = post(http, "anthropic", "m", [system(SYSTEM, ttl=0), user(FIRST)])
        assert response.json()["usage"] == {
            "input_tokens": 104,
            "cache_creation_input_tokens": 1504,
            "cache_read_input_tokens": 0,
            "output_tokens": 1,
        }

    def test_a_one_hour_breakpoint_outlives_a_five_minute_one(
        self, backend: ScriptedBackend, http: httpx.Client
    ) -> None:
        usage_of(backend, http, "anthropic", [system(SYSTEM, ttl=3600), user(FIRST, ttl=300)])
        backend.clock.advance(301)
        usage = usage_of(backend, http, "anthropic", [system(SYSTEM, ttl=3600), user(FIRST, ttl=300)])
        assert usage_tuple(usage) == (1608, 1504, 104)

    def test_writes_up_to_a_one_hour_breakpoint_are_reported_apart(
        self, backend: ScriptedBackend, http: httpx.Client
    ) -> None:
        """Anthropic bills the tokens up to the last one-hour breakpoint at the 1-hour price, the rest at 5 minutes."""
        usage = usage_of(backend, http, "anthropic", [system(SYSTEM, ttl=3600), user(FIRST, ttl=300)])
        assert (usage.cache_write_tokens, usage.cache_write_long_ttl_tokens) == (1608, 1504)

    def test_a_breakpoint_below_the_minimum_writes_nothing(self, backend: ScriptedBackend, http: httpx.Client) -> None:
        prompt = [system(words(500), ttl=0), user(FIRST, ttl=0)]
        usage_of(backend, http, "anthropic", prompt)
        assert usage_tuple(usage_of(backend, http, "anthropic", prompt)) == (608, 0, 0)

    def test_a_breakpoint_inside_a_message(self, backend: ScriptedBackend, http: httpx.Client) -> None:
        """A breakpoint on the first of two blocks caches the prefix up to that block only."""
        head = c.ContentPart(text=c.TextPart(text=SYSTEM), cache_breakpoint=c.CacheBreakpoint())
        tail = c.ContentPart(text=c.TextPart(text=FIRST))
        prompt = [c.Message(role=c.MESSAGE_ROLE_USER, parts=[head, tail])]
        assert usage_tuple(usage_of(backend, http, "anthropic", prompt)) == (1604, 0, 1504)
        assert usage_tuple(usage_of(backend, http, "anthropic", prompt)) == (1604, 1504, 0)

    @pytest.mark.parametrize(("between", "read"), [(18, 1504), (19, 1504), (20, 0)])
    def test_a_hit_is_found_at_most_twenty_blocks_before_a_breakpoint(
        self, backend: ScriptedBackend, http: httpx.Client, between: int, read: int
    ) -> None:
        """The system prompt is held (block 0); the next prompt marks only a block ``between + 1`` blocks on."""
        usage_of(backend, http, "anthropic", [system(SYSTEM, ttl=0), user(FIRST)])
        turns = [user(f"step {i}") if i % 2 == 0 else assistant(f"done {i}") for i in range(between)]
        prompt = [system(SYSTEM), *turns, user(SECOND, ttl=0)]
        assert usage_tuple(usage_of(backend, http, "anthropic", prompt))[1] == read

    def test_a_streamed_answer_reports_the_cache_in_message_start(
        self, backend: ScriptedBackend, http: httpx.Client
    ) -> None:
        backend.script("m", [Reply(text="ok"), Reply(text="ok")])
        prompt = [system(SYSTEM, ttl=0), user(FIRST)]
        with http.stream("POST", "/v1/messages", json=body("anthropic", "m", prompt, stream=True)) as response:
            lines = response.iter_lines()
            first, data = next(lines), next(lines)
        assert first == "event: message_start"
        usage = json.loads(data.removeprefix("data: "))["message"]["usage"]
        assert (usage["cache_creation_input_tokens"], usage["input_tokens"]) == (1504, 104)
        _, reader = stream(http, "anthropic", "m", prompt)
        completion = reader.decoder.completion()
        assert completion.usage is not None
        assert usage_tuple(completion.usage) == (1608, 1504, 0)


def test_two_models_keep_separate_caches(backend: ScriptedBackend, http: httpx.Client) -> None:
    """Switching models starts cold; switching back within the TTL finds the old prefix."""
    for model in ("a", "b"):
        backend.configure(model, cache=CacheRules(CacheMode.AUTOMATIC))
        backend.script(model, [Reply(text="ok")] * 2)
    conversation = [user(FIRST)]
    reads = []
    for model in ("a", "b", "a"):
        usage = decode("openai", post(http, "openai", model, conversation)).usage
        assert usage is not None
        reads.append(usage.cache_read_tokens)
        conversation = [*conversation, assistant("ok"), user("more")]
    assert reads == [0, 0, 104]
