"""The benchmark catalog: the bundled example's seven endpoints plus one, all on one role.

Eight endpoints is the size the router benchmarks use; putting every endpoint
on one ladder makes every decision cost, filter and score all eight.
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[1]
BENCH_ROLE = "x-bench.all"


def bench_catalog() -> dict[str, Any]:
    catalog: dict[str, Any] = yaml.safe_load((ROOT / "examples" / "catalog.yaml").read_text())
    extra = copy.deepcopy(next(e for e in catalog["endpoints"] if e["id"] == "gpt-5-mini"))
    extra["id"] = "gpt-5-nano"
    extra["model"] = "gpt-5-nano"
    extra["pricing"] = {
        "currency": "USD",
        "input_per_mtok": "0.05",
        "output_per_mtok": "0.4",
        "cache_read_per_mtok": "0.005",
    }
    catalog["endpoints"].append(extra)
    ids = [e["id"] for e in catalog["endpoints"]]
    catalog["roles"].append(
        {
            "name": BENCH_ROLE,
            "ladder": [{"endpoint_ids": ids[:4]}, {"endpoint_ids": ids[4:], "min_difficulty": 0.7}],
            "default_strategy": "STRATEGY_BALANCED",
            "affinity": {"min_saving": "0.001", "min_saving_ratio": 0.1, "horizon_turns": 3},
            "allow_downgrade": True,
        }
    )
    return catalog


def write_bench_catalog(path: Path) -> Path:
    path.write_text(yaml.safe_dump(bench_catalog(), sort_keys=False))
    return path
