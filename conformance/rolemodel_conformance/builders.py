"""Requests for checks: prompts by token counts and digests, messages with content, hints, outcomes.

Most checks need exact token counts and shared prefixes, not text: a prompt is
a list of (digest, count) pairs, and two prompts share their first i messages
exactly when their first i digests are equal (RM-CONV-005). Random digests
make every prompt of a run distinct; ``Prompt.extend`` keeps a prefix.
"""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from dataclasses import dataclass, field

from rolemodel.digest import digest_chain
from rolemodel.tokens import estimate_message_tokens
from rolemodel.v1 import common_pb2, conversation_pb2, hints_pb2, outcome_pb2, router_service_pb2


@dataclass(frozen=True)
class Prompt:
    """A prompt by digests and token counts; ``tools_tokens`` counts as the prefix before the first message."""

    digests: tuple[bytes, ...]
    counts: tuple[int, ...]
    tools_tokens: int = 0

    @staticmethod
    def of(counts: Sequence[int], tools_tokens: int = 0) -> Prompt:
        return Prompt(tuple(secrets.token_bytes(32) for _ in counts), tuple(counts), tools_tokens)

    def extend(self, counts: Sequence[int]) -> Prompt:
        """This prompt followed by new messages."""
        more = Prompt.of(counts)
        return Prompt(self.digests + more.digests, self.counts + more.counts, self.tools_tokens)

    def head(self, n: int) -> Prompt:
        return Prompt(self.digests[:n], self.counts[:n], self.tools_tokens)

    @property
    def tokens(self) -> int:
        return self.tools_tokens + sum(self.counts)

    @property
    def cumulative(self) -> list[int]:
        out, running = [], self.tools_tokens
        for count in self.counts:
            running += count
            out.append(running)
        return out

    @property
    def new_tokens(self) -> int:
        return self.counts[-1]

    def ref(
        self, conversation_id: str, turn_index: int = 0, tool_call_pending: bool = False
    ) -> conversation_pb2.ConversationRef:
        ref = conversation_pb2.ConversationRef(
            conversation_id=conversation_id,
            turn_index=turn_index,
            messages=[
                conversation_pb2.MessageRef(digest=d, token_count=c)
                for d, c in zip(self.digests, self.counts, strict=True)
            ],
            tool_call_pending=tool_call_pending,
        )
        if self.tools_tokens:
            ref.tools_token_count = self.tools_tokens
        return ref


def text(role: conversation_pb2.MessageRole.ValueType, body: str) -> conversation_pb2.Message:
    return conversation_pb2.Message(
        role=role, parts=[conversation_pb2.ContentPart(text=conversation_pb2.TextPart(text=body))]
    )


def user(body: str) -> conversation_pb2.Message:
    return text(conversation_pb2.MESSAGE_ROLE_USER, body)


def system(body: str) -> conversation_pb2.Message:
    return text(conversation_pb2.MESSAGE_ROLE_SYSTEM, body)


def assistant(body: str) -> conversation_pb2.Message:
    return text(conversation_pb2.MESSAGE_ROLE_ASSISTANT, body)


@dataclass(frozen=True)
class ContentPrompt:
    """A prompt that carries its messages; digests and counts are optional per message."""

    messages: tuple[conversation_pb2.Message, ...]
    with_digests: bool = False
    with_counts: bool = False
    tools: tuple[conversation_pb2.ToolDefinition, ...] = field(default_factory=tuple)

    def ref(self, conversation_id: str, turn_index: int = 0) -> conversation_pb2.ConversationRef:
        digests = digest_chain(self.messages)
        refs = []
        for message, digest in zip(self.messages, digests, strict=True):
            ref = conversation_pb2.MessageRef(message=message)
            if self.with_digests:
                ref.digest = digest
            if self.with_counts:
                ref.token_count = estimate_message_tokens(message)
            refs.append(ref)
        return conversation_pb2.ConversationRef(
            conversation_id=conversation_id, turn_index=turn_index, messages=refs, tools=list(self.tools)
        )


def pin(endpoint_id: str) -> hints_pb2.EndpointChoice:
    return hints_pb2.EndpointChoice(pinned_endpoint_id=endpoint_id)


def avoid(*endpoint_ids: str) -> hints_pb2.EndpointChoice:
    return hints_pb2.EndpointChoice(avoid_endpoint_ids=list(endpoint_ids))


def route_request(
    conversation: conversation_pb2.ConversationRef,
    routing: hints_pb2.RoutingHints,
    *,
    dry_run: bool = False,
    include_handoff: bool = False,
    compact: bool = False,
) -> router_service_pb2.RouteRequest:
    return router_service_pb2.RouteRequest(
        conversation=conversation,
        hints=routing,
        dry_run=dry_run,
        include_handoff=include_handoff,
        compact_candidates=compact,
    )


def usage(
    input_tokens: int = 0, output_tokens: int = 0, cache_read: int = 0, cache_write: int = 0
) -> outcome_pb2.Usage:
    return outcome_pb2.Usage(
        input_tokens=input_tokens,
        output_tokens=output_tokens,
        cache_read_tokens=cache_read,
        cache_write_tokens=cache_write,
    )


def outcome(
    decision_id: str,
    served: str,
    key: str,
    *,
    outcome_class: common_pb2.OutcomeClass.ValueType = common_pb2.OUTCOME_CLASS_SUCCESS,
    used: outcome_pb2.Usage | None = None,
    ttft_ms: int = 0,
    latency_ms: int = 0,
) -> outcome_pb2.Outcome:
    return outcome_pb2.Outcome(
        decision_id=decision_id,
        served_endpoint_id=served,
        usage=used or outcome_pb2.Usage(),
        outcome_class=outcome_class,
        idempotency_key=key,
        ttft_ms=ttft_ms,
        latency_ms=latency_ms,
    )
