"""Execute against a real llama.cpp server: slot pinning, the server's cache and timings (spec 7.7, 10.4).

Three conversations and a side request share a two-slot server through the router, turn by turn. After each turn
the router's predicted cached tokens are held against what the server reports. A warm turn must
match exactly: the catalog declares the 11-token generation prompt the server keeps with the
prompt (spec 7.3). A cold turn must stay within 16 tokens: the server also reuses the chat
header a new conversation's first message shares with whatever the slot held, a match inside a
message that a prediction by message digests cannot see. Every eviction
the router predicts must show as a cold prompt on the server, and every cold prompt must have
been predicted. The assistant messages are replayed text, not the tiny model's noise, as in a
replayed session.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from bench.local_llama import GENERATION_PROMPT_TOKENS, LlamaServer, chatml_tokens
from rolemodel import RouterClient
from rolemodel.v1 import conversation_pb2, decision_pb2, hints_pb2, router_service_pb2
from tests.router.harness import RouterProcess

GRANULARITY = 16
ENDPOINT = "llama-local"
CATALOG = """
name: llama-test
endpoints:
  - id: {endpoint}
    provider_kind: PROVIDER_KIND_OPENAI_COMPATIBLE
    model: tiny
    locality: LOCALITY_LOCAL
    capabilities: [CAPABILITY_STREAMING]
    context_window_tokens: 4096
    max_output_tokens: 16
    pricing: {{currency: USD, input_per_mtok: "0", output_per_mtok: "0"}}
    caching:
      mode: CACHE_MODE_AUTOMATIC
      granularity_tokens: 1
      ttl_seconds: 86400
      capacity: {{max_sequences: 2}}
      generation_prompt_tokens: {generation_prompt}
    latency: {{ttft_ms: 20, output_tokens_per_second: 500, prefill_tokens_per_second: 20000}}
    connection: {{base_url: "{base_url}/v1", api_dialect: API_DIALECT_LLAMA_CPP}}
roles:
  - name: chat
    ladder:
      - {{endpoint_ids: [{endpoint}]}}
    default_strategy: STRATEGY_LATENCY
"""


@dataclass
class Turn:
    """What the router predicted and what the server reported for one executed turn."""

    label: str
    predicted_cached: int
    evicted_predicted: bool
    evicts_predicted: int
    slot: int
    reported_cached: int
    reported_input: int


def _message(role: conversation_pb2.MessageRole.ValueType, text: str) -> conversation_pb2.MessageRef:
    name = {conversation_pb2.MESSAGE_ROLE_USER: "user", conversation_pb2.MESSAGE_ROLE_ASSISTANT: "assistant"}[role]
    message = conversation_pb2.Message(
        role=role, parts=[conversation_pb2.ContentPart(text=conversation_pb2.TextPart(text=text))]
    )
    return conversation_pb2.MessageRef(message=message, token_count=chatml_tokens(name, text))


class Session:
    """One conversation, grown turn by turn with replayed text."""

    def __init__(self, name: str, size: int) -> None:
        self.name = name
        self.messages = [_message(conversation_pb2.MESSAGE_ROLE_USER, f"{name}: " + f"{name} asks. " * size)]
        self.turn = 0

    def grow(self, size: int) -> None:
        self.messages.append(_message(conversation_pb2.MESSAGE_ROLE_ASSISTANT, f"{self.name} answers. " * size))
        self.messages.append(_message(conversation_pb2.MESSAGE_ROLE_USER, f"{self.name} again. " * size))
        self.turn += 1


def _execute(client: RouterClient, session: Session, label: str, *, side: bool = False) -> Turn:
    hints = hints_pb2.RoutingHints(role="chat", expected_output_tokens=16)
    if side:
        hints.side_request.merge_back = False
    request = router_service_pb2.ExecuteRequest(
        conversation=conversation_pb2.ConversationRef(
            conversation_id=session.name, turn_index=session.turn, messages=session.messages
        ),
        hints=hints,
        # Without a limit the tiny model, which never ends its answer, would generate until its context is full.
        params=router_service_pb2.GenerationParams(max_output_tokens=16, temperature=0.0),
    )
    decision: decision_pb2.Decision | None = None
    for event in client.execute(request):
        if event.HasField("started"):
            decision = event.started.decision
        if event.HasField("failed"):
            raise AssertionError(f"{label}: {event.failed}")
        if event.HasField("completed"):
            assert decision is not None
            chosen = next(c for c in decision.candidates if c.endpoint_id == ENDPOINT)
            usage = event.completed.usage
            return Turn(
                label,
                chosen.cost.cached_tokens,
                chosen.cache.evicted,
                chosen.cache.evicts_sequences,
                chosen.cache.slot,
                usage.cache_read_tokens,
                usage.input_tokens,
            )
    raise AssertionError(f"{label}: the stream ended without completing")


@pytest.fixture
def router(llama_server: LlamaServer, tmp_path: Path) -> Iterator[RouterClient]:
    catalog = tmp_path / "catalog.yaml"
    catalog.write_text(
        CATALOG.format(endpoint=ENDPOINT, base_url=llama_server.base_url, generation_prompt=GENERATION_PROMPT_TOKENS)
    )
    with RouterProcess(catalog=catalog) as process, RouterClient(process.address) as client:
        yield client


def test_predicted_cache_and_evictions_match_the_server_turn_by_turn(router: RouterClient) -> None:
    a, b, c = Session("alpha", 60), Session("bravo", 50), Session("charlie", 40)
    turns = [_execute(router, a, "A1"), _execute(router, b, "B1")]
    a.grow(10)
    turns.append(_execute(router, a, "A2"))
    turns.append(_execute(router, c, "C1"))  # the server is full: C takes B's slot
    a.grow(10)
    turns.append(_execute(router, a, "A3"))
    b.grow(10)
    turns.append(_execute(router, b, "B2"))  # B was evicted: cold again, and it evicts C
    c.grow(10)
    turns.append(_execute(router, c, "C2"))  # C was evicted by B
    turns.append(_execute(router, Session("side-1", 30), "S", side=True))  # a side request takes B's slot
    b.grow(10)
    turns.append(_execute(router, b, "B3"))  # cold again, in C's slot
    for turn in turns:
        if turn.predicted_cached:
            assert turn.reported_cached == turn.predicted_cached, turn
        assert abs(turn.reported_cached - turn.predicted_cached) < GRANULARITY, turn
    cold = {t.label for t in turns if t.reported_cached < GRANULARITY}
    predicted_cold = {t.label for t in turns if t.predicted_cached == 0}
    assert cold == predicted_cold == {"A1", "B1", "C1", "B2", "C2", "S", "B3"}
    assert {t.label for t in turns if t.evicted_predicted} == {"B2", "C2", "B3"}
    assert [t.slot for t in turns] == [0, 1, 0, 1, 0, 1, 0, 1, 0]  # each conversation keeps its slot while resident
    owners: dict[int, str] = {}
    replaced = set()
    for turn in turns:  # a turn evicts when its pinned slot last served another conversation
        owner = owners.get(turn.slot)
        if owner is not None and owner != turn.label[0]:
            replaced.add(turn.label)
        owners[turn.slot] = turn.label[0]
    assert {t.label for t in turns if t.evicts_predicted} == replaced == {"C1", "B2", "C2", "S", "B3"}


def test_the_servers_timings_become_the_observed_speeds(router: RouterClient) -> None:
    session = Session("delta", 200)
    _execute(router, session, "D1")
    card = router.get_router_card()
    status = next(p.status for p in card.endpoints if p.endpoint.id == ENDPOINT)
    assert status.observed_prefill_tokens_per_second > 0
    assert status.observed_output_tokens_per_second > 0
    assert status.observed_outcomes == 1
