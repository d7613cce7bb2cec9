"""What the model name of a front-door request says: an alias of ours, or a client's own name (spec 14.3).

Unmodified clients have one knob the router can read for sure, the ``model`` field. Two kinds of
names carry meaning:

- our aliases, which ``GET /v1/models`` lists: ``rolemodel/<role>`` asks for a role, and
  ``rolemodel/<role>@<endpoint>`` also pins an endpoint. Role names never contain ``/`` or ``@``
  and endpoint ids never contain ``@``, so the split is unambiguous;
- a client's own names (``claude-haiku-4-5-20251001``, ``gpt-4o``), which the catalog's
  ``client_model_rules`` map to roles with ``*`` and ``?`` patterns, first match wins.

Anything else names no role; the request still works when a header gives one.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum

from rolemodel.v1 import catalog_pb2

ALIAS_PREFIX = "rolemodel/"
PIN_SEPARATOR = "@"


class RoleSource(StrEnum):
    """Where a request's role came from, reported in ``x-rolemodel-role-source``."""

    HEADER = "header"
    ALIAS = "alias"
    RULE = "rule"


@dataclass(frozen=True, slots=True)
class ModelRoute:
    """The role and pin a model name implies; empty strings when it implies none."""

    role: str = ""
    pinned_endpoint_id: str = ""
    source: RoleSource | None = None


def alias(role: str, endpoint_id: str = "") -> str:
    """The model alias for ``role``, pinned to ``endpoint_id`` when given."""
    return f"{ALIAS_PREFIX}{role}{PIN_SEPARATOR}{endpoint_id}" if endpoint_id else f"{ALIAS_PREFIX}{role}"


def parse_alias(model: str) -> ModelRoute | None:
    """The route of one of our aliases, or None when ``model`` is not one.

    An alias with an empty role (``rolemodel/``) or an empty pin (``rolemodel/chat@``) still
    counts as an alias: validation then reports the missing role or the unknown endpoint, which
    is more useful than silently treating the name as a client's own.
    """
    if not model.startswith(ALIAS_PREFIX):
        return None
    role, _, pinned = model[len(ALIAS_PREFIX) :].partition(PIN_SEPARATOR)
    return ModelRoute(role=role, pinned_endpoint_id=pinned, source=RoleSource.ALIAS)


def compile_pattern(pattern: str) -> re.Pattern[str]:
    """A regular expression for a rule pattern: ``*`` any run, ``?`` one character, the rest literal."""
    pieces = [".*" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern]
    return re.compile("".join(pieces), re.DOTALL)


class ClientModelRules:
    """The catalog's ``client_model_rules``, compiled once, matched in catalog order."""

    def __init__(self, rules: Sequence[catalog_pb2.ClientModelRule]) -> None:
        self._rules = [(compile_pattern(rule.model_pattern), rule.role) for rule in rules if rule.model_pattern]

    def role_for(self, model: str) -> str:
        """The role of the first rule whose pattern matches the whole name, else an empty string."""
        for pattern, role in self._rules:
            if pattern.fullmatch(model):
                return role
        return ""


def route_for_model(model: str, rules: ClientModelRules) -> ModelRoute:
    """An alias's route, else the first matching rule's role, else no route."""
    parsed = parse_alias(model)
    if parsed is not None:
        return parsed
    role = rules.role_for(model)
    return ModelRoute(role=role, source=RoleSource.RULE) if role else ModelRoute()
