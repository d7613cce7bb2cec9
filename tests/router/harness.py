"""Run the reference router as a real process on loopback, the way users run it."""

from __future__ import annotations

import os
import select
import signal
import subprocess
import sys
import tempfile
from pathlib import Path
from types import TracebackType

ROOT = Path(__file__).resolve().parents[2]
FIXTURE = ROOT / "conformance" / "fixtures" / "catalog.yaml"
EXAMPLE = ROOT / "examples" / "catalog.yaml"
#: Generous: a loaded 2-core machine can take half a minute to start Python.
#: Only a router that never starts waits this out.
START_TIMEOUT_S = 90.0


class RouterProcess:
    """``rolemodel serve`` in a subprocess; the address comes from its first line of output.

    With ``--http`` among the extra arguments (or ``expect_http``, when a config file sets it), the
    second line names the HTTP front door, whose base URL (``http://HOST:PORT``) is then ``http_url``.
    """

    def __init__(
        self,
        state_url: str = "memory:",
        catalog: Path = FIXTURE,
        extra: list[str] | None = None,
        env: dict[str, str] | None = None,
        log_level: str = "warning",
        expect_http: bool = False,
        start_timeout_s: float = START_TIMEOUT_S,
    ) -> None:
        self.state_url = state_url
        self.catalog = catalog
        self.extra = extra or []
        self.env = env or {}
        self.log_level = log_level
        self.process: subprocess.Popen[str] | None = None
        self.address = ""
        self.http_url = ""
        self.http_line = ""
        #: The dashboard's address (``http://HOST:PORT/ui/``), with ``--ui`` among the extra arguments.
        self.ui_url = ""
        self.expect_http = expect_http or "--http" in self.extra
        self.start_timeout_s = start_timeout_s
        self._log = tempfile.TemporaryFile(mode="w+")  # noqa: SIM115 - lives as long as the process; closed in stop()
        self._final_log = ""

    def start(self) -> RouterProcess:
        command = [
            sys.executable, "-m", "rolemodel_router.cli.main", "serve",
            "--catalog", str(self.catalog), "--listen", "127.0.0.1:0", "--state", self.state_url,
            "--no-sample", "--log-level", self.log_level, "--grace", "5", *self.extra,
        ]  # fmt: skip
        env = {**os.environ, "PYTHONUNBUFFERED": "1", **self.env}
        self.process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=self._log, text=True, env=env)
        assert self.process.stdout is not None
        ready, _, _ = select.select([self.process.stdout], [], [], self.start_timeout_s)
        line = self.process.stdout.readline() if ready else ""
        if "serving on" not in line:
            exited = self.process.poll()
            # Never leave a late or stuck router running behind the failed test.
            self.process.kill()
            self.process.wait()
            self.process.stdout.close()
            self._final_log = self.logs()
            self._log.close()
            why = f"it exited with status {exited}" if exited is not None else f"nothing in {self.start_timeout_s:g} s"
            raise RuntimeError(f"router did not start ({why}): {line!r}\n{self._final_log}")
        self.address = line.split("serving on ", 1)[1].split()[0]
        if self.expect_http:
            http_line = self.process.stdout.readline()
            if "HTTP front door on " not in http_line:
                self.stop()
                raise RuntimeError(f"the HTTP front door did not start: {http_line!r}\n{self.logs()}")
            self.http_line = http_line.strip()
            self.http_url = http_line.split("HTTP front door on ", 1)[1].split()[0]
        if "--ui" in self.extra or (self.expect_http and "--no-ui" not in self.extra):
            ui_line = self.process.stdout.readline()
            if "dashboard at " not in ui_line:
                self.stop()
                raise RuntimeError(f"the dashboard did not start: {ui_line!r}\n{self.logs()}")
            self.ui_url = ui_line.split("dashboard at ", 1)[1].strip()
        return self

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 20.0) -> int:
        """Send ``sig`` and wait; returns the exit code."""
        assert self.process is not None
        if self.process.poll() is None:
            self.process.send_signal(sig)
        code = self.process.wait(timeout=timeout)
        if self.process.stdout:
            self.process.stdout.close()
        if not self._log.closed:
            self._final_log = self.logs()
            self._log.close()
        return code

    def logs(self) -> str:
        """Everything the router wrote to stderr so far (its structured log), also after it stopped."""
        if self._log.closed:
            return self._final_log
        self._log.flush()
        self._log.seek(0)
        return self._log.read()

    def kill9(self) -> int:
        return self.stop(signal.SIGKILL)

    def __enter__(self) -> RouterProcess:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if self.process is not None and self.process.poll() is None:
            self.stop()
