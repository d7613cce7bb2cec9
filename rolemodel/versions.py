"""Protocol versions and their negotiation (spec chapter 2).

The version travels in the gRPC metadata key ``rolemodel-version`` as
``Major.Minor``. A router serves a set of versions; a client sends the one it
speaks. Minor versions only add, so a router that serves 1.3 also serves 1.0
to 1.2 unless it says otherwise in its card.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

METADATA_KEY = "rolemodel-version"
CURRENT_VERSION = "1.0"
#: Every version this SDK can speak, newest first.
SUPPORTED_VERSIONS: tuple[str, ...] = ("1.0",)

_VERSION = re.compile(r"^(0|[1-9][0-9]{0,3})\.(0|[1-9][0-9]{0,3})$")


@dataclass(frozen=True, order=True)
class ProtocolVersion:
    major: int
    minor: int

    def __str__(self) -> str:
        return f"{self.major}.{self.minor}"


def parse_version(text: str) -> ProtocolVersion:
    """Parse ``Major.Minor``; raises ValueError for anything else (no "v1", no "1.0.0")."""
    match = _VERSION.match(text)
    if match is None:
        raise ValueError(f"not a Major.Minor protocol version: {text!r}")
    return ProtocolVersion(int(match.group(1)), int(match.group(2)))


def is_supported(text: str, supported: tuple[str, ...] | list[str] = SUPPORTED_VERSIONS) -> bool:
    """Whether ``text`` is well formed and listed in ``supported``."""
    try:
        requested = parse_version(text)
    except ValueError:
        return False
    return any(parse_version(v) == requested for v in supported)


def choose_version(router_versions: list[str] | tuple[str, ...]) -> str | None:
    """The newest version both this SDK and a router (from its card) speak."""
    ours = {parse_version(v) for v in SUPPORTED_VERSIONS}
    common = sorted((parse_version(v) for v in router_versions if _VERSION.match(v)), reverse=True)
    for version in common:
        if version in ours:
            return str(version)
    return None
