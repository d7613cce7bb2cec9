"""Mutants of the front door's Responses API: each keeps or hands back what spec 14.10 says it must not, or the reverse.

They serve the front door (``--http``), and the suite drives it with the
official OpenAI client against the fixture's Responses endpoint, fx-responses.
Each patch wraps a function of the Responses codec that the router looks up at
call time; the suite's scripted backend runs in a process of its own, so the
patch never reaches what the endpoint answers.
"""

from __future__ import annotations

from typing import Any

from tests.mutants.catalogue import Mutant, wrap

SERVE_FRONT_DOOR = ("--http", "127.0.0.1:0")


def _endpoint_body(change: Any) -> None:
    """Let ``change(body)`` edit every body the router sends to a Responses endpoint."""
    from rolemodel.dialects import openai_responses

    def make(original: Any) -> Any:
        def mutated(request: Any, **options: Any) -> Any:
            body = original(request, **options)
            change(body)
            return body

        return mutated

    wrap(openai_responses, "encode_request", make)


def endpoint_told_to_store() -> None:
    _endpoint_body(lambda body: body.update(store=True))


def store_left_to_the_default() -> None:
    _endpoint_body(lambda body: body.pop("store", None))


def include_not_forwarded() -> None:
    _endpoint_body(lambda body: body.pop("include", None))


def previous_response_id_dropped() -> None:
    from rolemodel.dialects import openai_responses

    def make(original: Any) -> Any:
        return lambda body: original({k: v for k, v in body.items() if k != "previous_response_id"})

    wrap(openai_responses, "decode_request", make)


def encrypted_reasoning_always() -> None:
    from rolemodel.dialects import openai_responses

    wrap(openai_responses, "includes_encrypted_reasoning", lambda original: lambda body: True)


def encrypted_reasoning_never() -> None:
    from rolemodel.dialects import openai_responses

    wrap(openai_responses, "includes_encrypted_reasoning", lambda original: lambda body: False)


def encrypted_reasoning_streamed_always() -> None:
    from rolemodel.dialects import openai_responses

    def make(original: Any) -> Any:
        return lambda *args, **options: original(*args, **{**options, "keep_encrypted": True})

    wrap(openai_responses, "ResponsesStreamEncoder", make)


def _m(name: str, violation: str, expect: str, patch: Any) -> Mutant:
    return Mutant(name, violation, expect, (expect,), patch, serve=SERVE_FRONT_DOOR)


RESPONSES: dict[str, Mutant] = {
    m.name: m
    for m in (
        _m(
            "endpoint_told_to_store",
            "every Responses endpoint is called with store: true",
            "RM-HTTP-081",
            endpoint_told_to_store,
        ),
        _m(
            "store_left_to_the_default",
            "Responses endpoints are called without store, which the API reads as true",
            "RM-HTTP-081",
            store_left_to_the_default,
        ),
        _m(
            "previous_response_id_dropped",
            "previous_response_id is dropped silently and the request served",
            "RM-HTTP-081",
            previous_response_id_dropped,
        ),
        _m(
            "include_not_forwarded",
            "Responses endpoints are never asked for encrypted reasoning, so a client that includes it gets none",
            "RM-HTTP-083",
            include_not_forwarded,
        ),
        _m(
            "encrypted_reasoning_always",
            "encrypted reasoning reaches the client whether or not include asks for it",
            "RM-HTTP-083",
            encrypted_reasoning_always,
        ),
        _m(
            "encrypted_reasoning_never",
            "encrypted reasoning never reaches the client, even when include asks for it",
            "RM-HTTP-083",
            encrypted_reasoning_never,
        ),
        _m(
            "encrypted_reasoning_streamed_always",
            "a Responses stream carries encrypted reasoning the request did not include",
            "RM-HTTP-083",
            encrypted_reasoning_streamed_always,
        ),
    )
}
