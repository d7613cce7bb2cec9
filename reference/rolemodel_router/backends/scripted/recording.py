"""What the scripted backend received, kept for the test's assertions."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from rolemodel.dialects.canonical import CanonicalRequest
from rolemodel.v1 import outcome_pb2
from rolemodel_router.backends.scripted.script import Step


@dataclass(frozen=True)
class RecordedRequest:
    """One request, as received and as answered.

    ``request`` is the decoded canonical request (``None`` when the body did not decode);
    ``step`` the scripted reply or fault it consumed (``None`` when it was refused before, for
    example an unknown model); ``status`` the HTTP status sent; ``usage`` the usage reported, in
    the canonical convention, with the cache simulation's read and write tokens; ``abandoned``
    whether the client disconnected while the response hung (a scripted hang).
    """

    sequence: int
    method: str
    path: str
    dialect: str
    headers: Mapping[str, str]
    body: bytes
    received_at: float
    request: CanonicalRequest | None = None
    step: Step | None = None
    status: int = 0
    prompt_tokens: int = 0
    usage: outcome_pb2.Usage | None = None
    error: str = ""
    abandoned: bool = False

    @property
    def model(self) -> str:
        return self.request.model if self.request else ""

    @property
    def stream(self) -> bool:
        return bool(self.request and self.request.stream)

    def json(self) -> Any:
        """The body as JSON; raises ValueError when it is not."""
        return json.loads(self.body)

    def summary(self) -> dict[str, Any]:
        """A JSON-friendly view, served by ``GET /_scripted/requests`` to tests in other processes."""
        usage = self.usage
        return {
            "sequence": self.sequence,
            "path": self.path,
            "dialect": self.dialect,
            "model": self.model,
            "stream": self.stream,
            "status": self.status,
            "outcome": type(self.step).__name__.lower() if self.step else "refused",
            "fault": getattr(self.step, "kind", None),
            "prompt_tokens": self.prompt_tokens,
            "usage": None
            if usage is None
            else {
                "input_tokens": usage.input_tokens,
                "cache_read_tokens": usage.cache_read_tokens,
                "cache_write_tokens": usage.cache_write_tokens,
                "output_tokens": usage.output_tokens,
            },
            "error": self.error,
            "abandoned": self.abandoned,
            "headers": dict(self.headers),
            "body": self._document(),
        }

    def _document(self) -> Any:
        """The request body as JSON, or None when it was not JSON."""
        try:
            return self.json()
        except ValueError:
            return None
