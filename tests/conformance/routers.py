"""Routers under test as real processes on loopback: the reference router, or a mutant of it.

The suite's own tests never run a router in-process: the suite is a black box
over gRPC, and so are its tests. A router is ``rolemodel serve`` with the
fixture catalog, in the conformance profile's environment (the test API key
set, the variable the fixture names for a never-set key absent); a mutant is
the same command started through ``tests/mutants/launch.py``, which patches
one function first.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

from rolemodel_conformance.backends import API_KEY, API_KEY_ENV, UNSET_KEY_ENV
from rolemodel_conformance.fixture import DEFAULT_BACKEND_PORTS, fixture_text

ROOT = Path(__file__).resolve().parents[2]
FIXTURE = ROOT / "conformance" / "fixtures" / "catalog.yaml"
#: Generous: on a loaded 2-core machine, with a few routers starting side by side, Python takes its time.
START_TIMEOUT_S = 90.0
STOP_TIMEOUT_S = 15.0


def free_ports(count: int) -> tuple[int, ...]:
    """Loopback ports free right now, all different (held open together while they are picked)."""
    with contextlib.ExitStack() as stack:
        sockets = [stack.enter_context(socket.socket()) for _ in range(count)]
        for sock in sockets:
            sock.bind(("127.0.0.1", 0))
        return tuple(sock.getsockname()[1] for sock in sockets)


def moved_fixture(directory: Path) -> tuple[Path, tuple[int, int, int]]:
    """The fixture catalog with its backends on free ports, written the way a user would (``--print-fixture``)."""
    a, b, c = free_ports(3)
    path = directory / "catalog.yaml"
    path.write_text(fixture_text((a, b, c)))
    return path, (a, b, c)


class Router:
    """A started router: its address, its backend ports, and its log for when something goes wrong."""

    def __init__(
        self, process: subprocess.Popen[bytes], address: str, log: Path, backend_ports: tuple[int, int, int]
    ) -> None:
        self.process = process
        self.address = address
        self.log = log
        self.backend_ports = backend_ports

    @property
    def target_args(self) -> tuple[str, ...]:
        """The suite's options that point at this router and at the backends its catalog names."""
        return ("--target", self.address, "--backend-ports", ",".join(str(p) for p in self.backend_ports))

    def logs(self) -> str:
        return self.log.read_text(errors="replace")

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=STOP_TIMEOUT_S)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def _first_line(path: Path, process: subprocess.Popen[bytes]) -> str:
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        text = path.read_text(errors="replace")
        if "\n" in text:
            return text.split("\n", 1)[0]
        if process.poll() is not None:
            break
        time.sleep(0.05)
    return path.read_text(errors="replace")


def serve_command(mutant: str | None = None) -> list[str]:
    """The interpreter and module that run ``rolemodel serve``, optionally through a mutant's launcher."""
    if mutant is None:
        return [sys.executable, "-m", "rolemodel_router.cli.main"]
    return [sys.executable, "-m", "tests.mutants.launch", mutant]


def profile_environment() -> dict[str, str]:
    """This process's environment as the conformance profile wants it for the router (docs/conformance.md)."""
    env = {k: v for k, v in os.environ.items() if k != UNSET_KEY_ENV}
    return {**env, API_KEY_ENV: API_KEY, "PYTHONUNBUFFERED": "1"}


@contextmanager
def running_router(
    state: str = "memory:",
    *,
    mutant: str | None = None,
    catalog: Path | None = None,
    extra: tuple[str, ...] = (),
    env: Mapping[str, str] | None = None,
) -> Iterator[Router]:
    """Start a router with the fixture catalog and stop it afterwards; raises RuntimeError if it does not start.

    ``env`` replaces the profile's environment (a test of a router started without the API key).
    Without ``catalog`` the router loads the fixture with its backends moved to
    free ports, so that several routers and suites can run on one machine.
    """
    with tempfile.TemporaryDirectory(prefix="rmc-router-") as scratch:
        ports = DEFAULT_BACKEND_PORTS
        if catalog is None:
            catalog, ports = moved_fixture(Path(scratch))
        out, log = Path(scratch) / "stdout", Path(scratch) / "stderr"
        command = [
            *serve_command(mutant),
            "serve",
            "--catalog",
            str(catalog),
            "--state",
            state,
            "--listen",
            "127.0.0.1:0",
            "--no-sample",
            "--log-level",
            "warning",
            "--grace",
            "2",
            *extra,
        ]
        environment = dict(env) if env is not None else profile_environment()
        with out.open("wb") as stdout, log.open("wb") as stderr:
            process = subprocess.Popen(command, stdout=stdout, stderr=stderr, cwd=ROOT, env=environment)
        first = _first_line(out, process)
        if "serving on " not in first:
            process.kill()
            process.wait()
            raise RuntimeError(f"the router did not start: {first!r}\n{log.read_text(errors='replace')}")
        router = Router(process, first.split("serving on ", 1)[1].split()[0], log, ports)
        try:
            yield router
        finally:
            router.stop()
