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

* the rules of the other optional capabilities are switched off in the
  engine (``withhold_rules``): without ``ROUTER_CAPABILITY_AFFINITY`` the
  strategy's best is chosen whatever the conversation's current endpoint,
  tool loops included; without ``ROUTER_CAPABILITY_ESCALATION`` outcomes move
  no escalation level; without ``ROUTER_CAPABILITY_CACHE_ACCOUNTING`` every
  estimate is cold, as nothing is known to be cached. So the suite's SKIP of
  their requirements describes a router that really lacks them.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TypeAlias

from rolemodel.v1 import card_pb2, catalog_pb2
from rolemodel_router.config.catalog_loader import LoadedCatalog
from rolemodel_router.engine.catalog_index import CatalogIndex

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


def withhold_rules(index: CatalogIndex, withheld: frozenset[RouterCapability]) -> CatalogIndex:
    """Switch off in ``index`` the engine rules of the withheld capabilities that no catalog policy carries."""
    index.applies_affinity = card_pb2.ROUTER_CAPABILITY_AFFINITY not in withheld
    index.applies_escalation = card_pb2.ROUTER_CAPABILITY_ESCALATION not in withheld
    index.tracks_cache = card_pb2.ROUTER_CAPABILITY_CACHE_ACCOUNTING not in withheld
    return index


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
