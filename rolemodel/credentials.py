"""A client's own credential for subscription endpoints, as it travels over gRPC (spec 12.4).

Some endpoints are not paid by the router's key but by the user's subscription: a ChatGPT plan
used through Codex, a Claude plan used through Claude Code. The catalog marks them with
``EndpointConnection.client_credential_headers``, and ``Execute`` calls them with those headers
exactly as the client gave them. Over gRPC a header ``<name>`` travels as the metadata
``rolemodel-credential-<name>``, so it can never be mistaken for the router's own
``authorization`` metadata, and it stays out of the request message, which routers record.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

#: The metadata key of the client credential header ``<name>`` is this prefix plus the name.
CREDENTIAL_METADATA_PREFIX = "rolemodel-credential-"


def credential_metadata(headers: Mapping[str, str]) -> list[tuple[str, str]]:
    """gRPC metadata that carries ``headers`` (for example ``{"authorization": "Bearer …"}``) to ``Execute``."""
    return [(CREDENTIAL_METADATA_PREFIX + name.lower(), value) for name, value in headers.items()]


def credential_from_metadata(metadata: Iterable[tuple[str, str | bytes]]) -> dict[str, str]:
    """The credential headers among gRPC metadata, by header name; the inverse of :func:`credential_metadata`."""
    headers: dict[str, str] = {}
    for key, value in metadata:
        name = key.lower()
        if name.startswith(CREDENTIAL_METADATA_PREFIX) and isinstance(value, str):
            headers[name.removeprefix(CREDENTIAL_METADATA_PREFIX)] = value
    return headers
