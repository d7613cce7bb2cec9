"""The demo's two scripted backends and the catalog that points the example endpoints at them.

The example catalog is loaded unchanged except for each endpoint's connection: local endpoints
reach the "local server" backend, remote ones the "cloud" backend, in their own dialect, without
API keys. Each model caches as its catalog entry says, so the cached tokens the router expects and
the ones the backend reports can be compared turn by turn.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from rolemodel.v1 import catalog_pb2, common_pb2
from rolemodel_router.backends.scripted import CacheRules, Reply, ScriptedBackend, Step
from rolemodel_router.config.catalog_loader import default_catalog_path, load_catalog

#: What a model answers when the demo did not script the turn for it.
GENERIC_ANSWER = "Understood. (A scripted answer: the demo's backends stand in for real models.)"


@dataclass
class DemoBackends:
    local: ScriptedBackend
    cloud: ScriptedBackend
    catalog_path: Path
    models: dict[str, tuple[ScriptedBackend, str]]  # endpoint id -> (backend, model)

    def script_turn(self, answer: str, faults: dict[str, Step]) -> None:
        """Every model answers ``answer`` this turn, except the endpoints given a fault."""
        for endpoint_id, (backend, model) in self.models.items():
            backend.script(model, [faults.get(endpoint_id, Reply(text=answer, chunk_chars=24))])

    def clear_scripts(self) -> None:
        """Drops what the turn did not use, so the next turn starts from a known script."""
        for backend, model in self.models.values():
            while backend.state.remaining(model):
                backend.state.next_step(model)


def _is_local(endpoint: dict[str, Any]) -> bool:
    return bool(endpoint.get("locality") == "LOCALITY_LOCAL")


def demo_catalog(source: Path, local_url: str, cloud_url: str) -> dict[str, Any]:
    """The example catalog with every endpoint pointed at a scripted backend."""
    document: dict[str, Any] = yaml.safe_load(source.read_text())
    document["name"] = f"{document.get('name', 'catalog')}-demo"
    for endpoint in document["endpoints"]:
        anthropic = endpoint.get("provider_kind") == "PROVIDER_KIND_ANTHROPIC"
        base = local_url if _is_local(endpoint) else cloud_url
        endpoint["connection"] = {
            "base_url": base if anthropic else f"{base}/v1",
            "api_dialect": "API_DIALECT_ANTHROPIC_MESSAGES" if anthropic else "API_DIALECT_OPENAI_CHAT",
        }
    return document


@contextmanager
def running_backends(directory: Path, source: Path | None = None) -> Iterator[DemoBackends]:
    """Both backends started, every model configured, and the demo catalog written to ``directory``."""
    source = source or default_catalog_path()
    with ScriptedBackend() as local, ScriptedBackend() as cloud:
        path = directory / "demo-catalog.yaml"
        path.write_text(yaml.safe_dump(demo_catalog(source, local.base_url, cloud.base_url), sort_keys=False))
        catalog = load_catalog(path).catalog
        models: dict[str, tuple[ScriptedBackend, str]] = {}
        for endpoint in catalog.endpoints:
            backend = local if endpoint.locality == common_pb2.LOCALITY_LOCAL else cloud
            backend.configure(
                endpoint.model,
                cache=CacheRules.from_catalog(endpoint.caching),
                context_window_tokens=endpoint.context_window_tokens or None,
                default=Reply(text=GENERIC_ANSWER),
            )
            models[endpoint.id] = (backend, endpoint.model)
        yield DemoBackends(local, cloud, path, models)


def endpoint_names(catalog: catalog_pb2.Catalog) -> dict[str, str]:
    return {e.id: e.display_name or e.id for e in catalog.endpoints}
