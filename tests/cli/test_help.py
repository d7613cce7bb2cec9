"""Every help text is complete: a version, a line for every option and argument, and the defaults shown."""

from __future__ import annotations

import argparse

import pytest

from rolemodel import __version__
from rolemodel_conformance.cli import build_parser as suite_parser
from rolemodel_router.cli.main import build_parser as router_parser
from tests.cli.cli_process import SUITE_CLI, rolemodel, run


def test_version_names_the_release_and_the_protocol() -> None:
    done = rolemodel("--version")
    assert done.code == 0
    assert done.stdout.strip() == f"rolemodel {__version__} (protocol rolemodel.v1, versions 1.0)"


def _parsers() -> list[argparse.ArgumentParser]:
    found = [suite_parser()]
    router = router_parser()
    found.append(router)
    for action in router._actions:
        if isinstance(action, argparse._SubParsersAction):
            found.extend(action.choices.values())
    return found


@pytest.mark.parametrize("parser", _parsers(), ids=lambda p: p.prog)
def test_every_option_has_help_and_shows_its_default(parser: argparse.ArgumentParser) -> None:
    text = parser.format_help()
    formatter = parser._get_formatter()
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction | argparse._HelpAction | argparse._VersionAction):
            continue
        name = action.option_strings[0] if action.option_strings else action.dest
        assert action.help, f"{parser.prog} {name} has no help"
        if action.default not in (None, False, [], argparse.SUPPRESS):
            shown = formatter._expand_help(action)
            assert "default" in shown, f"{parser.prog} {name} hides its default {action.default!r}"
    assert parser.description, parser.prog
    assert "conformance/fixtures" not in text and "spec/schemas" not in text, "a path a wheel install lacks"


def test_both_programs_report_usage_mistakes_in_one_line() -> None:
    router = rolemodel("route", "--role", "chore", "--turn", "-1")
    assert router.code == 2
    assert router.one_line() == (
        "rolemodel route: argument --turn: -1 is negative; give 0 or more (see 'rolemodel route --help')"
    )
    suite = run(SUITE_CLI, "--level", "x")
    assert suite.code == 2
    assert suite.one_line() == (
        "rolemodel-conformance: argument --level: invalid choice: 'x' (choose from 'must', 'should', 'all') "
        "(see 'rolemodel-conformance --help')"
    )
    neither = run(SUITE_CLI)  # the choice argparse cannot express: one line too, however long
    assert neither.code == 2
    assert neither.one_line() == (
        "rolemodel-conformance: give either --target HOST:PORT or --router-command TEMPLATE (or use --vectors)"
    )


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("route", "--role", "chore", "--label", "team"), "argument --label: 'team' is not KEY=VALUE"),
        (("route", "--role", "chore", "--tokens", "-5"), "argument --tokens: -5 is negative; give 0 or more"),
        (("serve", "--prune-every", "0"), "argument --prune-every: 0 must be above 0"),
        (("serve", "--execute-max-attempts", "0"), "argument --execute-max-attempts: must be 1 or more"),
        (("serve", "--grace", "soon"), "argument --grace: 'soon' is not a number"),
    ],
)
def test_impossible_values_are_refused_before_they_reach_the_router(args: tuple[str, ...], message: str) -> None:
    done = rolemodel(*args)
    assert done.code == 2
    assert done.one_line() == f"rolemodel {args[0]}: {message} (see 'rolemodel {args[0]} --help')"


def test_serve_help_names_every_front_door_dialect() -> None:
    done = rolemodel("serve", "--help")
    assert done.code == 0
    flat = " ".join(done.stdout.split())
    assert "the OpenAI Chat Completions, OpenAI Responses and Anthropic Messages APIs" in flat


def test_suite_help_examples_can_be_pasted_into_a_shell() -> None:
    """A backslash at the end of a source line once joined two example lines into one with a run of spaces."""
    done = run(SUITE_CLI, "--help")
    assert done.code == 0
    examples = done.stdout.split("examples:\n", 1)[1].splitlines()
    for line in examples:
        assert "   " not in line.strip(), f"an example line holds a run of spaces: {line!r}"
    continued = [line for line in examples if line.endswith("\\")]
    assert continued == [
        '  rolemodel-conformance --router-command "rolemodel serve --catalog {catalog} --listen {address} \\'
    ]
