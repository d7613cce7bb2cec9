"""The conformance fixture catalog, and the comparison that confirms a router runs it (RM-CONF-001, -002).

Every expectation of the suite follows from the spec and this file alone, so
the suite reads the same file the router under test was started with (it is
shipped inside the package). Before any behaviour is checked, the router's
card must publish exactly the fixture's endpoints and roles.
"""

from __future__ import annotations

import functools
import re
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


#: The loopback ports of the three scripted backends as the shipped fixture names them.
DEFAULT_BACKEND_PORTS: tuple[int, int, int] = (18081, 18082, 18083)
MAX_PORT = 65535
_BACKEND_ADDRESS = re.compile(r"127\.0\.0\.1:(1808[123])\b")


def parse_backend_ports(text: str) -> tuple[int, int, int]:
    """``A,B,C`` → three distinct TCP ports; ValueError with a sentence a user can act on otherwise."""
    parts = [p.strip() for p in text.split(",")]
    if len(parts) != len(DEFAULT_BACKEND_PORTS) or not all(p.isdigit() for p in parts):
        raise ValueError(f"--backend-ports takes three ports separated by commas, like 19081,19082,19083: {text!r}")
    ports = tuple(int(p) for p in parts)
    if not all(1 <= p <= MAX_PORT for p in ports) or len(set(ports)) != len(ports):
        raise ValueError(f"--backend-ports needs three different ports between 1 and {MAX_PORT}; got {text!r}")
    return ports[0], ports[1], ports[2]


def fixture_text(ports: tuple[int, int, int] = DEFAULT_BACKEND_PORTS) -> str:
    """The fixture catalog with its backends on ``ports``: what the router under test must load.

    Only the loopback addresses of the three backends change (in the
    connections and in the comment that lists them), in one pass, so that any
    permutation of ports maps correctly. A card never shows ``connection``, so
    a router started with the moved catalog still runs the conformance profile.
    """
    moved = dict(zip(DEFAULT_BACKEND_PORTS, ports, strict=True))
    return _BACKEND_ADDRESS.sub(lambda m: f"127.0.0.1:{moved[int(m.group(1))]}", read_data("fixture_catalog.yaml"))


@functools.cache
def load_fixture(ports: tuple[int, int, int] = DEFAULT_BACKEND_PORTS) -> Fixture:
    """The fixture as shipped with the suite, its backends on ``ports``; ValueError if it does not parse."""
    data = yaml.safe_load(fixture_text(ports))
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
