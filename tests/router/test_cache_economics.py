"""Cache economics, affinity and TTLs over gRPC, with numbers from real list prices (spec 6.7, 7).

The scenario catalog holds GPT-5, GPT-5 mini, Claude Opus 4.5 and DeepSeek at
their public prices. The expected figures are those of the routing-math
worked example and of spec/vectors/cost.json: a conversation of 60,500
prompt tokens whose newest message has 500 tokens, with 800 output tokens.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from rolemodel import RouterClient
from rolemodel.v1 import common_pb2, decision_pb2, hints_pb2
from tests.requests import conversation, new_id, outcome, route, usage
from tests.router.conftest import state_url
from tests.router.harness import RouterProcess

ECONOMICS = Path(__file__).parent / "catalogs" / "economics.yaml"
D = decision_pb2


@pytest.fixture(scope="module", params=["memory", "sqlite", "redis"])
def economics(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[RouterClient]:
    url, extra = state_url(request.param, request, tmp_path_factory)
    with RouterProcess(url, catalog=ECONOMICS, extra=extra) as process, RouterClient(process.address) as client:
        yield client


def cost_of(decision: D.Decision, endpoint_id: str) -> D.CostEstimate:
    return next(c for c in decision.candidates if c.endpoint_id == endpoint_id).cost


def pin(endpoint_id: str) -> hints_pb2.EndpointChoice:
    return hints_pb2.EndpointChoice(pinned_endpoint_id=endpoint_id)


def warm_up(
    client: RouterClient, role: str, conv_id: str, counts: list[int], endpoint: str, reported: object
) -> D.Decision:
    """Turn 1 on ``endpoint``, and its outcome as the provider would report it."""
    first = client.route(route(role, conversation(conv_id, counts), expected_output=800, endpoint_choice=pin(endpoint)))
    client.report_outcome(outcome(first.decision_id, endpoint, used=reported))  # type: ignore[arg-type]
    return first


def test_a_warm_expensive_model_is_kept_because_it_is_cheaper_than_a_cold_cheap_one(economics: RouterClient) -> None:
    conv_id = new_id()
    warm_up(economics, "x-test.gpt5-pair", conv_id, [59_200], "gpt-5", usage(input_tokens=59_200, output_tokens=800))
    d = economics.route(
        route("x-test.gpt5-pair", conversation(conv_id, [59_200, 800, 500], turn_index=1), expected_output=800)
    )
    warm, cold = cost_of(d, "gpt-5"), cost_of(d, "gpt-5-mini")
    assert (warm.cached_tokens, warm.uncached_tokens, warm.total_picos) == (59_904, 596, 16_233_000_000)
    assert (cold.cached_tokens, cold.uncached_tokens, cold.total_picos) == (0, 60_500, 16_725_000_000)
    assert d.chosen_endpoint_id == "gpt-5"
    assert d.handoff.action == D.HANDOFF_ACTION_CONTINUE and d.handoff.cached_prefix_tokens == 59_904
    warm_reason = next(r for r in d.reasons if r.code == D.REASON_CODE_CACHE_WARM)
    assert warm_reason.attributes["cached_tokens"] == "59904"


def test_over_two_turns_the_cheap_model_wins_instead(economics: RouterClient) -> None:
    conv_id = new_id()
    warm_up(economics, "x-test.gpt5-pair", conv_id, [59_200], "gpt-5", usage(input_tokens=59_200, output_tokens=800))
    d = economics.route(
        route(
            "x-test.gpt5-pair",
            conversation(conv_id, [59_200, 800, 500], turn_index=1),
            expected_output=800,
            horizon_turns=2,
        )
    )
    assert cost_of(d, "gpt-5").amortized_picos == 32_651_000_000
    assert cost_of(d, "gpt-5-mini").amortized_picos == 20_008_600_000
    assert cost_of(d, "gpt-5-mini").steady_turn_picos == 3_283_600_000
    assert d.chosen_endpoint_id == "gpt-5-mini"
    assert d.handoff.action == D.HANDOFF_ACTION_SWITCH and d.handoff.from_endpoint_id == "gpt-5"


def test_a_cold_cheap_model_beats_a_warm_expensive_one(economics: RouterClient) -> None:
    conv_id = new_id()
    reported = usage(input_tokens=60_000, cache_write=60_000, output_tokens=800)
    warm_up(economics, "x-test.opus-deepseek", conv_id, [59_200, 800], "claude-opus", reported)
    d = economics.route(
        route("x-test.opus-deepseek", conversation(conv_id, [59_200, 800, 500], turn_index=1), expected_output=800)
    )
    opus, deepseek = cost_of(d, "claude-opus"), cost_of(d, "deepseek")
    assert (opus.cached_tokens, opus.cache_write_tokens, opus.total_picos) == (60_000, 500, 53_125_000_000)
    assert (deepseek.cached_tokens, deepseek.total_picos) == (0, 17_276_000_000)
    assert d.chosen_endpoint_id == "deepseek"
    assert d.handoff.action == D.HANDOFF_ACTION_SWITCH


def test_switching_back_within_the_ttl_is_a_partial_hit(economics: RouterClient) -> None:
    """Two caches stay warm: gpt-5 still holds the prefix up to where it last saw the conversation."""
    conv_id = new_id()
    warm_up(economics, "x-test.gpt5-pair", conv_id, [59_200], "gpt-5", usage(input_tokens=59_200, output_tokens=800))
    second = economics.route(
        route(
            "x-test.gpt5-pair",
            conversation(conv_id, [59_200, 800, 500], turn_index=1),
            expected_output=800,
            endpoint_choice=pin("gpt-5-mini"),
        )
    )
    economics.report_outcome(
        outcome(second.decision_id, "gpt-5-mini", used=usage(input_tokens=60_500, output_tokens=800))
    )
    d = economics.route(
        route(
            "x-test.gpt5-pair",
            conversation(conv_id, [59_200, 800, 500, 800, 400], turn_index=2),
            expected_output=800,
            dry_run=True,
        )
    )
    back = next(c for c in d.candidates if c.endpoint_id == "gpt-5")
    assert back.cache.matched_tokens == 60_000  # its prompt plus its own reply; the later turns are new to it
    assert back.cost.cached_tokens == 59_904
    mini = next(c for c in d.candidates if c.endpoint_id == "gpt-5-mini")
    assert mini.cache.matched_tokens == 61_300 and mini.cost.cached_tokens == 61_184


def test_a_ttl_expiry_changes_the_decision(economics: RouterClient) -> None:
    conv_id = new_id()
    first = warm_up(
        economics, "x-test.ttl", conv_id, [59_200], "gpt-5-short-ttl", usage(input_tokens=59_200, output_tokens=800)
    )
    expires_at = first.created_at.ToMilliseconds() / 1000 + 2
    follow_up = route(
        "x-test.ttl", conversation(conv_id, [59_200, 800, 500], turn_index=1), expected_output=800, dry_run=True
    )
    warm = economics.route(follow_up)
    assert time.time() < expires_at, "the machine was too slow to observe the warm entry"
    assert warm.chosen_endpoint_id == "gpt-5-short-ttl"
    time.sleep(max(0.0, expires_at - time.time()) + 0.2)
    cold = economics.route(follow_up)
    expired = next(c for c in cold.candidates if c.endpoint_id == "gpt-5-short-ttl")
    # A store may keep the expired entry (and say so) or let it expire natively (Redis): either way it is cold.
    assert (expired.cache.expired or not expired.HasField("cache")) and expired.cost.cached_tokens == 0
    assert cold.chosen_endpoint_id == "gpt-5-mini"


def test_affinity_keeps_a_conversation_until_a_switch_pays_for_itself(economics: RouterClient) -> None:
    conv_id = new_id()
    warm_up(economics, "code.edit", conv_id, [20_000], "gpt-5", usage(input_tokens=20_000, output_tokens=500))
    kept = economics.route(
        route("code.edit", conversation(conv_id, [20_000, 500, 300], turn_index=1), expected_output=500)
    )
    reason = next(r for r in kept.reasons if r.code == D.REASON_CODE_AFFINITY_KEPT)
    saving, threshold = int(reason.attributes["saving_picos"]), int(reason.attributes["threshold_picos"])
    gpt5, deepseek = cost_of(kept, "gpt-5").amortized_picos, cost_of(kept, "deepseek").amortized_picos
    assert saving == gpt5 - deepseek > 0
    assert threshold == max(4_000_000_000, gpt5 // 10) > saving
    assert kept.chosen_endpoint_id == "gpt-5"
    economics.report_outcome(outcome(kept.decision_id, "gpt-5", used=usage(input_tokens=20_800, output_tokens=500)))
    switched = economics.route(
        route("code.edit", conversation(conv_id, [20_000, 500, 300, 500, 300], turn_index=2), expected_output=4000)
    )
    assert switched.chosen_endpoint_id == "deepseek"
    assert any(r.code == D.REASON_CODE_AFFINITY_SWITCHED_SAVING for r in switched.reasons)


def test_a_pending_tool_call_pins_the_endpoint_that_made_it(economics: RouterClient) -> None:
    conv_id = new_id()
    warm_up(economics, "code.edit", conv_id, [20_000], "gpt-5", usage(input_tokens=20_000, output_tokens=500))
    conv = conversation(conv_id, [20_000, 500, 300], turn_index=1)
    conv.tool_call_pending = True
    d = economics.route(route("code.edit", conv, expected_output=4000))
    assert d.chosen_endpoint_id == "gpt-5"
    assert any(r.code == D.REASON_CODE_TOOL_LOOP_PINNED for r in d.reasons)
    assert d.policy.tool_call_pending
    # When the endpoint that made the call becomes ineligible, the reason says so and the loop moves.
    conv2 = conversation(conv_id, [20_000, 500, 300], turn_index=1)
    conv2.tool_call_pending = True
    moved = economics.route(
        route(
            "code.edit",
            conv2,
            expected_output=4000,
            dry_run=True,
            endpoint_choice=hints_pb2.EndpointChoice(avoid_endpoint_ids=["gpt-5"]),
        )
    )
    assert moved.chosen_endpoint_id != "gpt-5"
    assert any(r.code == D.REASON_CODE_TOOL_LOOP_CURRENT_INELIGIBLE for r in moved.reasons)


def test_reported_cache_tokens_win_over_the_provisional_entry(economics: RouterClient) -> None:
    """An explicit-caching provider that reports no cache write holds nothing, whatever was assumed."""
    conv_id = new_id()
    warm_up(
        economics,
        "x-test.opus-deepseek",
        conv_id,
        [59_200, 800],
        "claude-opus",
        usage(input_tokens=60_000, output_tokens=800),
    )
    d = economics.route(
        route(
            "x-test.opus-deepseek",
            conversation(conv_id, [59_200, 800, 500], turn_index=1),
            expected_output=800,
            dry_run=True,
        )
    )
    opus = next(c for c in d.candidates if c.endpoint_id == "claude-opus")
    assert not opus.HasField("cache") and opus.cost.cached_tokens == 0


def test_a_fallback_that_served_takes_over_the_cache_entry(economics: RouterClient) -> None:
    conv_id = new_id()
    first = economics.route(route("x-test.gpt5-pair", conversation(conv_id, [59_200]), expected_output=800))
    served = first.fallback_endpoint_ids[0]
    effects = economics.report_outcome(
        outcome(first.decision_id, served, used=usage(input_tokens=59_200, output_tokens=800))
    ).effects
    assert effects.served_endpoint_id == served and effects.cached_prefix_tokens == 59_200
    d = economics.route(
        route(
            "x-test.gpt5-pair",
            conversation(conv_id, [59_200, 800, 500], turn_index=1),
            expected_output=800,
            dry_run=True,
        )
    )
    by_id = {c.endpoint_id: c for c in d.candidates}
    assert by_id[served].cache.source == D.CACHE_STATE_SOURCE_REPORTED
    assert not by_id[first.chosen_endpoint_id].HasField("cache")
    assert d.policy.current_endpoint_id == served


def test_failed_outcome_restores_the_previous_entry(economics: RouterClient) -> None:
    conv_id = new_id()
    first = economics.route(route("x-test.gpt5-pair", conversation(conv_id, [59_200]), expected_output=800))
    economics.report_outcome(
        outcome(first.decision_id, first.chosen_endpoint_id, common_pb2.OUTCOME_CLASS_RATE_LIMITED)
    )
    d = economics.route(route("x-test.gpt5-pair", conversation(conv_id, [59_200]), expected_output=800, dry_run=True))
    assert all(not c.HasField("cache") for c in d.candidates)
    assert d.handoff.action == D.HANDOFF_ACTION_START
