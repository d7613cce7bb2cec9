"""Start-up on bad catalogs (spec 3): seen only in the harness mode, where the suite starts the router itself.

Each broken catalog is the fixture with one defect of one kind the spec names.
The router must refuse to start on it: exit without ever reporting SERVING. A
router that serves a broken catalog fails that requirement; one that neither
serves nor exits within the time allowed is judged as not refusing either,
since a user could not tell it from one that hangs.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

import yaml
from google.protobuf import json_format

from rolemodel_conformance.checks import check
from rolemodel_conformance.context import CapabilityNotClaimed, CheckContext
from rolemodel_conformance.launcher import RouterLauncher, StartUp

Catalog = dict[str, Any]
#: Characters of a router's output quoted in a report.
QUOTED = 160


def _schema_violation(c: Catalog) -> None:
    c["endpoints"][0]["context_window_tokens"] = "a great many"


def _duplicate_endpoint(c: Catalog) -> None:
    c["endpoints"].append(copy.deepcopy(c["endpoints"][1]))


def _duplicate_role(c: Catalog) -> None:
    c["roles"].append(copy.deepcopy(c["roles"][0]))


def _unknown_endpoint_in_ladder(c: Catalog) -> None:
    c["roles"][0]["ladder"][0]["endpoint_ids"].append("fx-nowhere")


def _unknown_quota_endpoint(c: Catalog) -> None:
    c["policies"]["quotas"][0]["endpoint_id"] = "fx-nowhere"


def _two_currencies(c: Catalog) -> None:
    c["endpoints"][1]["pricing"]["currency"] = "EUR"


def _empty_tier(c: Catalog) -> None:
    c["roles"][0]["ladder"].append({"endpoint_ids": []})


def _falling_min_difficulty(c: Catalog) -> None:
    ladder = c["roles"][0]["ladder"]
    ladder[1]["min_difficulty"] = ladder[2]["min_difficulty"] + 0.1


def _empty_model_pattern(c: Catalog) -> None:
    c.setdefault("policies", {}).setdefault("client_model_rules", []).append({"model_pattern": "", "role": "chat"})


def _model_rule_unknown_role(c: Catalog) -> None:
    c.setdefault("policies", {}).setdefault("client_model_rules", []).append(
        {"model_pattern": "fixture-*", "role": "x-conformance.nowhere"}
    )


BROKEN: tuple[tuple[str, str, Callable[[Catalog], None]], ...] = (
    ("RM-CAT-001", "endpoints[0].context_window_tokens is a string", _schema_violation),
    ("RM-CAT-002", "an endpoint id twice", _duplicate_endpoint),
    ("RM-CAT-002", "a role name twice", _duplicate_role),
    ("RM-CAT-003", "a ladder names the undefined endpoint fx-nowhere", _unknown_endpoint_in_ladder),
    ("RM-CAT-003", "a quota names the undefined endpoint fx-nowhere", _unknown_quota_endpoint),
    ("RM-CAT-004", "one endpoint priced in EUR, the others in USD", _two_currencies),
    ("RM-CAT-005", "an empty ladder tier", _empty_tier),
    ("RM-CAT-005", "a min_difficulty above the one of the tier above it", _falling_min_difficulty),
    ("RM-CAT-009", "a client model rule with an empty pattern", _empty_model_pattern),
    ("RM-CAT-009", "a client model rule for an undefined role", _model_rule_unknown_role),
)


def _launcher(ctx: CheckContext) -> RouterLauncher:
    if ctx.run.launcher is None:
        raise CapabilityNotClaimed("start-up is seen only in the harness mode")
    return ctx.run.launcher


def _fixture(ctx: CheckContext) -> Catalog:
    """The run's fixture (backends on the run's ports) as the proto3 JSON mapping, to be broken and written."""
    data: Catalog = json_format.MessageToDict(ctx.fixture.catalog, preserving_proto_field_name=True)
    return data


def _describe(started: StartUp) -> str:
    said = " ".join(started.printed.split())[-QUOTED:] or "nothing"
    if started.served:
        return f"it started serving (it printed: {said})"
    if started.exit_code is None:
        return f"it neither served nor exited (it printed: {said})"
    return f"it exited with status {started.exit_code} (it printed: {said})"


def _refused(started: StartUp) -> bool:
    return not started.served and started.exit_code not in (None, 0)


@check(
    "start-up",
    "A router refuses to start on a catalog with any defect of spec 3, and starts on the fixture",
    ("RM-CAT-001", "RM-CAT-002", "RM-CAT-003", "RM-CAT-004", "RM-CAT-005", "RM-CAT-009"),
    needs_profile=False,
)
def refuses_bad_catalogs(ctx: CheckContext) -> None:
    launcher = _launcher(ctx)
    good = launcher.start_up(yaml.safe_dump(_fixture(ctx), sort_keys=False))
    for requirement in ("RM-CAT-001", "RM-CAT-002", "RM-CAT-003", "RM-CAT-004", "RM-CAT-005", "RM-CAT-009"):
        if not ctx.wants(requirement):
            continue
        ctx.expect(requirement, good.served, f"the fixture itself, re-serialised, starts: {_describe(good)}")
    for requirement, defect, breaks in BROKEN:
        if not ctx.wants(requirement):
            continue
        catalog = _fixture(ctx)
        breaks(catalog)
        started = launcher.start_up(yaml.safe_dump(catalog, sort_keys=False))
        ctx.expect(
            requirement, _refused(started), f"{defect}: refusing to start means exiting non-zero; {_describe(started)}"
        )


@check(
    "start-up",
    "A refused catalog's problems are all reported, each with its path",
    ("RM-CAT-006",),
    needs_profile=False,
)
def reports_every_problem(ctx: CheckContext) -> None:
    launcher = _launcher(ctx)
    catalog = _fixture(ctx)
    _unknown_endpoint_in_ladder(catalog)
    _two_currencies(catalog)
    started = launcher.start_up(yaml.safe_dump(catalog, sort_keys=False))
    said = started.printed
    ctx.expect(
        "RM-CAT-006",
        _refused(started) and "fx-nowhere" in said and "roles[0].ladder[0]" in said and "currenc" in said.lower(),
        "a catalog with an undefined endpoint in roles[0].ladder[0] and a second currency: both reported at once, "
        f"the first with its path; {_describe(started)}",
    )
