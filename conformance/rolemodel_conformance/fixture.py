"""The conformance fixture catalog, and the comparison that confirms a router runs it (RM-CONF-001, -002).

Every expectation of the suite follows from the spec and this file alone, so
the suite reads the same file the router under test was started with (it is
shipped inside the package). Before any behaviour is checked, the router's
card must publish exactly the fixture's endpoints and roles.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import yaml
from google.protobuf import json_format

from rolemodel import cost
from rolemodel.v1 import card_pb2, catalog_pb2
from rolemodel_conformance.registry import read_data


@dataclass(frozen=True)
class Fixture:
    catalog: catalog_pb2.Catalog

    @property
    def name(self) -> str:
        return self.catalog.name

    @functools.cached_property
    def endpoints(self) -> dict[str, catalog_pb2.Endpoint]:
        return {e.id: e for e in self.catalog.endpoints}

    @functools.cached_property
    def roles(self) -> dict[str, catalog_pb2.Role]:
        return {r.name: r for r in self.catalog.roles}

    @property
    def endpoint_order(self) -> list[str]:
        return [e.id for e in self.catalog.endpoints]

    def economics(self, endpoint_id: str) -> cost.EndpointEconomics:
        return cost.economics_from_endpoint(self.endpoints[endpoint_id])

    def tier_of(self, role: str, endpoint_id: str) -> int | None:
        for tier, rung in enumerate(self.roles[role].ladder):
            if endpoint_id in rung.endpoint_ids:
                return tier
        return None

    def quality(self, endpoint_id: str, role: str) -> float | None:
        endpoint = self.endpoints[endpoint_id]
        if role in endpoint.role_quality:
            return endpoint.role_quality[role]
        return endpoint.default_quality if endpoint.HasField("default_quality") else None

    def quotas_of(self, endpoint_id: str) -> list[catalog_pb2.Quota]:
        return [q for q in self.catalog.policies.quotas if q.endpoint_id == endpoint_id]


@functools.cache
def load_fixture() -> Fixture:
    """The fixture as shipped with the suite; raises ValueError if the file does not parse as a Catalog."""
    data = yaml.safe_load(read_data("fixture_catalog.yaml"))
    catalog = json_format.ParseDict(data, catalog_pb2.Catalog())
    return Fixture(catalog)


def profile_differences(card: card_pb2.RouterCard, fixture: Fixture) -> list[str]:
    """How the card's endpoints and roles differ from the fixture's; empty when the router runs the profile.

    Endpoints are compared field by field with ``connection`` cleared, since a
    card never shows it (RM-CARD-003). Order matters: candidates are listed in
    catalog order (RM-ROUTE-002), so a reordered catalog is a different profile.
    """
    problems: list[str] = []
    card_endpoints = [p.endpoint for p in card.endpoints]
    want_ids = fixture.endpoint_order
    got_ids = [e.id for e in card_endpoints]
    if got_ids != want_ids:
        problems.append(f"endpoints are {got_ids}, the fixture has {want_ids}")
    for got in card_endpoints:
        want = fixture.endpoints.get(got.id)
        if want is None:
            continue
        expected = catalog_pb2.Endpoint()
        expected.CopyFrom(want)
        expected.ClearField("connection")
        shown = catalog_pb2.Endpoint()
        shown.CopyFrom(got)
        shown.ClearField("connection")
        if shown != expected:
            problems.append(f"endpoint '{got.id}' differs from the fixture")
    got_roles = [r.name for r in card.roles]
    want_roles = [r.name for r in fixture.catalog.roles]
    if sorted(got_roles) != sorted(want_roles):
        problems.append(f"roles are {sorted(got_roles)}, the fixture has {sorted(want_roles)}")
    for role in card.roles:
        want_role = fixture.roles.get(role.name)
        if want_role is not None and role != want_role:
            problems.append(f"role '{role.name}' differs from the fixture")
    return problems
