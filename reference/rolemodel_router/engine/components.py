"""The terms of a candidate's score, as plain tuples until the decision is assembled."""

from __future__ import annotations

from typing import NamedTuple, TypeAlias

from rolemodel.v1 import common_pb2, decision_pb2

Metric: TypeAlias = decision_pb2.ScoreMetric.ValueType
Source: TypeAlias = common_pb2.ValueSource.ValueType


class Component(NamedTuple):
    """One term of a score, in the field order of rolemodel.v1.ScoreComponent."""

    metric: Metric
    raw_value: float
    normalized: float
    weight: float
    source: Source

    def fields(self) -> dict[str, float | int]:
        return {
            "metric": self.metric,
            "raw_value": self.raw_value,
            "normalized": self.normalized,
            "weight": self.weight,
            "source": self.source,
        }
