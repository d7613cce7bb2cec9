"""Which endpoints Execute can call: a key variable that is not set leaves an endpoint out (spec 10.3).

A missing key is a fact of the router's set-up, not a failure of the endpoint, so it never reaches
the backend-failure path (attempt failed, cooldown). The router reports it once per endpoint when
it starts, and each Execute decision excludes the endpoint with ``NOT_CONFIGURED``. The set is
read from the environment on every call, which costs one lookup per keyed endpoint and keeps
Execute right if the operator's environment changes under a running router (tests do that).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping

from rolemodel.v1 import catalog_pb2

log = logging.getLogger("rolemodel.router")


def unconfigured_endpoints(catalog: catalog_pb2.Catalog, environ: Mapping[str, str]) -> frozenset[str]:
    """The ids of endpoints whose connection names a key variable that is unset or empty."""
    return frozenset(
        e.id for e in catalog.endpoints if e.connection.api_key_env and not environ.get(e.connection.api_key_env)
    )


def report_unconfigured(catalog: catalog_pb2.Catalog, environ: Mapping[str, str]) -> list[str]:
    """Log one warning per endpoint without its key, naming the variable (never a value); returns the lines."""
    missing = unconfigured_endpoints(catalog, environ)
    lines = []
    for endpoint in catalog.endpoints:
        if endpoint.id in missing:
            variable = endpoint.connection.api_key_env
            line = f"endpoint '{endpoint.id}' is not configured: {variable} is not set; Execute leaves it out"
            log.warning(line, extra={"endpoint": endpoint.id, "api_key_env": variable})
            lines.append(line)
    return lines
