"""Properties of the cache simulation, without HTTP: what a second turn reads is what the first one left."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from rolemodel.tokens import estimate_message_tokens, estimate_tools_tokens
from rolemodel.v1 import conversation_pb2 as c
from rolemodel_router.backends.scripted import CacheMode, CacheRules
from rolemodel_router.backends.scripted.prefix_cache import PrefixCache
from rolemodel_router.backends.scripted.prompt_layout import layout_prompt
from tests.dialects.strategies import tool_definitions
from tests.strategies import conversations

automatic_rules = st.builds(
    CacheRules,
    mode=st.just(CacheMode.AUTOMATIC),
    min_tokens=st.integers(0, 80),
    granularity=st.integers(1, 16),
    ttl_seconds=st.just(300.0),
)
explicit_rules = st.builds(
    CacheRules, mode=st.just(CacheMode.EXPLICIT), min_tokens=st.integers(0, 80), ttl_seconds=st.just(300.0)
)
tool_lists = st.lists(tool_definitions(), max_size=2)


def _with_breakpoint_at_end(messages: list[c.Message]) -> list[c.Message]:
    marked = [c.Message() for _ in messages]
    for copy, original in zip(marked, messages, strict=True):
        copy.CopyFrom(original)
    marked[-1].parts[-1].cache_breakpoint.SetInParent()
    return marked


@given(conversations, tool_lists)
def test_the_layout_counts_the_normative_estimate(messages: list[c.Message], tools: list[c.ToolDefinition]) -> None:
    layout = layout_prompt(messages, tools, with_parts=True)
    expected = estimate_tools_tokens(tools) + sum(estimate_message_tokens(m) for m in messages)
    assert layout.prompt_tokens == expected == layout.message_points[-1].tokens
    assert len(layout.part_points) == sum(len(m.parts) for m in messages)


@given(conversations, conversations, tool_lists, automatic_rules)
def test_automatic_a_continuation_reads_the_previous_prompt(
    first: list[c.Message], added: list[c.Message], tools: list[c.ToolDefinition], rules: CacheRules
) -> None:
    cache = PrefixCache()
    before = layout_prompt(first, tools)
    after = layout_prompt(first + added, tools)
    assert cache.account("m", rules, before, now=0).read == 0
    account = cache.account("m", rules, after, now=10)
    assert account.read == rules.counted(before.prompt_tokens)
    assert account.read <= after.prompt_tokens and account.write == 0
    assert cache.account("m", rules, after, now=10 + 301).read == 0  # expired, nothing refreshed it since 10


@given(conversations, conversations, tool_lists, explicit_rules)
def test_explicit_the_next_breakpoint_reads_the_last_and_writes_the_rest(
    first: list[c.Message], added: list[c.Message], tools: list[c.ToolDefinition], rules: CacheRules
) -> None:
    cache = PrefixCache()
    before = layout_prompt(_with_breakpoint_at_end(first), tools, with_parts=True)
    after = layout_prompt(_with_breakpoint_at_end(first + added), tools, with_parts=True)
    cold = cache.account("m", rules, before, now=0)
    cached_before = before.prompt_tokens if before.prompt_tokens >= rules.min_tokens else 0
    assert (cold.read, cold.write) == (0, cached_before)
    warm = cache.account("m", rules, after, now=1)
    written = after.prompt_tokens - cached_before if after.prompt_tokens >= rules.min_tokens else 0
    assert (warm.read, warm.write) == (cached_before, written)
    assert warm.read + warm.write <= after.prompt_tokens


@given(conversations, tool_lists)
def test_explicit_without_a_breakpoint_caches_nothing(messages: list[c.Message], tools: list[c.ToolDefinition]) -> None:
    cache = PrefixCache()
    for part in (p for m in messages for p in m.parts):
        part.ClearField("cache_breakpoint")
    layout = layout_prompt(messages, tools, with_parts=True)
    for now in (0, 1):
        account = cache.account("m", CacheRules.anthropic(), layout, now=now)
        assert (account.read, account.write) == (0, 0)


@given(conversations, st.sampled_from([CacheRules.openai(), CacheRules.anthropic(), CacheRules()]))
def test_models_never_share_entries(messages: list[c.Message], rules: CacheRules) -> None:
    cache = PrefixCache()
    layout = layout_prompt(_with_breakpoint_at_end(messages), [], with_parts=True)
    cache.account("a", rules, layout, now=0)
    assert cache.account("b", rules, layout, now=0).read == 0
