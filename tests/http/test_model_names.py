"""Model aliases and client model rules: what a model name says about the role (spec 14.2, 14.3)."""

from __future__ import annotations

import fnmatch

from hypothesis import given
from hypothesis import strategies as st

from rolemodel.v1 import catalog_pb2
from rolemodel_router.http.model_names import (
    ClientModelRules,
    ModelRoute,
    RoleSource,
    alias,
    compile_pattern,
    parse_alias,
    route_for_model,
)

RULES = ClientModelRules(
    [
        catalog_pb2.ClientModelRule(model_pattern="claude-haiku-*", role="background"),
        catalog_pb2.ClientModelRule(model_pattern="claude-*", role="code.edit"),
        catalog_pb2.ClientModelRule(model_pattern="gpt-4?", role="chat"),
    ]
)
# Model names as tools send them: no glob brackets, which fnmatch would treat as classes.
names = st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789.-_:/@", max_size=20)
patterns = st.text(alphabet="abcxyz0189.-_*?", max_size=12)


def test_aliases_name_a_role_and_optionally_a_pin() -> None:
    assert parse_alias("rolemodel/code.edit") == ModelRoute("code.edit", "", RoleSource.ALIAS)
    assert parse_alias("rolemodel/chat@deepseek-chat") == ModelRoute("chat", "deepseek-chat", RoleSource.ALIAS)
    assert parse_alias("rolemodel/x-acme.triage@local/qwen:4b") == ModelRoute(
        "x-acme.triage", "local/qwen:4b", RoleSource.ALIAS
    )
    assert parse_alias("gpt-4o") is None
    assert alias("chat") == "rolemodel/chat"
    assert alias("chat", "gpt-5") == "rolemodel/chat@gpt-5"


@given(st.sampled_from(["chat", "code.edit", "x-acme.triage"]), st.sampled_from(["", "gpt-5", "local/q:4b"]))
def test_an_alias_parses_back_to_what_made_it(role: str, endpoint_id: str) -> None:
    assert parse_alias(alias(role, endpoint_id)) == ModelRoute(role, endpoint_id, RoleSource.ALIAS)


def test_the_first_matching_rule_wins_and_matches_the_whole_name() -> None:
    assert RULES.role_for("claude-haiku-4-5-20251001") == "background"
    assert RULES.role_for("claude-sonnet-4-5") == "code.edit"
    assert RULES.role_for("gpt-4o") == "chat"
    assert RULES.role_for("gpt-4o-mini") == ""  # '?' is one character, and the match is of the whole name
    assert RULES.role_for("my-claude-haiku") == ""
    assert RULES.role_for("Claude-haiku-4") == ""  # case-sensitive


def test_an_alias_beats_the_rules_and_an_unmatched_name_gives_nothing() -> None:
    assert route_for_model("rolemodel/chore", RULES) == ModelRoute("chore", "", RoleSource.ALIAS)
    assert route_for_model("claude-haiku-4-5", RULES) == ModelRoute("background", "", RoleSource.RULE)
    assert route_for_model("llama3", RULES) == ModelRoute()


@given(patterns, names)
def test_patterns_match_like_shell_globs_without_classes(pattern: str, name: str) -> None:
    assert bool(compile_pattern(pattern).fullmatch(name)) == fnmatch.fnmatchcase(name, pattern)


@given(names)
def test_characters_that_mean_something_to_regular_expressions_are_literal(name: str) -> None:
    assert compile_pattern(name).fullmatch(name)
    assert compile_pattern("(" + name + ")+").fullmatch(name) is None
