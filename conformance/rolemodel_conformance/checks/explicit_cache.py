"""Explicit caching priced per breakpoint (spec 7.2.1, 7.3, 7.4, 9.2), on fx-opus.

The prompts carry their messages, so that the router sees where the client put its breakpoints.
Every message gives its token count, and every breakpoint sits on a message's only part, so every
figure below follows from the counts alone. fx-opus writes at $6.25 (5 minutes) and $10 (1 hour)
per million tokens, reads at $0.50, takes $5 for plain input, and caches from 1,024 tokens.
"""

from __future__ import annotations

import secrets

from rolemodel.v1 import conversation_pb2, decision_pb2, hints_pb2
from rolemodel_conformance.builders import outcome, pin, route_request, usage
from rolemodel_conformance.checks import check
from rolemodel_conformance.context import CheckContext
from rolemodel_conformance.expectations import candidate

C = conversation_pb2
OPUS = "fx-opus"
ROLE = "chat"
PICOS = {"input": 5_000_000, "write_5m": 6_250_000, "write_1h": 10_000_000}  # per token
SYSTEM_TOKENS, FIRST_TOKENS = 2000, 3000
#: The second prompt: the first, a 500-token answer and a 400-token message.
SECOND_PROMPT = SYSTEM_TOKENS + FIRST_TOKENS + 500 + 400
#: A breakpoint with no TTL (the endpoint's, 300 s), or one of an hour.
FIVE_MINUTES, ONE_HOUR = 0, 3600


def _message(role: C.MessageRole.ValueType, tokens: int, ttl: int | None = None) -> C.MessageRef:
    part = C.ContentPart(text=C.TextPart(text=f"{secrets.token_hex(8)} " * 4))
    if ttl is not None:
        part.cache_breakpoint.ttl_seconds = ttl
    return C.MessageRef(token_count=tokens, message=C.Message(role=role, parts=[part]))


def _ref(conversation: str, messages: list[C.MessageRef], turn: int) -> C.ConversationRef:
    return C.ConversationRef(conversation_id=conversation, turn_index=turn, messages=messages)


def _unmarked(message: C.MessageRef) -> C.MessageRef:
    copy = C.MessageRef()
    copy.CopyFrom(message)
    copy.message.parts[0].ClearField("cache_breakpoint")
    return copy


def _decide(ctx: CheckContext, conversation: str, messages: list[C.MessageRef], turn: int) -> decision_pb2.Decision:
    routing = hints_pb2.RoutingHints(role=ROLE, endpoint_choice=pin(OPUS), expected_output_tokens=100)
    return ctx.probe.route(route_request(_ref(conversation, messages, turn), routing))


def _probe(ctx: CheckContext, conversation: str, messages: list[C.MessageRef], turn: int) -> decision_pb2.Decision:
    """A dry run when the router claims it, else a recorded decision (the check probes last)."""
    routing = hints_pb2.RoutingHints(role=ROLE, endpoint_choice=pin(OPUS), expected_output_tokens=100)
    dry = ctx.claims("ROUTER_CAPABILITY_DRY_RUN")
    return ctx.probe.route(route_request(_ref(conversation, messages, turn), routing, dry_run=dry))


@check(
    "cache",
    "Explicit caching reads and writes at the client's breakpoints only",
    ("RM-COST-003", "RM-COST-004", "RM-CACHE-004", "RM-CACHE-013", "RM-CACHE-026"),
)
def breakpoints(ctx: CheckContext) -> None:
    conversation = ctx.ids.conversation("breakpoints")
    system = _message(C.MESSAGE_ROLE_SYSTEM, SYSTEM_TOKENS, ONE_HOUR)
    first = [system, _message(C.MESSAGE_ROLE_USER, FIRST_TOKENS)]
    cold = _costs(candidate(_decide(ctx, conversation, first, 0), OPUS))
    ctx.expect(
        "RM-COST-004",
        cold[:2] == (SYSTEM_TOKENS, FIRST_TOKENS * PICOS["input"]),
        f"only the marked {SYSTEM_TOKENS}-token system prompt is written, the {FIRST_TOKENS} after it are plain "
        f"input: (written, plain input picos) = {cold[:2]}",
    )
    ctx.expect(
        "RM-COST-003",
        cold[2] == SYSTEM_TOKENS * PICOS["write_1h"],
        f"a one-hour breakpoint writes at the 1-hour price: expected {SYSTEM_TOKENS * PICOS['write_1h']}, "
        f"got {cold[2]}",
    )
    # The cold turn's price is core (RM-COST-003/004); what the entry then holds is cache accounting.
    ctx.require_capability("ROUTER_CAPABILITY_CACHE_ACCOUNTING", "explicit cache entries")
    second = [
        system,
        _unmarked(first[1]),
        _message(C.MESSAGE_ROLE_ASSISTANT, 500),
        _message(C.MESSAGE_ROLE_USER, 400, FIVE_MINUTES),
    ]
    warm_decision = _decide(ctx, conversation, second, 1)
    warm = _costs(candidate(warm_decision, OPUS))
    ctx.expect(
        "RM-CACHE-004",
        warm[3] == SYSTEM_TOKENS,
        f"the entry holds the system prompt only, so {SYSTEM_TOKENS} tokens are read, not the whole earlier "
        f"{SYSTEM_TOKENS + FIRST_TOKENS}: got {warm[3]}",
    )
    written = SECOND_PROMPT - SYSTEM_TOKENS
    ctx.expect(
        "RM-COST-003",
        (warm[0], warm[2]) == (written, written * PICOS["write_5m"]),
        f"the newest message's five-minute breakpoint writes the {written} tokens after the read at the "
        f"5-minute price: (written, picos) = {(warm[0], warm[2])}",
    )
    used = usage(SECOND_PROMPT, 80, cache_read=SYSTEM_TOKENS, cache_write=written)
    ctx.probe.report(outcome(warm_decision.decision_id, OPUS, ctx.ids.key(), used=used))
    third = [
        *second[:3],
        _unmarked(second[3]),
        _message(C.MESSAGE_ROLE_ASSISTANT, 80),
        _message(C.MESSAGE_ROLE_USER, 200, FIVE_MINUTES),
    ]
    after = candidate(_probe(ctx, conversation, third, 2), OPUS)
    cached, held = (after.cost.cached_tokens, after.cache.held_tokens) if after is not None else (-1, -1)
    ctx.expect(
        "RM-CACHE-026",
        (cached, held) == (SECOND_PROMPT, SECOND_PROMPT),
        f"after the report the entry keeps turn 2's breakpoints and holds the {SECOND_PROMPT} tokens read plus "
        f"written: cached {cached}, held {held}",
    )
    ctx.expect(
        "RM-CACHE-013",
        cached == SECOND_PROMPT,
        f"turn 2's provisional entry held the system prompt it repeated and the breakpoint it wrote: cached {cached}",
    )
    far = [_unmarked(system), *third[1:3], _unmarked(third[3])]
    far += [_message(C.MESSAGE_ROLE_USER, 10) for _ in range(23)] + [_message(C.MESSAGE_ROLE_USER, 10, FIVE_MINUTES)]
    beyond = _costs(candidate(_probe(ctx, conversation, far, 2), OPUS))
    ctx.expect(
        "RM-CACHE-004",
        beyond[3] == 0,
        "with the only breakpoint 24 blocks after the held prefix of turn 2 and 27 after the held system "
        f"prompt, the cache looks back 20 blocks and finds nothing: got {beyond[3]} cached",
    )


def _costs(c: decision_pb2.Candidate | None) -> tuple[int, int, int, int]:
    """(cache_write_tokens, uncached_input_picos, cache_write_picos, cached_tokens); -1 each without a candidate."""
    if c is None or not c.HasField("cost"):
        return (-1, -1, -1, -1)
    return (c.cost.cache_write_tokens, c.cost.uncached_input_picos, c.cost.cache_write_picos, c.cost.cached_tokens)
