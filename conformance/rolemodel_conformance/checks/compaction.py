"""Compaction of a conversation larger than the window (spec 8.6), on fx-local's 8,192 tokens.

The conversation is sized so that the tail window under
COMPACTION_STRATEGY_TAIL_WINDOW keeps the last two user turns, and the one
under COMPACTION_STRATEGY_SUMMARY, with 1,024 tokens less room, only the last:
a router that ignores the summary's room, or compacts from the wrong message,
keeps other messages. Token counts are the normative estimate (spec 4.4),
which the router applies to messages sent without counts.
"""

from __future__ import annotations

from rolemodel import cost
from rolemodel.dialects import openai_chat
from rolemodel.tokens import estimate_message_tokens
from rolemodel.v1 import conversation_pb2, hints_pb2
from rolemodel_conformance.builders import ContentPrompt, assistant, pin, route_request, system, user
from rolemodel_conformance.checks import check
from rolemodel_conformance.checks.execute_support import execute, reply, request
from rolemodel_conformance.context import CheckContext, NotObservable
from rolemodel_conformance.expectations import candidate
from rolemodel_conformance.handoff_rules import (
    SUMMARY_PREFIX,
    SUMMARY_ROOM_TOKENS,
    TailWindow,
    tail_window,
    transform_kinds,
)

C = conversation_pb2
TARGET = "fx-local"
SUMMARIZERS = ("fx-deepseek", "fx-mini")


def _long(tokens: int, seed: str) -> str:
    """Text the normative estimate counts as ``tokens`` tokens (four ASCII bytes each)."""
    return (seed * 4)[:4] * tokens


def _conversation(ctx: CheckContext) -> list[C.Message]:
    return [
        system(f"Summaries keep names. {ctx.canary()}"),
        user(_long(1000, "u")),
        assistant(_long(1000, "a")),
        user(_long(2000, "v")),
        assistant(_long(4500, "b")),
        user("And now?"),
    ]


def _window(ctx: CheckContext, sent: list[C.Message], room_less: int) -> TailWindow:
    endpoint = ctx.fixture.endpoints[TARGET]
    output = cost.expected_output_tokens(ctx.fixture.economics(TARGET), None)
    room = endpoint.context_window_tokens - output - room_less
    window = tail_window([estimate_message_tokens(m) for m in sent], [m.role for m in sent], 0, room)
    if window is None:
        raise AssertionError("the conversation is sized to compact")
    return window


def _route(ctx: CheckContext, role: str, sent: list[C.Message]) -> tuple[list[C.Message], dict[str, list[int]], int]:
    """The plan's messages and transforms for fx-local, and the prompt tokens it was priced with."""
    conversation = ContentPrompt(tuple(sent)).ref(ctx.ids.conversation("compaction"))
    routing = hints_pb2.RoutingHints(role=role, endpoint_choice=pin(TARGET))
    decision = ctx.probe.route(route_request(conversation, routing, include_handoff=True))
    priced = candidate(decision, TARGET)
    return (
        list(decision.handoff.messages),
        transform_kinds(decision.handoff),
        priced.cost.prompt_tokens if priced else 0,
    )


@check("handoff", "A conversation over the window keeps its tail window, priced as sent", ("RM-HANDOFF-050",))
def tail(ctx: CheckContext) -> None:
    ctx.require_capability("ROUTER_CAPABILITY_HANDOFF_MESSAGES", "the messages kept")
    sent = _conversation(ctx)
    window = _window(ctx, sent, 0)
    got, kinds, priced = _route(ctx, "x-conformance.tail", sent)
    ctx.expect(
        "RM-HANDOFF-050",
        got == [sent[i] for i in window.kept] and kinds.get("MESSAGES_DROPPED") == window.dropped,
        f"the tail window keeps messages {window.kept} and lists {window.dropped} as MESSAGES_DROPPED: got "
        f"{len(got)} messages, transforms {kinds}",
    )
    ctx.expect_equal("RM-HANDOFF-050", f"prompt tokens {TARGET} is priced with", priced, window.prompt_tokens)


@check(
    "handoff",
    "A summary keeps a shorter tail window, and Execute puts the summarize role's summary before it",
    ("RM-HANDOFF-051",),
)
def summary(ctx: CheckContext) -> None:
    ctx.require_capability("ROUTER_CAPABILITY_HANDOFF_MESSAGES", "the messages kept")
    sent = _conversation(ctx)
    window = _window(ctx, sent, SUMMARY_ROOM_TOKENS)
    got, kinds, _ = _route(ctx, "x-conformance.summary", sent)
    ctx.expect(
        "RM-HANDOFF-051",
        got == [sent[i] for i in window.kept] and kinds.get("MESSAGES_SUMMARIZED") == window.dropped,
        f"with {SUMMARY_ROOM_TOKENS} tokens left for the summary, messages {window.kept} are kept and {window.dropped} "
        f"listed as MESSAGES_SUMMARIZED: got {len(got)} messages, transforms {kinds}",
    )
    if not ctx.claims("ROUTER_CAPABILITY_EXECUTE"):
        return
    backends = ctx.backends()
    backends.script({e: [reply("They agreed on a plan.")] for e in SUMMARIZERS})
    backends.script({TARGET: [reply("Then we carry out the plan.")]})
    stream = execute(ctx, request(ctx, "x-conformance.summary", sent))
    received = backends.received(TARGET)
    if stream.completed is None or not received or not isinstance(received[-1].get("body"), dict):
        raise NotObservable(f"the compacted call did not reach {TARGET}: {stream.ending()}")
    delivered = openai_chat.decode_request(received[-1]["body"]).messages
    summarized = sum(len(backends.received(e)) for e in SUMMARIZERS)
    texts = [p.text.text for m in delivered for p in m.parts if p.WhichOneof("kind") == "text"]
    inserted = len(delivered) == len(window.kept) + 1 and delivered[1].role == C.MESSAGE_ROLE_USER
    ctx.expect(
        "RM-HANDOFF-051",
        summarized == 1 and inserted and texts[1].startswith(SUMMARY_PREFIX) and "They agreed on a plan." in texts[1],
        f"Execute asks the summarize role once ({summarized} request(s)) and sends {TARGET} the system message, a "
        f"user message starting {SUMMARY_PREFIX!r} with the summary, then the kept tail: got {len(delivered)} "
        f"messages, the second starting {texts[1][:60] if len(texts) > 1 else None!r}",
        should_part=True,
    )
