"""The record of what a handoff changed: one entry per transform kind, with the affected messages.

RM-HANDOFF-001 asks for every transform with the indexes of the messages it touched. Collecting
them by kind while the messages are rewritten keeps the plan short (one entry per kind) and in a
fixed order, so two routers that apply the same rules produce the same plan.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TypeAlias

from rolemodel.v1 import decision_pb2

Kind: TypeAlias = decision_pb2.HandoffTransformKind.ValueType


@dataclass(slots=True)
class _Entry:
    indexes: list[int] = field(default_factory=list)
    details: list[str] = field(default_factory=list)


@dataclass(slots=True)
class TransformLog:
    """Transforms by kind, each with sorted unique message indexes and the details that explain it."""

    _entries: dict[Kind, _Entry] = field(default_factory=dict)

    def add(self, kind: Kind, index: int, detail: str) -> None:
        entry = self._entries.setdefault(kind, _Entry())
        if not entry.indexes or entry.indexes[-1] != index:
            entry.indexes.append(index)
        if detail not in entry.details:
            entry.details.append(detail)

    def add_many(self, kind: Kind, indexes: list[int], detail: str) -> None:
        for index in indexes:
            self.add(kind, index, detail)

    def __bool__(self) -> bool:
        return bool(self._entries)

    def to_proto(self) -> list[decision_pb2.HandoffTransform]:
        return [
            decision_pb2.HandoffTransform(
                kind=kind, message_indexes=sorted(set(entry.indexes)), detail="; ".join(entry.details)
            )
            for kind, entry in sorted(self._entries.items())
        ]
