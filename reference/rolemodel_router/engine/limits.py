"""Request limits (spec 5.3), published in the card and enforced by validation."""

from __future__ import annotations

from dataclasses import dataclass

from rolemodel.v1 import card_pb2

#: Largest token count accepted for one message or for the tools.
MAX_COUNT_TOKENS = 1 << 24
#: Largest prompt, in tokens.
MAX_PROMPT_TOKENS = (1 << 31) - 1
#: Longest decision id the router accepts in a request.
MAX_DECISION_ID = 64
MAX_HORIZON_TURNS = 1000
MAX_FORCE_LEVEL = 64


@dataclass(frozen=True)
class Limits:
    max_request_bytes: int = 16 * 1024 * 1024
    max_messages: int = 4096
    max_string_bytes: int = 256
    max_text_bytes: int = 4 * 1024 * 1024
    max_labels: int = 64

    def to_proto(self) -> card_pb2.RouterLimits:
        return card_pb2.RouterLimits(
            max_request_bytes=self.max_request_bytes,
            max_messages=self.max_messages,
            max_string_bytes=self.max_string_bytes,
            max_text_bytes=self.max_text_bytes,
            max_labels=self.max_labels,
        )

    @property
    def transport_max_bytes(self) -> int:
        """The gRPC receive limit: well above the protocol limit, so that oversize gets a precise error.

        A request the transport refuses gets a bare RESOURCE_EXHAUSTED with no ErrorInfo (RM-HINT-010
        allows it, but a client cannot tell it from a quota); one between the two limits is read and
        refused with REQUEST_TOO_LARGE and its metadata. Four times the limit (64 MiB above it at the
        default) covers the oversize requests clients send by mistake while still bounding the memory
        one call can take.
        """
        return self.max_request_bytes * 4 + 16 * 1024 * 1024
