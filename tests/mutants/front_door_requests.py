"""Mutants of how the front door reads a request (spec 14.2 to 14.4, 14.8): each misreads one part of it.

They run with ``--http``; each patch wraps a reader the front door looks up at call
time: the hint headers, the client model rules, the conversation id and turn index,
the client's headers passed on to a subscription's endpoint, the field tables, the
place of a system entry, and the token on the outcomes endpoint.
"""

from __future__ import annotations

from typing import Any

from tests.mutants.catalogue import Mutant, wrap
from tests.mutants.front_door import SERVE_FRONT_DOOR


def bad_difficulty_ignored() -> None:
    from rolemodel_router.http import hints

    def make(original: Any) -> Any:
        def mutated(value: Any, routing: Any, violations: Any) -> None:
            try:
                original(None if value is None else str(float(value)), routing, violations)
            except ValueError:
                return  # an unreadable header is dropped instead of refused

        return mutated

    wrap(hints, "_difficulty", make)


def model_rules_last_match_wins() -> None:
    from rolemodel_router.http import model_names

    def role_for(self: Any, model: str) -> str:
        for pattern, role in reversed(self._rules):
            if pattern.fullmatch(model):
                return str(role)
        return ""

    wrap(model_names.ClientModelRules, "role_for", lambda original: role_for)


def derived_from_whole_prompt() -> None:
    from rolemodel_router.http import conversation_id

    wrap(conversation_id, "opening", lambda original: lambda messages: messages)


def turn_index_counts_user_messages() -> None:
    from rolemodel.v1 import conversation_pb2
    from rolemodel_router.http import execute_request

    user = conversation_pb2.MESSAGE_ROLE_USER
    wrap(
        execute_request,
        "turn_index",
        lambda original: lambda messages: sum(1 for m in messages if m.role == user),
    )


def prompt_cache_key_ignored() -> None:
    from rolemodel_router.http import execute_request

    wrap(
        execute_request,
        "conversation_id",
        lambda original: lambda headers, messages, prompt_cache_key="": original(headers, messages, ""),
    )


def client_x_headers_forwarded() -> None:
    from rolemodel_router.execute import credentials

    credential = credentials.ClientCredential
    from_http = credential.from_http.__func__  # type: ignore[attr-defined]
    headers_for = credential.headers_for

    def taking_more(cls: Any, headers: Any, wanted: Any, token_header: Any) -> Any:
        extra = [k.lower() for k in headers if k.lower().startswith("x-conformance")]
        return from_http(cls, headers, [*wanted, *extra], token_header)

    def giving_more(self: Any, declared: Any) -> Any:
        found = headers_for(self, declared)
        return None if found is None else {**self._values, **found}

    credential.from_http = classmethod(taking_more)  # type: ignore[method-assign,assignment]
    credential.headers_for = giving_more  # type: ignore[method-assign]


def _unlisted_fields_dropped(dialect: str) -> None:
    """The dialect's decoder silently drops every top-level field its table does not list."""
    import importlib

    package = importlib.import_module(f"rolemodel.dialects.{dialect}")
    rules = importlib.import_module(f"rolemodel.dialects.{dialect}.fields").RULES

    def make(original: Any) -> Any:
        return lambda body, **more: original({k: v for k, v in body.items() if k in rules}, **more)

    wrap(package, "decode_request", make)


def unlisted_chat_field_dropped() -> None:
    _unlisted_fields_dropped("openai_chat")


def unlisted_responses_field_dropped() -> None:
    _unlisted_fields_dropped("openai_responses")


def system_entries_moved_first() -> None:
    from rolemodel.dialects import anthropic_messages
    from rolemodel.v1 import conversation_pb2

    system = conversation_pb2.MESSAGE_ROLE_SYSTEM

    def make(original: Any) -> Any:
        def mutated(body: Any) -> Any:
            request = original(body)
            kept = list(request.messages)
            request.messages = [m for m in kept if m.role == system] + [m for m in kept if m.role != system]
            return request

        return mutated

    wrap(anthropic_messages, "decode_request", make)


def outcomes_without_token() -> None:
    from rolemodel_router.http import outcomes

    wrap(outcomes, "authenticate", lambda original: lambda tokens, headers, scope="route": None)


def front_door_scope_ignored() -> None:
    from rolemodel_router.http import generation

    wrap(generation, "act_as", lambda original: lambda principal, role=None: original(None, None))


def _m(name: str, violation: str, expect: str, patch: Any, **more: Any) -> Mutant:
    return Mutant(name, violation, expect, (expect,), patch, serve=SERVE_FRONT_DOOR, **more)


FRONT_DOOR_REQUESTS: dict[str, Mutant] = {
    m.name: m
    for m in (
        _m(
            "bad_difficulty_ignored",
            "an x-rolemodel-difficulty header that is not a number is ignored, not refused",
            "RM-HTTP-012",
            bad_difficulty_ignored,
        ),
        _m(
            "model_rules_last_match_wins",
            "the last matching client model rule gives the role, not the first",
            "RM-HTTP-020",
            model_rules_last_match_wins,
        ),
        _m(
            "derived_from_whole_prompt",
            "the derived conversation id digests the whole prompt, so it changes every turn",
            "RM-HTTP-030",
            derived_from_whole_prompt,
        ),
        _m(
            "turn_index_counts_user_messages",
            "the turn index counts the user messages instead of the assistant messages",
            "RM-HTTP-031",
            turn_index_counts_user_messages,
        ),
        _m(
            "prompt_cache_key_ignored",
            "a Responses request's prompt_cache_key is not its conversation id",
            "RM-HTTP-032",
            prompt_cache_key_ignored,
        ),
        _m(
            "client_x_headers_forwarded",
            "headers the client sent that no endpoint lists reach a subscription's endpoint",
            "RM-HTTP-072",
            client_x_headers_forwarded,
        ),
        _m(
            "unlisted_chat_field_dropped",
            "a Chat Completions field no table lists is dropped instead of refused",
            "RM-HTTP-007",
            unlisted_chat_field_dropped,
        ),
        _m(
            "unlisted_responses_field_dropped",
            "a Responses field no table lists is dropped instead of refused",
            "RM-HTTP-080",
            unlisted_responses_field_dropped,
        ),
        _m(
            "system_entries_moved_first",
            "a system entry inside a Messages request's messages is moved to the front",
            "RM-HTTP-006",
            system_entries_moved_first,
        ),
        _m(
            "outcomes_without_token",
            "POST /v1/rolemodel/outcomes is served without a token",
            "RM-HTTP-070",
            outcomes_without_token,
            tokens=True,
        ),
        _m(
            "front_door_scope_ignored",
            "a token's role scope is not applied to front-door requests",
            "RM-HTTP-071",
            front_door_scope_ignored,
            tokens=True,
        ),
    )
}
