"""Optional capabilities the router is told not to claim (``rolemodel serve --withhold-capability``).

Every combination of optional capabilities is a legal router (spec 1.2), and a
conformance suite must judge each one fairly. This module makes the reference
router one of those smaller routers, so that the suite can be run against it:

* the card stops claiming the capability;
* a call that needs it is refused with ``CAPABILITY_NOT_SUPPORTED`` (spec 1.3
  lists which calls need which capability: the core does that refusing);
* where the capability is a catalog policy that no request asks for, the
  router stops applying it: without ``ROUTER_CAPABILITY_QUOTA`` quotas are not
  enforced, without ``ROUTER_CAPABILITY_SHARE_TARGET`` premium-share targets
  are not controlled. The card still publishes the catalog as loaded (the
  policies are not part of the card), and the catalog digest stays the digest
  of the catalog as loaded.

Capabilities whose rules are woven into every decision (cache accounting,
affinity, escalation) keep their behaviour and only lose the claim: a router
may apply a rule it does not claim; the suite then checks none of it.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TypeAlias

from rolemodel.v1 import card_pb2, catalog_pb2
from rolemodel_router.config.catalog_loader import LoadedCatalog

RouterCapability: TypeAlias = card_pb2.RouterCapability.ValueType
#: What a router can be told to withhold: every capability but AUTH, which tokens switch on.
WITHHOLDABLE = tuple(
    name.removeprefix("ROUTER_CAPABILITY_").lower()
    for name in card_pb2.RouterCapability.keys()  # noqa: SIM118 - an enum wrapper, not a dict
    if name not in ("ROUTER_CAPABILITY_UNSPECIFIED", "ROUTER_CAPABILITY_AUTH")
)


def parse_withheld(names: Iterable[str]) -> frozenset[RouterCapability]:
    """``["dry_run", "QUOTA", "all"]`` → capability values; ValueError naming what is not withholdable."""
    chosen: set[RouterCapability] = set()
    for raw in names:
        name = raw.strip().lower().removeprefix("router_capability_")
        if name == "all":
            chosen.update(card_pb2.RouterCapability.Value(f"ROUTER_CAPABILITY_{n.upper()}") for n in WITHHOLDABLE)
        elif name in WITHHOLDABLE:
            chosen.add(card_pb2.RouterCapability.Value(f"ROUTER_CAPABILITY_{name.upper()}"))
        else:
            raise ValueError(f"cannot withhold {raw!r}: choose from {', '.join(WITHHOLDABLE)} or all")
    return frozenset(chosen)


def claimed(
    capabilities: Iterable[RouterCapability], withheld: frozenset[RouterCapability]
) -> tuple[RouterCapability, ...]:
    """The claims left, in their order."""
    return tuple(c for c in capabilities if c not in withheld)


def engine_catalog(loaded: LoadedCatalog, withheld: frozenset[RouterCapability]) -> LoadedCatalog:
    """The catalog the engine decides with: the policies of withheld capabilities removed, digest unchanged."""
    strip_quotas = card_pb2.ROUTER_CAPABILITY_QUOTA in withheld
    strip_shares = card_pb2.ROUTER_CAPABILITY_SHARE_TARGET in withheld
    if not (strip_quotas or strip_shares):
        return loaded
    catalog = catalog_pb2.Catalog()
    catalog.CopyFrom(loaded.catalog)
    if strip_quotas:
        catalog.policies.ClearField("quotas")
        for target in catalog.policies.premium_share_targets:
            target.ClearField("pace_quota_id")
    if strip_shares:
        catalog.policies.ClearField("premium_share_targets")
    return LoadedCatalog(catalog, loaded.digest, loaded.source)
