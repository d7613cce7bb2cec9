"""What the generation flow needs from a wire dialect: decode a request, encode an answer or a stream.

The flow (:mod:`.generation`) is the same for every dialect: authenticate, decode, resolve
hints, execute, answer. Only the wire shapes differ, and they come from the SDK codecs in
:mod:`rolemodel.dialects` behind these two small interfaces, implemented in
:mod:`.openai_routes`, :mod:`.responses_routes` and :mod:`.anthropic_routes`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Protocol

from rolemodel.dialects.canonical import CanonicalRequest, Completion
from rolemodel.dialects.json_fields import JSONObject
from rolemodel.v1 import router_service_pb2
from rolemodel_router.http.errors import Dialect, HttpError


class StreamWriter(Protocol):
    """Turns one Execute stream into the dialect's SSE frames, in order; each method returns bytes to send."""

    def opening(self, rolemodel: JSONObject | None) -> bytes:
        """The frames before the first delta; ``rolemodel`` (the explained decision) rides on the first."""
        ...

    def delta(self, delta: router_service_pb2.ContentDelta) -> bytes: ...

    def plan_usage(self, events: list[dict[str, Any]]) -> bytes:
        """The provider's usage events for the client's own plan (spec 14.5), in a dialect that has them."""
        ...

    def closing(self, completed: router_service_pb2.ExecuteCompleted, rolemodel: JSONObject) -> bytes:
        """The frames after the last delta; ``rolemodel`` (the completion summary) rides on the last event."""
        ...

    def error(self, error: HttpError) -> bytes:
        """The frame that ends a stream on a failure after its status was sent."""
        ...


class DialectCodec(Protocol):
    dialect: Dialect

    def decode(self, body: Mapping[str, Any]) -> CanonicalRequest:
        """The canonical request; raises DialectError for a body the dialect does not allow."""
        ...

    def response_id(self, decision_id: str) -> str:
        """The dialect's response id for a decision, so that a response names its decision."""
        ...

    def encode(self, completion: Completion, body: Mapping[str, Any]) -> JSONObject:
        """The answer body; ``body`` is the client's request, for dialects whose answer repeats parts of it."""
        ...

    def writer(self, response_id: str, model: str, body: Mapping[str, Any]) -> StreamWriter: ...
