"""The harness mode: the suite starts the router itself (``--router-command``), so it can see start-up.

    rolemodel-conformance --router-command "my-router --catalog {catalog} --listen {address}"

The command is a template: ``{catalog}`` becomes a file holding the catalog to
load (the fixture, with the backends on the run's ports, or a broken variant of
it) and ``{address}`` a free loopback HOST:PORT to serve gRPC on. An optional
``{state}`` becomes an empty directory for the router's state; a template with
it claims durable state (spec 6.1), and the suite then restarts the router on
the same directory to see that decisions and outcomes survive. The command
runs without a shell, in the suite's environment plus the conformance profile's
(the test API key set, the never-set key unset), so the router under test is
started exactly as docs/conformance.md asks.

What can go wrong: the template lacks a placeholder, names a program that does
not exist, or the router never serves; each is a ``HarnessError`` with one
sentence, and no verdict is made.
"""

from __future__ import annotations

import os
import shlex
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc

from rolemodel_conformance.backends import API_KEY, API_KEY_ENV, UNSET_KEY_ENV
from rolemodel_conformance.connect import HarnessError

PLACEHOLDERS = ("{catalog}", "{address}")
#: The optional placeholder of a state directory: the claim of durable state.
STATE_PLACEHOLDER = "{state}"
STOP_TIMEOUT_S = 10.0
#: How long a router may take to give up on a bad catalog, or to serve a good one.
DECIDE_TIMEOUT_S = 60.0
POLL_S = 0.1


def free_address() -> str:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return f"127.0.0.1:{sock.getsockname()[1]}"


def _serving(address: str) -> bool:
    with grpc.insecure_channel(address) as channel:
        try:
            answer = health_pb2_grpc.HealthStub(channel).Check(health_pb2.HealthCheckRequest(service=""), timeout=0.5)
        except grpc.RpcError:
            return False
    return bool(answer.status == health_pb2.HealthCheckResponse.SERVING)


@dataclass
class Launched:
    """One started router process: its address and what it printed."""

    address: str
    process: subprocess.Popen[bytes]
    output: IO[bytes]

    def printed(self) -> str:
        self.output.seek(0)
        return self.output.read().decode(errors="replace")

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=STOP_TIMEOUT_S)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.output.close()


@dataclass(frozen=True)
class StartUp:
    """How a start on a given catalog ended: it served, or it exited (with its code and what it printed)."""

    served: bool
    exit_code: int | None
    printed: str


@dataclass
class RouterLauncher:
    """Starts the router under test from the command template, on catalogs the suite writes."""

    template: str
    _scratch: tempfile.TemporaryDirectory[str] = field(
        default_factory=lambda: tempfile.TemporaryDirectory(prefix="rmc-")
    )
    _count: int = 0

    def __post_init__(self) -> None:
        missing = [p for p in PLACEHOLDERS if p not in self.template]
        if missing:
            raise HarnessError(f"--router-command needs the placeholders {' and '.join(missing)}: {self.template!r}")

    def _environment(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if k != UNSET_KEY_ENV}
        return {**env, API_KEY_ENV: API_KEY}

    @property
    def durable(self) -> bool:
        """Whether the command keeps its state in a directory the suite gives it (``{state}``)."""
        return STATE_PLACEHOLDER in self.template

    def state_directory(self) -> Path:
        """A new empty directory for one router's state, kept until the run ends (a restart reuses it)."""
        self._count += 1
        path = Path(self._scratch.name) / f"state-{self._count}"
        path.mkdir()
        return path

    def start(self, catalog_text: str, state: Path | None = None) -> Launched:
        """Write the catalog, start the command on a free address; the caller waits for it and stops it.

        ``state`` is the directory ``{state}`` names; without it a start gets a new empty one.
        """
        self._count += 1
        path = Path(self._scratch.name) / f"catalog-{self._count}.yaml"
        path.write_text(catalog_text)
        address = free_address()
        directory = str(state or self.state_directory()) if self.durable else ""
        command = [
            part.replace("{catalog}", str(path)).replace("{address}", address).replace(STATE_PLACEHOLDER, directory)
            for part in shlex.split(self.template)
        ]
        output = tempfile.TemporaryFile()  # noqa: SIM115 - closed by Launched.stop
        try:
            process = subprocess.Popen(command, stdout=output, stderr=subprocess.STDOUT, env=self._environment())  # noqa: S603
        except OSError as error:
            output.close()
            raise HarnessError(f"--router-command could not be started: {error}") from None
        return Launched(address, process, output)

    def close(self) -> None:
        self._scratch.cleanup()

    def start_up(self, catalog_text: str, timeout_s: float = DECIDE_TIMEOUT_S) -> StartUp:
        """Start on ``catalog_text`` and see what happens: the router serves, or exits; then stop it."""
        launched = self.start(catalog_text)
        try:
            return settle(launched, timeout_s)
        finally:
            launched.stop()


def settle(launched: Launched, timeout_s: float = DECIDE_TIMEOUT_S) -> StartUp:
    """Wait until the started router serves or exits, at most ``timeout_s``; it keeps running if it serves."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if launched.process.poll() is not None:
            return StartUp(False, launched.process.returncode, launched.printed())
        if _serving(launched.address):
            return StartUp(True, None, launched.printed())
        time.sleep(POLL_S)
    return StartUp(False, None, launched.printed())
