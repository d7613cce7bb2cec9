"""The worked case of spec 6.7.1, reproduced from examples/local-pool.yaml.

A main agent, a sub-agent and their side requests share a big and a small
local server with two slots each. Each step's choice and the figures the spec's
table quotes come from the router, so the table cannot drift from the code.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from rolemodel.v1 import decision_pb2, hints_pb2
from rolemodel_router.config.catalog_loader import load_catalog
from rolemodel_router.core import RouterCore
from rolemodel_router.engine.catalog_index import CatalogIndex
from rolemodel_router.state.in_process import InProcessStore
from tests.requests import conversation, route

ROOT = Path(__file__).resolve().parents[2]
POOL = CatalogIndex(load_catalog(ROOT / "examples" / "local-pool.yaml"))
D = decision_pb2
ISOLATED = hints_pb2.SideRequest(merge_back=False)
#: (conversation, token counts, turn index, difficulty, expected output, side request)
STEPS = (
    ("main", [38_000], 0, 0.8, 400, False),
    ("sub", [12_000], 0, 0.2, 400, False),
    ("main", [600], 0, 0.1, 20, True),
    ("main", [38_000, 400, 200], 1, 0.2, 150, False),
    ("sub", [800], 0, 0.1, 30, True),
    ("sub", [12_000, 400, 300], 1, 0.2, 400, False),
)


def _session() -> list[D.Decision]:
    now = [1_700_000_000_000]

    def clock() -> int:
        now[0] += 1_000
        return now[0]

    core = RouterCore(POOL, InProcessStore(), clock=clock)

    async def run() -> list[D.Decision]:
        decisions = []
        for conv, counts, turn, difficulty, output, side in STEPS:
            extra: dict[str, Any] = {"side_request": ISOLATED} if side else {}
            request = route(
                "code.edit",
                conversation(conv, counts, turn_index=turn, seed=conv),
                difficulty=difficulty,
                expected_output=output,
                **extra,
            )
            decisions.append(await core.route(core.validate_route(request)))
        return decisions

    return asyncio.run(run())


def _total_s(decision: D.Decision, endpoint_id: str) -> float:
    c = next(c for c in decision.candidates if c.endpoint_id == endpoint_id)
    return round(c.latency.total_ms / 1000, 1)


def _reason(decision: D.Decision, code: int) -> str:
    return next(r.detail for r in decision.reasons if r.code == code)


def test_the_worked_case_of_the_spec() -> None:
    steps = _session()
    assert [d.chosen_endpoint_id for d in steps] == [
        "local-big",
        "local-small",
        "local-small",
        "local-big",
        "local-big",
        "local-small",
    ]
    assert "cold prefill of 38,000 tokens on 'local-big', first token in about 95 s" in _reason(
        steps[0], D.REASON_CODE_PREFILL_TIME
    )
    assert (_total_s(steps[1], "local-small"), round(_total_s(steps[1], "local-big"))) == (11.1, 64)
    assert (_total_s(steps[2], "local-small"), _total_s(steps[2], "local-big")) == (0.7, 3.4)
    assert (_total_s(steps[3], "local-big"), _total_s(steps[3], "local-small")) == (13.2, 20.9)
    warm = next(c for c in steps[3].candidates if c.endpoint_id == "local-big")
    assert warm.latency.prefill_tokens == 200
    assert _total_s(steps[4], "local-big") == 4.8
    small = next(c for c in steps[4].candidates if c.endpoint_id == "local-small")
    assert small.cache.evicts_tokens == 12_400 and round(small.latency.eviction_ms / 1000, 1) == 4.4
    assert "goes where the time, evictions included, is least: 'local-big'" in _reason(
        steps[4], D.REASON_CODE_SIDE_REQUEST_ISOLATED
    )
    sub = next(c for c in steps[5].candidates if c.endpoint_id == "local-small")
    assert sub.cost.cached_tokens == 12_400 and sub.latency.prefill_tokens == 300
    assert _total_s(steps[5], "local-small") == 6.9
    big = next(c for c in steps[5].candidates if c.endpoint_id == "local-big")
    assert round(big.latency.eviction_ms / 1000) == 97


def test_a_switch_between_free_servers_must_save_time() -> None:
    """Current big and warm, best small and cold: the saving in seconds decides (RM-AFF-006)."""
    now = [1_700_000_000_000]

    def clock() -> int:
        now[0] += 1_000
        return now[0]

    core = RouterCore(POOL, InProcessStore(), clock=clock)

    async def run() -> D.Decision:
        await core.route(core.validate_route(route("code.edit", conversation("c", [4_000]), difficulty=0.9)))
        long_answer = route("code.edit", conversation("c", [4_000, 300, 100], turn_index=1), difficulty=0.1)
        return await core.route(core.validate_route(long_answer))

    moved = asyncio.run(run())
    assert moved.chosen_endpoint_id == "local-small"
    switched = next(r for r in moved.reasons if r.code == D.REASON_CODE_AFFINITY_SWITCHED_SAVING)
    assert int(switched.attributes["saving_ms"]) > 0 and "both cost the same" in switched.detail
