"""A full disk: Route answers STATE_STORE_UNAVAILABLE and changes nothing, and service resumes with space.

The router runs with a file-size limit (RLIMIT_FSIZE, SIGXFSZ ignored), so its SQLite writes fail the
way they fail on a full file system, without a file system of its own; ``prlimit`` lifts the limit
while it runs, as freeing space would.
"""

from __future__ import annotations

import resource
import subprocess
import sys
import time
from pathlib import Path

from rolemodel import RouterClient
from rolemodel.error_reasons import ErrorReason
from rolemodel.errors import RoleModelError
from tests.requests import conversation, new_id, route
from tests.router.harness import FIXTURE

LIMIT_BYTES = 256 * 1024
LAUNCH = (
    "import resource, runpy, signal, sys\n"
    "signal.signal(signal.SIGXFSZ, signal.SIG_IGN)\n"
    f"resource.setrlimit(resource.RLIMIT_FSIZE, ({LIMIT_BYTES}, resource.getrlimit(resource.RLIMIT_FSIZE)[1]))\n"
    "sys.argv = ['rolemodel', *sys.argv[1:]]\n"
    "runpy.run_module('rolemodel_router.cli.main', run_name='__main__')\n"
)
BURST_LIMIT = 10  # the fixture's fx-burst-window: 10 requests per fixed 3 s window


def _reason(client: RouterClient, role: str, tokens: list[int]) -> str:
    try:
        client.route(route(role, conversation(new_id(), tokens)))
    except RoleModelError as error:
        return error.reason.value if error.reason else error.code.name
    return "OK"


def test_a_full_disk_changes_nothing_and_says_so(tmp_path: Path) -> None:
    command = [
        sys.executable, "-c", LAUNCH, "serve", "--catalog", str(FIXTURE), "--listen", "127.0.0.1:0",
        "--state", f"sqlite:///{tmp_path / 'router.db'}", "--no-sample", "--log-level", "error",
    ]  # fmt: skip
    with subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True) as router:
        try:
            assert router.stdout is not None
            address = router.stdout.readline().split("serving on ", 1)[1].split()[0]
            with RouterClient(address) as client:
                reasons: list[str] = []
                while "OK" in reasons[-1:] or not reasons:
                    reasons.append(_reason(client, "chore", [50] * 400))
                    assert len(reasons) < 5000, "the file-size limit never stopped a write"
                reasons += [_reason(client, "chore", [50] * 400) for _ in range(5)]
                assert set(reasons[-6:]) == {ErrorReason.STATE_STORE_UNAVAILABLE.value}, reasons[-6:]
                # In one fixed window: refused Routes must not take quota slots, once space is back.
                while time.time() % 3 > 0.3:
                    time.sleep(0.05)
                refused = [_reason(client, "x-conformance.burst", [10]) for _ in range(BURST_LIMIT)]
                hard = resource.prlimit(router.pid, resource.RLIMIT_FSIZE)[1]
                resource.prlimit(router.pid, resource.RLIMIT_FSIZE, (hard, hard))
                admitted = [_reason(client, "x-conformance.burst", [10]) for _ in range(BURST_LIMIT)]
                assert time.time() % 3 > 0.3, "the check ran within one quota window"
            assert set(refused) == {ErrorReason.STATE_STORE_UNAVAILABLE.value}
            assert admitted == ["OK"] * BURST_LIMIT
        finally:
            router.terminate()
            router.wait(timeout=30)
    assert router.returncode in (0, -15)
