"""The conversation reference: ids, digests, token counts and estimates, tool loops (spec chapter 4)."""

from __future__ import annotations

import functools
import secrets

import grpc

from rolemodel.digest import chain, digest_chain
from rolemodel.tokens import estimate_message_tokens, estimate_tools_tokens
from rolemodel.v1 import common_pb2, conversation_pb2, hints_pb2, router_service_pb2
from rolemodel_conformance.builders import ContentPrompt, Prompt, assistant, route_request, system, user
from rolemodel_conformance.checks import check
from rolemodel_conformance.checks.helpers import expect_refusal
from rolemodel_conformance.context import CheckContext
from rolemodel_conformance.expectations import reasons
from rolemodel_conformance.probe import RouterRefusal

C = conversation_pb2
INVALID = grpc.StatusCode.INVALID_ARGUMENT
#: Characters of a refused id shown in a report.
SHOWN = 20
ID_CHARS = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._:/-"


def _chat(conversation: C.ConversationRef, dry_run: bool = False) -> router_service_pb2.RouteRequest:
    return route_request(conversation, hints_pb2.RoutingHints(role="chat", difficulty=0.9), dry_run=dry_run)


def _three(ctx: CheckContext) -> list[C.Message]:
    return [system(f"Be brief. {ctx.canary()}"), user(f"Name a prime. {ctx.canary()}"), assistant("Seven.")]


@check(
    "validation",
    "Digests: verified against content, computed when absent",
    ("RM-CONV-001", "RM-CONV-002", "RM-CONV-003"),
)
def digests(ctx: CheckContext) -> None:
    messages = _three(ctx)
    right = ContentPrompt(tuple(messages), with_digests=True).ref(ctx.ids.conversation("digest"))
    try:
        ctx.probe.route(_chat(right))
        ctx.passed("RM-CONV-001", "content with the chained digests of section 4.2 is accepted")
    except RouterRefusal as refusal:
        ctx.failed("RM-CONV-001", f"content with correct chained digests was refused: {refusal}")
    wrong = ContentPrompt(tuple(messages), with_digests=True).ref(ctx.ids.conversation("digest"))
    wrong.messages[1].digest = secrets.token_bytes(32)
    expect_refusal(
        ctx,
        "RM-CONV-002",
        "message 1 carries a wrong digest",
        lambda: ctx.probe.route(_chat(wrong)),
        INVALID,
        "DIGEST_MISMATCH",
        fields=("conversation.messages[1]",),
        metadata={"message_index": "1"},
    )
    _digests_beyond_ascii(ctx)
    mixed = ContentPrompt(tuple(messages)).ref(ctx.ids.conversation("digest"))
    mixed.messages[2].digest = digest_chain(messages)[2]
    try:
        ctx.probe.route(_chat(mixed))
        ctx.passed("RM-CONV-003", "digests computed from content match the chain a client computes")
        ctx.passed("RM-CONV-001", "the router's own chain over content equals the chain of section 4.2")
    except RouterRefusal as refusal:
        ctx.failed("RM-CONV-003", f"the correct digest after two content-only messages was refused: {refusal}")
    off_chain = ContentPrompt(tuple(messages)).ref(ctx.ids.conversation("digest"))
    off_chain.messages[2].digest = chain(secrets.token_bytes(32), messages[2])
    expect_refusal(
        ctx,
        "RM-CONV-003",
        "a digest chained on the wrong predecessor after content-only messages",
        lambda: ctx.probe.route(_chat(off_chain)),
        INVALID,
        "DIGEST_MISMATCH",
        metadata={"message_index": "2"},
    )


def _wide_messages(ctx: CheckContext) -> list[C.Message]:
    """Non-ASCII text in several scripts, a message of several parts, and an empty-looking one."""
    several = user("Zähle die Primzahlen: ")
    several.parts.add().text.text = "二、三、五 — and «seven» 🙂"
    return [
        system(f"Réponds brièvement. {ctx.canary()}"),
        several,
        assistant("Ἐν ἀρχῇ ἦν ὁ λόγος; привет, مرحبا, שלום"),
        user(" \u00a0\t"),
    ]


def _digests_beyond_ascii(ctx: CheckContext) -> None:
    """RM-CONV-002 both ways over text that is not ASCII: correct digests pass, one changed letter does not.

    The first message carries the wrong digest in the second case, so the index
    reported is the boundary value 0.
    """
    wide = _wide_messages(ctx)
    right = ContentPrompt(tuple(wide), with_digests=True).ref(ctx.ids.conversation("digest"))
    try:
        ctx.probe.route(_chat(right))
        ctx.passed("RM-CONV-002", "non-ASCII and multi-part messages with their correct digests are accepted")
    except RouterRefusal as refusal:
        ctx.failed("RM-CONV-002", f"non-ASCII messages with their correct chained digests were refused: {refusal}")
    changed = list(wide)
    changed[0] = system(wide[0].parts[0].text.text.replace("é", "e", 1))
    wrong = ContentPrompt(tuple(changed)).ref(ctx.ids.conversation("digest"))
    for message, digest in zip(wrong.messages, digest_chain(wide), strict=True):
        message.digest = digest
    expect_refusal(
        ctx,
        "RM-CONV-002",
        "message 0's text differs from its digest by one accent",
        lambda: ctx.probe.route(_chat(wrong)),
        INVALID,
        "DIGEST_MISMATCH",
        fields=("conversation.messages[0]",),
        metadata={"message_index": "0"},
    )


@check("validation", "A message needs a digest or content, and a count or content", ("RM-CONV-004", "RM-CONV-012"))
def message_needs(ctx: CheckContext) -> None:
    cases = (
        ("RM-CONV-004", "a count but neither digest nor content", C.MessageRef(token_count=10)),
        (
            "RM-CONV-004",
            "a 31-byte digest and no content",
            C.MessageRef(token_count=10, digest=secrets.token_bytes(31)),
        ),
        ("RM-CONV-012", "a digest but neither count nor content", C.MessageRef(digest=secrets.token_bytes(32))),
    )
    for requirement, what, bad in cases:
        conversation = Prompt.of([100]).ref(ctx.ids.conversation("message-needs"))
        conversation.messages.append(bad)
        expect_refusal(
            ctx,
            requirement,
            f"message 1 has {what}",
            functools.partial(ctx.probe.route, _chat(conversation)),
            INVALID,
            "REQUEST_INVALID",
            fields=("conversation.messages[1]",),
        )


@check("validation", "Conversation ids: 1 to 128 characters of [A-Za-z0-9._:/-]", ("RM-CONV-021",))
def conversation_ids(ctx: CheckContext) -> None:
    unique = ctx.ids.conversation("id")
    long_id = (unique + "-" + ID_CHARS * 3)[:128]
    dry = ctx.claims("ROUTER_CAPABILITY_DRY_RUN")
    for good in ("a" if dry else unique[:60], long_id, "a._:/-Z9"[:8] if dry else unique + "._:/-"):
        conversation = Prompt.of([50]).ref(good)
        try:
            ctx.probe.route(_chat(conversation, dry_run=dry))
            ctx.passed("RM-CONV-021", f"conversation id of {len(good)} characters is accepted")
        except RouterRefusal as refusal:
            ctx.failed("RM-CONV-021", f"the valid conversation id {good!r} was refused: {refusal}")
    for bad in ("", long_id + "x", "has space", "caf\u00e9", "tab\there"):
        conversation = Prompt.of([50]).ref(bad)
        expect_refusal(
            ctx,
            "RM-CONV-021",
            f"conversation id {bad[:SHOWN]!r}{'...' if len(bad) > SHOWN else ''}",
            functools.partial(ctx.probe.route, _chat(conversation)),
            INVALID,
            "REQUEST_INVALID",
            fields=("conversation.conversation_id",),
        )


@check("validation", "Client token counts are used as given", ("RM-CONV-010",))
def counts_used(ctx: CheckContext) -> None:
    prompt = Prompt.of([1234, 56, 789], tools_tokens=321)
    decision = ctx.probe.route(_chat(prompt.ref(ctx.ids.conversation("counts"))))
    ctx.expect_equal(
        "RM-CONV-010", "prompt_tokens (counts plus tools_token_count)", decision.prompt_tokens, prompt.tokens
    )
    ctx.expect_equal(
        "RM-CONV-010",
        "prompt_tokens_source",
        common_pb2.ValueSource.Name(decision.prompt_tokens_source),
        "VALUE_SOURCE_DECLARED",
    )
    ctx.expect(
        "RM-CONV-010", "TOKENS_ESTIMATED" not in reasons(decision), "no TOKENS_ESTIMATED when every count is given"
    )


def _rich_messages(ctx: CheckContext) -> list[C.Message]:
    image = C.ContentPart(image=C.ImagePart(media_type="image/png", data=secrets.token_bytes(64)))
    call = C.ContentPart(tool_call=C.ToolCallPart(id="call_1", name="read_file", arguments_json='{"path":"a.py"}'))
    result = C.ContentPart(
        tool_result=C.ToolResultPart(
            tool_call_id="call_1", content=[C.ToolResultContent(text=C.TextPart(text=f"print('hi') {ctx.canary()}"))]
        )
    )
    thinking = C.ContentPart(reasoning=C.ReasoningPart(text="Read the file first.", provider="openai"))
    redacted = C.ContentPart(
        reasoning=C.ReasoningPart(signature="c2lnbmF0dXJl" * 3, provider="anthropic", redacted=True)
    )
    return [
        system(f"You review code. {ctx.canary()}"),
        C.Message(role=C.MESSAGE_ROLE_USER, parts=[C.ContentPart(text=C.TextPart(text="寿司と天ぷら, 🍣")), image]),
        C.Message(role=C.MESSAGE_ROLE_ASSISTANT, parts=[thinking, call]),
        C.Message(role=C.MESSAGE_ROLE_TOOL, parts=[result]),
        C.Message(role=C.MESSAGE_ROLE_ASSISTANT, parts=[redacted, C.ContentPart(text=C.TextPart(text="Looks fine."))]),
        user("Anything else?"),
    ]


@check("validation", "Missing counts use the normative estimate, and say so", ("RM-CONV-011", "RM-CONV-013"))
def counts_estimated(ctx: CheckContext) -> None:
    messages = _rich_messages(ctx)
    tools = (
        C.ToolDefinition(
            name="read_file",
            description="Read a file.",
            parameters_json_schema='{"type":"object","properties":{"path":{"type":"string"}}}',
        ),
    )
    prompt = ContentPrompt(tuple(messages), tools=tools)
    conversation = prompt.ref(ctx.ids.conversation("estimate"))
    conversation.messages[0].token_count = 777
    decision = ctx.probe.route(_chat(conversation))
    want = 777 + estimate_tools_tokens(tools) + sum(estimate_message_tokens(m) for m in messages[1:])
    for requirement in ("RM-CONV-011", "RM-CONV-013"):
        ctx.expect_equal(
            requirement, "prompt_tokens with one count given and the rest estimated", decision.prompt_tokens, want
        )
    ctx.expect_equal(
        "RM-CONV-011",
        "prompt_tokens_source",
        common_pb2.ValueSource.Name(decision.prompt_tokens_source),
        "VALUE_SOURCE_ESTIMATED",
    )
    ctx.expect(
        "RM-CONV-011",
        "TOKENS_ESTIMATED" in reasons(decision),
        f"reason TOKENS_ESTIMATED is present: {reasons(decision)}",
    )


def _pending(ctx: CheckContext, conversation: C.ConversationRef) -> bool:
    decision = ctx.probe.route(_chat(conversation))
    return decision.policy.tool_call_pending


@check("validation", "A tool call is pending when flagged or when the prompt ends with its results", ("RM-CONV-020",))
def tool_call_pending(ctx: CheckContext) -> None:
    flagged = Prompt.of([500, 200]).ref(ctx.ids.conversation("tools"), tool_call_pending=True)
    ctx.expect("RM-CONV-020", _pending(ctx, flagged), "tool_call_pending=true is a pending tool call")

    def call(n: int) -> C.ContentPart:
        return C.ContentPart(tool_call=C.ToolCallPart(id=f"c{n}", name="run", arguments_json="{}"))

    def result(n: int) -> C.Message:
        part = C.ContentPart(
            tool_result=C.ToolResultPart(
                tool_call_id=f"c{n}", content=[C.ToolResultContent(text=C.TextPart(text="ok"))]
            )
        )
        return C.Message(role=C.MESSAGE_ROLE_TOOL, parts=[part])

    ask = user(f"Run the tests. {ctx.canary()}")
    calling = C.Message(role=C.MESSAGE_ROLE_ASSISTANT, parts=[call(1), call(2)])
    cases = (
        (
            "the prompt ends with the results of the newest assistant's calls",
            [ask, calling, result(1), result(2)],
            True,
        ),
        ("a user message follows the results", [ask, calling, result(1), user("thanks")], False),
        ("the newest assistant message made no call", [ask, assistant("Done.")], False),
    )
    for what, messages, want in cases:
        conversation = ContentPrompt(tuple(messages)).ref(ctx.ids.conversation("tools"))
        got = _pending(ctx, conversation)
        ctx.expect("RM-CONV-020", got == want, f"{what}: tool_call_pending {got}, expected {want}")
