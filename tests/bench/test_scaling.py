"""The scaling benchmark's catalogs are valid and its report has the keys and ratios it promises."""

from __future__ import annotations

import asyncio

from bench.scaling import CATALOG_ROLE, CATALOG_SIZES, CONVERSATION_LENGTHS, ROLE_SIZE, run, scaled_catalog
from rolemodel_router.config.catalog_loader import parse_catalog
from rolemodel_router.engine.catalog_index import CatalogIndex

SERIES = {
    "conversation_included": CONVERSATION_LENGTHS,
    "conversation_digest_only": CONVERSATION_LENGTHS,
    "catalog": CATALOG_SIZES,
    "catalog_full_candidates": CATALOG_SIZES,
}


def test_every_catalog_size_loads_with_a_five_endpoint_role_for_the_requests() -> None:
    for size in CATALOG_SIZES:
        index = CatalogIndex(parse_catalog(scaled_catalog(size), f"scaling-{size}"))
        assert len(index.endpoint_order) == size
        assert len(index.roles[CATALOG_ROLE].tier_of) == ROLE_SIZE
        assert len(index.roles) == -(-size // ROLE_SIZE)


def test_a_one_round_run_reports_each_series_by_size_with_ratios_to_the_smallest() -> None:
    results = asyncio.run(run(rounds=1))
    for series, sizes in SERIES.items():
        figures = results[series]
        assert list(figures) == [str(size) for size in sizes]
        smallest = figures[str(sizes[0])]
        assert smallest["ratio"] == 1.0
        for values in figures.values():
            assert values["us_per_route"] > 0
            assert abs(values["ratio"] - values["us_per_route"] / smallest["us_per_route"]) < 0.011  # both rounded
