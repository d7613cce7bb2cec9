"""Collects a decision's reasons in the order their rules applied.

Reasons stay plain tuples until the decision is assembled, so that a refused
request does not pay for messages it never sends.
"""

from __future__ import annotations

from rolemodel.v1 import decision_pb2


class Reasons:
    def __init__(self) -> None:
        self.items: list[tuple[decision_pb2.ReasonCode.ValueType, str, dict[str, str]]] = []

    def add(self, code: decision_pb2.ReasonCode.ValueType, detail: str, **attributes: str) -> None:
        self.items.append((code, detail, attributes))

    def codes(self) -> list[decision_pb2.ReasonCode.ValueType]:
        return [code for code, _, _ in self.items]

    @property
    def messages(self) -> list[decision_pb2.SelectionReason]:
        return [decision_pb2.SelectionReason(code=c, detail=d, attributes=a) for c, d, a in self.items]
