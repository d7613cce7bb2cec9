"""Everything one decision works with, in one place.

Passing a context instead of a dozen arguments keeps each step of the
algorithm (tiering, choosing, assembling, planning) a small function with a
readable signature.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from rolemodel.v1 import common_pb2, decision_pb2
from rolemodel_router.engine.catalog_index import CatalogIndex
from rolemodel_router.engine.eligibility import Candidate
from rolemodel_router.engine.plans import RouteSnapshot
from rolemodel_router.engine.quota import Window
from rolemodel_router.engine.reasons import Reasons
from rolemodel_router.engine.route_input import RouteInput


@dataclass(frozen=True)
class ShareView:
    target_share: float
    threshold: float
    realized_share: float
    window_size: int


@dataclass(frozen=True)
class Tiering:
    """The tier arithmetic of spec 6.5."""

    difficulty_tier: int
    level: int
    required: int
    share: ShareView | None
    target_share: float


@dataclass
class DecisionContext:
    index: CatalogIndex
    request: RouteInput
    snapshot: RouteSnapshot
    now_ms: int
    decision_id: str
    difficulty: decision_pb2.Difficulty
    tiering: Tiering
    strategy: common_pb2.Strategy.ValueType
    candidates: list[Candidate]
    windows: dict[str, Window]  # every quota's window at decision time
    reasons: Reasons = field(default_factory=Reasons)
    side_placement: str = ""  # why an isolated side request went where it did, among equally priced servers
    #: Endpoints a compact decision leaves out, all off the role's ladder (RM-ROUTE-012).
    omitted: int = 0

    def candidate(self, endpoint_id: str) -> Candidate | None:
        for c in self.candidates:
            if c.endpoint_id == endpoint_id:
                return c
        return None
