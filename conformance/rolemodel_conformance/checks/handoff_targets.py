"""What each target accepts: foreign reasoning, empty turns, tool-call ids, images and cache breakpoints (spec 8.1-8.5).

Every check routes a conversation with content, pinned to one fixture endpoint,
with ``include_handoff``, and holds the plan's messages and transforms against
``handoff_rules.expected_handoff``: spec chapter 8 as the suite computes it for
that endpoint and the role's policy, proven against the published vectors by
``--vectors``. Each requirement is judged on its own part of the answer (the
reasoning parts, the tool ids, the breakpoints), so that one broken rule does
not fail the others.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from rolemodel.v1 import catalog_pb2, conversation_pb2, hints_pb2
from rolemodel_conformance.builders import ContentPrompt, pin, route_request, system, text, user
from rolemodel_conformance.checks import check
from rolemodel_conformance.context import CheckContext
from rolemodel_conformance.handoff_rules import (
    Handoff,
    accepts_tool_id,
    expected_handoff,
    remapped_tool_id,
    transform_kinds,
)

C = conversation_pb2
CAPABILITY = "ROUTER_CAPABILITY_HANDOFF_MESSAGES"
#: Rejected by every family (':' and '/'); 41 characters: Anthropic accepts it, OpenAI does not.
ODD_ID = "call:lookup/1"
LONG_ID = "call_" + "a1b2c3d4e5f6" * 3
Projection = Callable[[Sequence[C.Message]], object]


def _reasoning(provider: str, signature: str, words: str, redacted: bool = False) -> C.ContentPart:
    return C.ContentPart(
        reasoning=C.ReasoningPart(text=words, provider=provider, signature=signature, redacted=redacted)
    )


def _message(role: C.MessageRole.ValueType, *parts: C.ContentPart) -> C.Message:
    return C.Message(role=role, parts=list(parts))


def _text(words: str) -> C.ContentPart:
    return C.ContentPart(text=C.TextPart(text=words))


def _call(call_id: str) -> C.Message:
    call = C.ToolCallPart(id=call_id, name="lookup", arguments_json='{"q":"x"}')
    return _message(C.MESSAGE_ROLE_ASSISTANT, C.ContentPart(tool_call=call))


def _result(call_id: str, *content: C.ToolResultContent) -> C.Message:
    pieces = list(content) or [C.ToolResultContent(text=C.TextPart(text="found"))]
    return _message(
        C.MESSAGE_ROLE_TOOL, C.ContentPart(tool_result=C.ToolResultPart(tool_call_id=call_id, content=pieces))
    )


class Scene:
    """One pinned route with include_handoff, and what spec chapter 8 says it must return."""

    def __init__(self, ctx: CheckContext, role: str, endpoint_id: str, messages: Sequence[C.Message]) -> None:
        self.what = f"{role} to {endpoint_id}"
        self.sent = list(messages)
        request = route_request(
            ContentPrompt(tuple(messages)).ref(ctx.ids.conversation("handoff")),
            hints_pb2.RoutingHints(role=role, endpoint_choice=pin(endpoint_id)),
            include_handoff=True,
        )
        plan = ctx.probe.route(request).handoff
        self.got = list(plan.messages)
        self.kinds = transform_kinds(plan)
        policy = ctx.fixture.roles[role].handoff
        self.want: Handoff = expected_handoff(messages, ctx.fixture.endpoints[endpoint_id], policy)

    def expect(self, ctx: CheckContext, requirement: str, what: str, project: Projection, kinds: Sequence[str]) -> None:
        """One observation: the projection of the messages, and the named transforms, as the spec computes them."""
        got, want = project(self.got), project(self.want.messages)
        got_kinds = {k: self.kinds[k] for k in kinds if k in self.kinds}
        want_kinds = {k: self.want.transforms[k] for k in kinds if k in self.want.transforms}
        problems = [] if got == want else [f"expected {want}, got {got}"]
        if got_kinds != want_kinds:
            problems.append(f"transforms {got_kinds}, expected {want_kinds}")
        ctx.expect(requirement, not problems, f"{self.what}: {what}: " + ("; ".join(problems) or f"as required {want}"))


def _reasoning_view(messages: Sequence[C.Message]) -> list[list[tuple[str, str, str]]]:
    """Per message: each reasoning part (provider, signature, words), or ('text', '', words) for text."""
    view = []
    for m in messages:
        parts = []
        for p in m.parts:
            if p.WhichOneof("kind") == "reasoning":
                parts.append((p.reasoning.provider, p.reasoning.signature, p.reasoning.text))
            elif p.WhichOneof("kind") == "text":
                parts.append(("text", "", p.text.text))
        view.append(parts)
    return view


def _roles(messages: Sequence[C.Message]) -> list[str]:
    return [C.MessageRole.Name(m.role).removeprefix("MESSAGE_ROLE_").lower() for m in messages]


def _tool_ids(messages: Sequence[C.Message]) -> list[tuple[int, str, str]]:
    ids = []
    for index, m in enumerate(messages):
        for p in m.parts:
            if p.WhichOneof("kind") == "tool_call":
                ids.append((index, "call", p.tool_call.id))
            elif p.WhichOneof("kind") == "tool_result":
                ids.append((index, "result", p.tool_result.tool_call_id))
    return ids


def _images(messages: Sequence[C.Message]) -> list[tuple[int, str]]:
    """Per message: each image (by its description) or placeholder text, also inside tool results."""
    view = []
    for index, m in enumerate(messages):
        pieces: list[C.ContentPart | C.ToolResultContent] = list(m.parts)
        pieces += [c for p in m.parts if p.WhichOneof("kind") == "tool_result" for c in p.tool_result.content]
        for piece in pieces:
            if piece.WhichOneof("kind") == "image":
                view.append((index, f"image({piece.image.description!r})"))
            elif piece.WhichOneof("kind") == "text" and piece.text.text.startswith("[image"):
                view.append((index, piece.text.text))
    return view


def _breakpoints(messages: Sequence[C.Message]) -> list[tuple[int, int, int]]:
    """(message, part, ttl) of every cache breakpoint."""
    return [
        (i, j, p.cache_breakpoint.ttl_seconds)
        for i, m in enumerate(messages)
        for j, p in enumerate(m.parts)
        if p.HasField("cache_breakpoint")
    ]


@check(
    "handoff",
    "Only foreign reasoning crosses providers; an assistant turn left empty is dropped",
    ("RM-HANDOFF-006", "RM-HANDOFF-007"),
)
def foreign_reasoning(ctx: CheckContext) -> None:
    ctx.require_capability(CAPABILITY, "the transformed messages")
    mixed = _message(
        C.MESSAGE_ROLE_ASSISTANT,
        _reasoning("openai", "sig-openai-1", "Own family."),
        _reasoning("", "", "Unlabelled, unsigned."),
        _reasoning("", "sig-unknown-1", "Unlabelled, signed."),
        _reasoning("anthropic", "sig-anthropic-1", "Foreign."),
        _text("The answer."),
    )
    prompt = [system(f"Be brief. {ctx.canary()}"), user("First question."), mixed, user("Next question.")]
    for role, endpoint_id in (("chat", "fx-gpt5"), ("x-conformance.handoff", "fx-gpt5"), ("chat", "fx-opus")):
        scene = Scene(ctx, role, endpoint_id, prompt)
        kinds = ("REASONING_DROPPED", "REASONING_TO_TEXT")
        scene.expect(ctx, "RM-HANDOFF-006", "reasoning and text parts per message", _reasoning_view, kinds)
    only_reasoning = _message(C.MESSAGE_ROLE_ASSISTANT, _reasoning("anthropic", "sig-anthropic-2", "Just thinking."))
    redacted = _message(C.MESSAGE_ROLE_ASSISTANT, _reasoning("anthropic", "sig-anthropic-3", "", redacted=True))
    for role, emptied in (("chat", only_reasoning), ("x-conformance.handoff", redacted)):
        scene = Scene(ctx, role, "fx-gpt5", [user("Think first."), emptied, user("Now answer.")])
        scene.expect(ctx, "RM-HANDOFF-007", "the messages sent, by role", _roles, ("MESSAGES_DROPPED",))


@check(
    "handoff",
    "Tool-call ids a family rejects are remapped to rm_ and SHA-256 hex, in calls and results, on every turn",
    ("RM-HANDOFF-020", "RM-HANDOFF-021"),
)
def tool_ids(ctx: CheckContext) -> None:
    ctx.require_capability(CAPABILITY, "the transformed messages")
    prompt = [user(f"Look it up. {ctx.canary()}"), _call(ODD_ID), _result(ODD_ID), _call(LONG_ID), _result(LONG_ID)]
    prompt.append(user("Go on."))
    for endpoint_id in ("fx-opus", "fx-gpt5"):
        scene = Scene(ctx, "chat", endpoint_id, prompt)
        kind = ctx.fixture.endpoints[endpoint_id].provider_kind
        got = _tool_ids(scene.got)
        shape_ok = len(got) == len(_tool_ids(prompt)) and all(
            (new == old) == accepts_tool_id(kind, old) and accepts_tool_id(kind, new)
            for (_, _, new), (_, _, old) in zip(got, _tool_ids(prompt), strict=False)
        )
        pairs_ok = all(got[i][2] == got[i + 1][2] for i in range(0, len(got) - 1, 2))
        listed = scene.kinds.get("TOOL_IDS_REMAPPED", [])
        want_listed = scene.want.transforms.get("TOOL_IDS_REMAPPED", [])
        ctx.expect(
            "RM-HANDOFF-020",
            shape_ok and pairs_ok and listed == want_listed,
            f"{scene.what}: ids it rejects replaced by ids it accepts, accepted ids kept, each result still naming its "
            f"call, TOOL_IDS_REMAPPED {want_listed}: got ids {[i[2] for i in got]}, TOOL_IDS_REMAPPED {listed}",
        )
        scene.expect(ctx, "RM-HANDOFF-021", "tool ids (message, part, id)", _tool_ids, ())
    later = Scene(ctx, "chat", "fx-gpt5", [*prompt, _message(C.MESSAGE_ROLE_ASSISTANT, _text("Done.")), user("More.")])
    ctx.expect(
        "RM-HANDOFF-021",
        [i[2] for i in _tool_ids(later.got)] == [remapped_tool_id(i) for i in (ODD_ID, ODD_ID, LONG_ID, LONG_ID)],
        f"{later.what}: a later, longer conversation remaps the same ids the same way: {_tool_ids(later.got)}",
    )


@check(
    "handoff",
    "Images become '[image: description]' for an endpoint without vision under IMAGE_HANDOFF_PLACEHOLDER",
    ("RM-HANDOFF-030",),
)
def image_placeholders(ctx: CheckContext) -> None:
    ctx.require_capability(CAPABILITY, "the transformed messages")
    described = C.ImagePart(
        media_type="image/png", url="https://example.invalid/square.png", description="  a red square "
    )
    bare = C.ImagePart(media_type="image/png", data=b"\x89PNG-conformance")
    screenshot = C.ImagePart(
        media_type="image/png", url="https://example.invalid/login.png", description="the login page"
    )
    question = _message(
        C.MESSAGE_ROLE_USER,
        _text(f"Compare these. {ctx.canary()}"),
        C.ContentPart(image=described),
        C.ContentPart(image=bare),
    )
    prompt = [
        question,
        _call("call_shot"),
        _result("call_shot", C.ToolResultContent(text=C.TextPart(text="Here.")), C.ToolResultContent(image=screenshot)),
        user("What do you see?"),
    ]
    for endpoint_id in ("fx-local", "fx-gpt5"):
        scene = Scene(ctx, "x-conformance.placeholder", endpoint_id, prompt)
        scene.expect(
            ctx, "RM-HANDOFF-030", "images and placeholders (message, content)", _images, ("IMAGE_PLACEHOLDER",)
        )


@check(
    "handoff",
    "Explicit caching gets breakpoints at the end of the system prompt and of the prompt, unless the client set any",
    ("RM-HANDOFF-040", "RM-HANDOFF-041"),
)
def cache_breakpoints(ctx: CheckContext) -> None:
    ctx.require_capability(CAPABILITY, "the transformed messages")
    ttl = ctx.fixture.endpoints["fx-opus"].caching.ttl_seconds
    if ctx.fixture.endpoints["fx-opus"].caching.mode != catalog_pb2.CACHE_MODE_EXPLICIT:
        raise AssertionError("the fixture's fx-opus must cache explicitly")
    last = _message(C.MESSAGE_ROLE_USER, _text("Two parts:"), _text("the last one."))
    with_system = [
        system(f"Rules. {ctx.canary()}"),
        system("More rules."),
        user("Hi."),
        text(C.MESSAGE_ROLE_ASSISTANT, "Hello."),
        last,
    ]
    for prompt in (with_system, [user("Hi."), text(C.MESSAGE_ROLE_ASSISTANT, "Hello."), last]):
        scene = Scene(ctx, "chat", "fx-opus", prompt)
        what = f"breakpoints (message, part, ttl) with the endpoint's ttl {ttl}"
        scene.expect(ctx, "RM-HANDOFF-040", what, _breakpoints, ("CACHE_BREAKPOINT_PLACED",))
    placed = user("Cache up to here.")
    placed.parts[0].cache_breakpoint.ttl_seconds = 3600
    scene = Scene(
        ctx, "chat", "fx-opus", [system("Rules."), placed, text(C.MESSAGE_ROLE_ASSISTANT, "Fine."), user("Go.")]
    )
    scene.expect(
        ctx, "RM-HANDOFF-041", "the client's breakpoints, unchanged", _breakpoints, ("CACHE_BREAKPOINT_PLACED",)
    )
