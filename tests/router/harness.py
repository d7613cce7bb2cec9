"""Run the reference router as a real process on loopback, the way users run it."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from types import TracebackType

ROOT = Path(__file__).resolve().parents[2]
FIXTURE = ROOT / "conformance" / "fixtures" / "catalog.yaml"
EXAMPLE = ROOT / "examples" / "catalog.yaml"
START_TIMEOUT_S = 30.0


class RouterProcess:
    """``rolemodel serve`` in a subprocess; the address comes from its first line of output."""

    def __init__(self, state_url: str = "memory:", catalog: Path = FIXTURE, extra: list[str] | None = None) -> None:
        self.state_url = state_url
        self.catalog = catalog
        self.extra = extra or []
        self.process: subprocess.Popen[str] | None = None
        self.address = ""

    def start(self) -> RouterProcess:
        command = [
            sys.executable, "-m", "rolemodel_router.cli.main", "serve",
            "--catalog", str(self.catalog), "--listen", "127.0.0.1:0", "--state", self.state_url,
            "--no-sample", "--log-level", "warning", "--grace", "5", *self.extra,
        ]  # fmt: skip
        self.process = subprocess.Popen(
            command,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )
        deadline = time.monotonic() + START_TIMEOUT_S
        assert self.process.stdout is not None
        line = self.process.stdout.readline()
        if "serving on" not in line or time.monotonic() > deadline:
            _, err = self.process.communicate(timeout=5)
            raise RuntimeError(f"router did not start: {line!r}\n{err}")
        self.address = line.split("serving on ", 1)[1].split()[0]
        return self

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 20.0) -> int:
        """Send ``sig`` and wait; returns the exit code."""
        assert self.process is not None
        if self.process.poll() is None:
            self.process.send_signal(sig)
        code = self.process.wait(timeout=timeout)
        if self.process.stdout:
            self.process.stdout.close()
        if self.process.stderr:
            self.process.stderr.close()
        return code

    def kill9(self) -> int:
        return self.stop(signal.SIGKILL)

    def __enter__(self) -> RouterProcess:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if self.process is not None and self.process.poll() is None:
            self.stop()
