"""Collects a decision's reasons in the order their rules applied."""

from __future__ import annotations

from rolemodel.v1 import decision_pb2


class Reasons:
    def __init__(self) -> None:
        self.messages: list[decision_pb2.SelectionReason] = []

    def add(self, code: decision_pb2.ReasonCode.ValueType, detail: str, **attributes: str) -> None:
        self.messages.append(decision_pb2.SelectionReason(code=code, detail=detail, attributes=attributes))

    def codes(self) -> list[decision_pb2.ReasonCode.ValueType]:
        return [m.code for m in self.messages]
