"""Registry coverage in both directions: every MUST and SHOULD is checked or excluded, every check cites real ids."""

from __future__ import annotations

import re

from rolemodel_conformance.checks import AREAS, MODULES, all_checks
from rolemodel_conformance.registry import out_of_scope, requirements

ID = re.compile(r"^RM-[A-Z]+-[0-9]{3}$")


def _cited() -> dict[str, list[str]]:
    cited: dict[str, list[str]] = {}
    for c in all_checks():
        for requirement in c.requirements:
            cited.setdefault(requirement, []).append(c.name)
    return cited


def test_every_must_and_should_has_a_check_or_a_recorded_exclusion() -> None:
    cited, excluded = _cited(), out_of_scope()
    uncovered = [r.id for r in requirements().values() if r.scored_level and r.id not in cited and r.id not in excluded]
    assert uncovered == []


def test_every_check_cites_requirements_that_exist() -> None:
    known = requirements()
    unknown = {rid: names for rid, names in _cited().items() if rid not in known}
    assert unknown == {}
    assert all(c.requirements and all(ID.match(r) for r in c.requirements) for c in all_checks())


def test_every_may_has_a_check_or_a_recorded_exclusion() -> None:
    """A run at the default level scores MAYs too, and one that no check cites would be NOT_TESTABLE."""
    cited, excluded = _cited(), out_of_scope()
    uncovered = [r.id for r in requirements().values() if r.level == "MAY" and r.id not in set(cited) | set(excluded)]
    assert uncovered == []


def test_every_exclusion_names_an_existing_requirement_with_a_reason() -> None:
    known = requirements()
    for rid, exclusion in out_of_scope().items():
        assert rid in known, rid
        assert len(exclusion.reason) > 20, rid


def test_no_requirement_is_both_checked_and_excluded() -> None:
    assert set(_cited()) & set(out_of_scope()) == set()


def test_client_party_requirements_are_excluded_not_checked() -> None:
    clients = {r.id for r in requirements().values() if r.party == "client"}
    assert clients
    assert clients <= set(out_of_scope())


def test_checks_have_unique_names_known_areas_and_a_title() -> None:
    checks = all_checks()
    names = [c.name for c in checks]
    assert len(names) == len(set(names))
    assert {c.area for c in checks} <= set(AREAS)
    assert all(c.title for c in checks)


def test_every_check_module_registers_at_least_one_check() -> None:
    modules = {c.function.__module__.rsplit(".", 1)[1] for c in all_checks()}
    assert set(MODULES) <= modules


def test_checks_run_in_area_order() -> None:
    order = [AREAS.index(c.area) for c in all_checks()]
    assert order == sorted(order)


def test_coverage_and_mutant_numbers_are_what_the_docs_report() -> None:
    """docs/conformance.md and conformance/README.md state these numbers; they must not go stale."""
    from tests.conformance.routers import ROOT
    from tests.mutants.all_mutants import MUTANTS

    scored = {r.id for r in requirements().values() if r.scored_level}
    checked = scored & set(_cited())
    excluded = scored & set(out_of_scope())
    assert checked | excluded == scored
    guide = " ".join((ROOT / "docs" / "conformance.md").read_text().split())
    readme = " ".join((ROOT / "conformance" / "README.md").read_text().split())
    assert f"The registry has {len(scored)} requirements at level MUST or SHOULD" in guide
    assert f"**{len(checked)} have at least one check. {len(excluded)} are excluded" in guide
    front = " ".join((ROOT / "README.md").read_text().split())
    assert f"spec's {len(scored)} MUST and SHOULD requirements, {len(checked)} are checked" in front
    assert f"and {len(excluded)} are excluded" in front
    assert f"Of the registry's {len(scored)} requirements at level MUST or SHOULD, {len(checked)} are checked" in readme
    assert f"and {len(excluded)} are excluded" in readme
    for text in (guide, readme, front):
        assert f"holds {len(MUTANTS)} " in text
        assert f"catches all {len(MUTANTS)}" in text
