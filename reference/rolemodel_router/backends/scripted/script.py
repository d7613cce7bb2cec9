"""What a scripted model answers: replies and faults, consumed one per request.

A test scripts each model with a list of steps. Every generation request for the model takes the
next step, so a test knows exactly what each turn returns, including the turn that fails.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any


@dataclass(frozen=True)
class ToolCall:
    """A tool call in a reply. An empty ``id`` is replaced by a deterministic one in the dialect's format
    (``call_...`` for OpenAI, ``toolu_...`` for Anthropic)."""

    name: str
    arguments: Mapping[str, Any] | str = field(default_factory=dict)
    id: str = ""

    def arguments_json(self) -> str:
        """The arguments as the JSON text a model would produce."""
        if isinstance(self.arguments, str):
            return self.arguments
        return json.dumps(dict(self.arguments), ensure_ascii=False)


@dataclass(frozen=True)
class Reply:
    """A successful answer.

    ``finish_reason`` defaults to ``tool_calls`` when there are tool calls and ``stop`` otherwise.
    ``output_tokens`` defaults to the normative estimate of the answer. ``reasoning`` is sent as
    ``reasoning_content`` to OpenAI-dialect clients and as a signed thinking block to Anthropic
    ones (``signature`` defaults to a deterministic one). Streams send text in pieces of
    ``chunk_chars`` characters; ``first_token_delay`` and ``delta_delay`` (seconds) slow them down.
    """

    text: str = ""
    tool_calls: Sequence[ToolCall] = ()
    reasoning: str = ""
    signature: str = ""
    finish_reason: str = ""
    stop_sequence: str = ""
    output_tokens: int | None = None
    chunk_chars: int = 16
    first_token_delay: float = 0.0
    delta_delay: float = 0.0


class FaultKind(StrEnum):
    RATE_LIMITED = "rate_limited"
    SERVER_ERROR = "server_error"
    CONTEXT_OVERFLOW = "context_overflow"
    HANG = "hang"
    CUT = "cut"
    INVALID_JSON = "invalid_json"
    STREAM_ERROR = "stream_error"
    REJECTED = "rejected"


#: The statuses with which a provider rejects a request itself (spec 10.2: not worth a fallback).
REJECTION_STATUSES = (400, 413, 422)
_CUT_REPLY = Reply(text="This answer is cut off in the middle of a sentence, as if the connection")


@dataclass(frozen=True)
class Fault:
    """A failure, injected in place of a reply. Build one with the class methods.

    Faults that strike before generation (rate limit, server error, context overflow, a hang
    before the response) leave the prompt cache untouched. Faults in the middle of an answer
    (a cut, a hang, invalid JSON or an error event after some deltas) happen after the provider
    processed the prompt, so the prompt is cached as for a reply; ``reply`` is the answer they
    interrupt.
    """

    kind: FaultKind
    status: int = 0
    retry_after: float | None = None
    after_deltas: int | None = None
    reply: Reply = _CUT_REPLY

    @classmethod
    def rate_limited(cls, retry_after: float = 1.0) -> Fault:
        """429 with ``Retry-After`` (whole seconds, rounded up) and ``retry-after-ms``."""
        return cls(FaultKind.RATE_LIMITED, status=429, retry_after=retry_after)

    @classmethod
    def server_error(cls, status: int = 500) -> Fault:
        """A 5xx answer in the dialect's error shape (529 is Anthropic's ``overloaded_error``)."""
        if not 500 <= status <= 599:  # noqa: PLR2004 - the 5xx range
            raise ValueError(f"a server error has a 5xx status, not {status}")
        return cls(FaultKind.SERVER_ERROR, status=status)

    @classmethod
    def context_overflow(cls) -> Fault:
        """400 saying the prompt exceeds the context window, as each provider words it."""
        return cls(FaultKind.CONTEXT_OVERFLOW, status=400)

    @classmethod
    def rejected(cls, status: int = 400) -> Fault:
        """The request itself refused (400, 413 or 422) in the dialect's invalid-request shape, not an overflow."""
        if status not in REJECTION_STATUSES:
            raise ValueError(f"a rejection has the status 400, 413 or 422, not {status}")
        return cls(FaultKind.REJECTED, status=status)

    @classmethod
    def hang(cls, after_deltas: int | None = None, reply: Reply = _CUT_REPLY) -> Fault:
        """No response until the client gives up; with ``after_deltas``, a stream that stalls after that many."""
        return cls(FaultKind.HANG, after_deltas=after_deltas, reply=reply)

    @classmethod
    def cut(cls, after_deltas: int = 1, reply: Reply = _CUT_REPLY) -> Fault:
        """The connection closes after ``after_deltas`` deltas of a stream, or halfway through a JSON body."""
        return cls(FaultKind.CUT, after_deltas=after_deltas, reply=reply)

    @classmethod
    def invalid_json(cls, after_deltas: int | None = None, reply: Reply = _CUT_REPLY) -> Fault:
        """A 200 whose JSON body is truncated, or a stream with one malformed ``data:`` line after ``after_deltas``."""
        return cls(FaultKind.INVALID_JSON, after_deltas=after_deltas, reply=reply)

    @classmethod
    def stream_error(cls, after_deltas: int = 1, status: int = 529, reply: Reply = _CUT_REPLY) -> Fault:
        """An error event in the middle of a stream (``overloaded_error`` for 529); a 5xx without streaming."""
        if not 500 <= status <= 599:  # noqa: PLR2004 - the 5xx range
            raise ValueError(f"a stream error has a 5xx status, not {status}")
        return cls(FaultKind.STREAM_ERROR, status=status, after_deltas=after_deltas, reply=reply)

    @property
    def before_generation(self) -> bool:
        """Whether the fault strikes before the provider would have processed the prompt."""
        if self.kind in (
            FaultKind.RATE_LIMITED,
            FaultKind.SERVER_ERROR,
            FaultKind.CONTEXT_OVERFLOW,
            FaultKind.REJECTED,
        ):
            return True
        return self.kind == FaultKind.HANG and self.after_deltas is None


Step = Reply | Fault
