"""What a dialect does with each request field a client may send: the shared vocabulary of the field tables.

Each front-door dialect keeps a table of :class:`FieldRule` (``openai_chat.fields``,
``openai_responses.fields``, ``anthropic_messages.fields``). Its request decoder refuses every field
outside the table and treats the listed ones as the table says, so that nothing a client sends is
dropped in silence; spec chapter 14 renders the tables, so the prose cannot drift from the code.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Treatment(StrEnum):
    #: Translated to the canonical form, so it reaches every endpoint in that endpoint's dialect.
    MAPPED = "mapped"
    #: Carried unchanged to endpoints that speak the client's dialect; other dialects have no place for it.
    PASSED_THROUGH = "passed through"
    #: Answered with a 400 that names the field.
    REFUSED = "refused"


@dataclass(frozen=True)
class FieldRule:
    """One request field (or header) of a dialect, its treatment, and how, in words the spec prints."""

    name: str
    treatment: Treatment
    how: str
