"""Mutants of the HTTP front door: each breaks one rule of spec chapter 14 that the front-door checks judge.

They run with ``--http``, so their card advertises the front door and the suite
drives it with the official OpenAI and Anthropic clients. Each patch wraps a
writer or encoder the front door looks up at call time.
"""

from __future__ import annotations

from typing import Any

from tests.mutants.catalogue import Mutant, wrap

SERVE_FRONT_DOOR = ("--http", "127.0.0.1:0")


def openai_error_without_code() -> None:
    from rolemodel_router.http import errors

    def make(original: Any) -> Any:
        def mutated(dialect: Any, error: Any) -> Any:
            body = original(dialect, error)
            if dialect == errors.Dialect.OPENAI:
                body["error"]["code"] = None
            return body

        return mutated

    wrap(errors, "error_body", make)


def chat_stream_without_done() -> None:
    from rolemodel.dialects import openai_chat
    from rolemodel_router.http import openai_routes

    def make(original: Any) -> Any:
        def mutated(self: Any, completed: Any, rolemodel: Any) -> bytes:
            return bytes(original(self, completed, rolemodel)).removesuffix(openai_chat.DONE_FRAME)

        return mutated

    wrap(openai_routes.ChatStreamWriter, "closing", make)


def done_after_stream_error() -> None:
    from rolemodel.dialects import openai_chat
    from rolemodel_router.http import openai_routes

    wrap(
        openai_routes.ChatStreamWriter,
        "error",
        lambda original: lambda self, error: bytes(original(self, error)) + openai_chat.DONE_FRAME,
    )


def responses_numbered_from_one() -> None:
    from rolemodel.dialects import openai_responses

    def make(original: Any) -> Any:
        def mutated(event: Any) -> bytes:
            if isinstance(event.get("sequence_number"), int):
                event = {**event, "sequence_number": event["sequence_number"] + 1}
            return bytes(original(event))

        return mutated

    wrap(openai_responses, "event_frame", make)


def anthropic_stream_without_message_stop() -> None:
    from rolemodel.dialects import anthropic_messages

    def make(original: Any) -> Any:
        def mutated(event: Any) -> bytes:
            return b"" if event.get("type") == "message_stop" else bytes(original(event))

        return mutated

    wrap(anthropic_messages, "event_frame", make)


def rolemodel_member_free() -> None:
    from rolemodel_router.http import response_headers

    def make(original: Any) -> Any:
        def mutated(completed: Any) -> Any:
            summary = original(completed)
            summary["reported_cost"] = "0"
            return summary

        return mutated

    wrap(response_headers, "completion_summary", make)


def role_header_ignored() -> None:
    from rolemodel_router.http import generation, hints

    def make(original: Any) -> Any:
        def mutated(headers: Any, route: Any) -> Any:
            return original({k: v for k, v in headers.items() if k.lower() != hints.ROLE}, route)

        return mutated

    wrap(generation, "resolve_hints", make)


def explain_ignored() -> None:
    from rolemodel_router.http import generation

    wrap(generation, "explain_requested", lambda original: lambda headers: False)


def explained_decision_compact() -> None:
    from rolemodel_router.core import RouterCore

    def make(original: Any) -> Any:
        def mutated(self: Any, request: Any, **options: Any) -> Any:
            return original(self, request, **{**options, "compact_candidates": True})

        return mutated

    wrap(RouterCore, "execute_batches", make)


def too_large_as_400() -> None:
    from rolemodel.error_reasons import ErrorReason
    from rolemodel_router.http import errors

    errors._STATUS_BY_REASON[ErrorReason.REQUEST_TOO_LARGE] = 400


def _m(name: str, violation: str, expect: str, patch: Any) -> Mutant:
    return Mutant(name, violation, expect, (expect,), patch, serve=SERVE_FRONT_DOOR)


FRONT_DOOR: dict[str, Mutant] = {
    m.name: m
    for m in (
        _m(
            "openai_error_without_code",
            "OpenAI-shaped errors carry no error.code",
            "RM-HTTP-060",
            openai_error_without_code,
        ),
        _m(
            "chat_stream_without_done",
            "a Chat Completions stream ends without data: [DONE]",
            "RM-HTTP-002",
            chat_stream_without_done,
        ),
        _m(
            "done_after_stream_error",
            "data: [DONE] follows a stream's error chunk",
            "RM-HTTP-062",
            done_after_stream_error,
        ),
        _m(
            "responses_numbered_from_one",
            "Responses events are numbered from 1",
            "RM-HTTP-082",
            responses_numbered_from_one,
        ),
        _m(
            "anthropic_stream_without_message_stop",
            "an Anthropic stream ends without message_stop",
            "RM-HTTP-002",
            anthropic_stream_without_message_stop,
        ),
        _m("role_header_ignored", "the x-rolemodel-role header is ignored", "RM-HTTP-010", role_header_ignored),
        _m("explain_ignored", "x-rolemodel-explain: 1 is ignored", "RM-HTTP-042", explain_ignored),
        _m(
            "explained_decision_compact",
            "the decision x-rolemodel-explain: 1 shows lists only the candidates that bear on it",
            "RM-HTTP-042",
            explained_decision_compact,
        ),
        _m("too_large_as_400", "REQUEST_TOO_LARGE is answered with HTTP 400", "RM-HTTP-004", too_large_as_400),
        _m(
            "rolemodel_member_free",
            "the rolemodel member reports a cost of 0 whatever the usage",
            "RM-HTTP-041",
            rolemodel_member_free,
        ),
    )
}
