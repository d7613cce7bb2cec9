"""The scripted model backends behind the fixture's endpoints, for the Execute checks.

The fixture's endpoints point at three loopback ports. When a run needs Execute,
the suite starts one scripted backend per port, as a process of its own
(``python -m rolemodel_router.backends.scripted``), and talks to it over its
HTTP control API only: the suite imports nothing from the router package that
ships the backend. Each backend knows every model of its port's endpoints,
caches as the fixture says the endpoint does, and, when one of its endpoints
names ``ROLEMODEL_CONFORMANCE_API_KEY``, requires the documented test key. The
backend of the OpenAI dialect also speaks the Responses API, for fx-responses:
it records each body whole (``store`` included) and answers scripted reasoning
with its ``encrypted_content`` when the request's ``include`` lists
``reasoning.encrypted_content``, and without it otherwise, as OpenAI does. A
router under test therefore reaches a real HTTP server that answers as each
check scripts it, and the checks read back what the backend received.

What can go wrong: a port is taken, or the backend is not installed. Then
``BackendsUnavailable`` says which and why, and the checks that need a backend
are NOT_TESTABLE; they never pass.
"""

from __future__ import annotations

import json
import queue
import subprocess
import sys
import tempfile
import threading
import urllib.error
import urllib.request
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import IO, Any
from urllib.parse import urlsplit

from rolemodel.v1 import catalog_pb2
from rolemodel_conformance.fixture import Fixture

#: The variable the fixture's Anthropic endpoints read their key from, and the test value the router is given.
API_KEY_ENV = "ROLEMODEL_CONFORMANCE_API_KEY"
API_KEY = "rmc-test-key-4f1d9b2e7a3c"
#: A variable the fixture names that must never be set (RM-EXEC-021).
UNSET_KEY_ENV = "ROLEMODEL_CONFORMANCE_UNSET_KEY"
BACKEND_MODULE = "rolemodel_router.backends.scripted"
#: A limit for a backend that never starts; a loaded machine can take 20 s to start Python, so allow more.
START_TIMEOUT_S = 60.0
STOP_TIMEOUT_S = 5.0
CONTROL_TIMEOUT_S = 5.0
_CACHE_MODES = {
    catalog_pb2.CACHE_MODE_AUTOMATIC: "automatic",
    catalog_pb2.CACHE_MODE_EXPLICIT: "explicit",
}

Step = Mapping[str, Any]
Recorded = dict[str, Any]


class BackendsUnavailable(Exception):
    """The scripted backends cannot run here; the message says why and what the operator can do."""


@dataclass(frozen=True)
class Home:
    """Where an endpoint's model answers: its backend's address and the model name it is called by."""

    endpoint_id: str
    host: str
    port: int
    model: str

    @property
    def address(self) -> str:
        return f"{self.host}:{self.port}"


def homes(fixture: Fixture) -> dict[str, Home]:
    """The endpoint id → home of every fixture endpoint with a loopback base URL."""
    out: dict[str, Home] = {}
    for endpoint in fixture.catalog.endpoints:
        url = urlsplit(endpoint.connection.base_url)
        if url.hostname and url.port:
            out[endpoint.id] = Home(endpoint.id, url.hostname, url.port, endpoint.model)
    return out


def _cache(endpoint: catalog_pb2.Endpoint) -> dict[str, Any]:
    caching = endpoint.caching
    mode = _CACHE_MODES.get(caching.mode)
    if mode is None:
        return {"mode": "none"}
    return {
        "mode": mode,
        "min_tokens": caching.min_cacheable_tokens,
        "granularity": max(1, caching.granularity_tokens),
        "ttl_seconds": float(caching.ttl_seconds),
        "refresh_on_hit": caching.refresh_on_hit,
        "includes_output": caching.includes_output,
    }


def setup_document(fixture: Fixture, address: str) -> dict[str, Any]:
    """The script document that sets up the backend at ``address``: its models, their caches, its key."""
    models: dict[str, Any] = {}
    keyed = False
    for endpoint_id, home in homes(fixture).items():
        if home.address != address:
            continue
        endpoint = fixture.endpoints[endpoint_id]
        models[home.model] = {"cache": _cache(endpoint), "context_window_tokens": endpoint.context_window_tokens}
        keyed = keyed or endpoint.connection.api_key_env == API_KEY_ENV
    return {"models": models, **({"api_key": API_KEY} if keyed else {})}


class _Process:
    def __init__(self, address: str) -> None:
        host, port = address.rsplit(":", 1)
        self.address = address
        self.log: IO[str] = tempfile.TemporaryFile(mode="w+")  # noqa: SIM115 - closed in stop()
        command = [sys.executable, "-m", BACKEND_MODULE, "--host", host, "--port", port]
        self.process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=self.log, text=True)  # noqa: S603
        self.first_line: queue.Queue[str] = queue.Queue()
        threading.Thread(target=self._read_first_line, daemon=True).start()

    def _read_first_line(self) -> None:
        stream = self.process.stdout
        self.first_line.put(stream.readline() if stream is not None else "")

    def wait_started(self, timeout_s: float) -> str | None:
        """None once the backend serves, else why it does not."""
        try:
            line = self.first_line.get(timeout=timeout_s)
        except queue.Empty:
            return f"it did not start within {timeout_s:g} s"
        if line.startswith("http://"):
            return None
        self.process.wait(timeout=STOP_TIMEOUT_S)
        self.log.seek(0)
        lines = [text.strip() for text in self.log.read().splitlines() if text.strip()]
        return lines[-1] if lines else f"it exited with status {self.process.returncode}"

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=STOP_TIMEOUT_S)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        if self.process.stdout is not None:
            self.process.stdout.close()
        self.log.close()


class ScriptedBackends:
    """The running backends of one run: script them per endpoint, read back what each endpoint's model received."""

    def __init__(self, fixture: Fixture) -> None:
        self.fixture = fixture
        self.homes = homes(fixture)
        self._processes: list[_Process] = []

    def start(self) -> None:
        """Start every backend, or raise ``BackendsUnavailable`` naming the port and the cause."""
        addresses = sorted({home.address for home in self.homes.values()})
        self._processes = [_Process(address) for address in addresses]
        problems = []
        for process in self._processes:
            why = process.wait_started(START_TIMEOUT_S)
            if why is not None:
                problems.append(f"{process.address}: {why}")
        if problems:
            self.stop()
            hint = "the Execute checks need these loopback ports free and the scripted backend installed"
            raise BackendsUnavailable(f"the suite's scripted backends could not start ({'; '.join(problems)}); {hint}")
        for address in addresses:
            self._control(address, "/_scripted/script", setup_document(self.fixture, address))

    def stop(self) -> None:
        for process in self._processes:
            process.stop()
        self._processes = []

    def _control(self, address: str, path: str, document: object | None = None) -> Any:
        data = None if document is None else json.dumps(document).encode()
        request = urllib.request.Request(
            f"http://{address}{path}",
            data=data,
            method="GET" if data is None else "POST",
            headers={"content-type": "application/json"},
        )
        try:
            with urllib.request.urlopen(request, timeout=CONTROL_TIMEOUT_S) as response:  # noqa: S310
                return json.loads(response.read())
        except (OSError, urllib.error.URLError, ValueError) as error:
            raise BackendsUnavailable(f"the scripted backend at {address} did not answer {path}: {error}") from None

    def reset(self) -> None:
        """Forget earlier scripts and recordings, so that a check starts from a known state."""
        for address in sorted({home.address for home in self.homes.values()}):
            self._control(address, "/_scripted/reset", {})

    def script(self, steps: Mapping[str, Sequence[Step]]) -> None:
        """Append steps to the models of these endpoints; each request to a model takes its next step."""
        documents: dict[str, dict[str, Any]] = {}
        for endpoint_id, endpoint_steps in steps.items():
            home = self.homes[endpoint_id]
            models = documents.setdefault(home.address, {"models": {}})["models"]
            models[home.model] = {"script": list(endpoint_steps)}
        for address, document in documents.items():
            self._control(address, "/_scripted/script", document)

    def set_up(self, setups: Mapping[str, Mapping[str, Any]]) -> None:
        """Change the setup of these endpoints' models (a simulated subscription, for example)."""
        documents: dict[str, dict[str, Any]] = {}
        for endpoint_id, setup in setups.items():
            home = self.homes[endpoint_id]
            documents.setdefault(home.address, {"models": {}})["models"][home.model] = dict(setup)
        for address, document in documents.items():
            self._control(address, "/_scripted/script", document)

    def received(self, endpoint_id: str) -> list[Recorded]:
        """What this endpoint's model received since the last reset, oldest first (the backend's summaries)."""
        home = self.homes[endpoint_id]
        recorded: list[Recorded] = self._control(home.address, "/_scripted/requests")
        return [r for r in recorded if home.model in (r.get("model"), _named_model(r))]


def _named_model(recorded: Recorded) -> object:
    """The model a request named, also when the backend refused it before reading it (a wrong key)."""
    body = recorded.get("body")
    return body.get("model") if isinstance(body, dict) else None
