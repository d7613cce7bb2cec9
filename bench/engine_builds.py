"""The decision engine compiled with mypyc against the same engine in pure Python, interleaved in one run.

An experiment for issue 16's "a compiled helper only where profiles prove it pays", kept so that it can
be repeated: the router ships pure Python (the README's Performance section says why). This script copies the
sources into ``--build-dir`` (default build/mypyc-engine, git-ignored), compiles the engine's
modules there with mypyc (it comes with mypy, a dev dependency; gcc builds the C, a few minutes on two
cores; a later run reuses the build while the sources are unchanged), then runs
bench/engine_latency.py's three stages (validation, the decision, both; 8 endpoints, 50 messages by
digest) in worker processes that alternate between the compiled copy and the working tree, round after
round, so that load from elsewhere on the machine falls on both alike. Then it starts a router of each
build (memory store, bench/route_overhead.py's 8-endpoint catalog) and sends both the same Routes, 50
messages by digest over 32 conversations advancing a turn each, one call at a time, in alternating
rounds of ``--calls``. Everything is CPU time per call, not the wall clock, which on a shared machine
counts other processes' time too: the worker thread's in process, the router process's over gRPC
(``/proc``, so Linux only). The table gives each build's median over the rounds, the ratio pure /
compiled of the medians, and the range of the rounds' ratios.

    python bench/engine_builds.py [--rounds 6] [--iterations 1000] [--calls 320] [--build-dir DIR] [--json FILE]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import grpc
from rich.console import Console
from rich.table import Table

# Appended, not prepended: a compiled worker finds the compiled copy first through PYTHONPATH.
sys.path.append(str(Path(__file__).resolve().parents[1]))

from bench.bench_catalog import BENCH_ROLE, write_bench_catalog
from bench.engine_latency import stages
from bench.workload import conversation_request
from rolemodel.v1 import router_service_pb2, router_service_pb2_grpc
from rolemodel_router.engine import decide

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent

BUILDS = ("compiled", "pure")
STAGES = ("validate", "decide", "validate_and_decide", "route_over_grpc")
BATCH = 50
METADATA = (("rolemodel-version", "1.0"),)
#: Conversations the gRPC part advances, one turn per Route, as bench/route_overhead.py does.
CONVERSATIONS = 32
#: What the experiment compiles: the engine and the pure SDK modules its decision calls (the cost and
#: latency models, money, the cache and pacing arithmetic) and the state dataclasses it builds.
COMPILED = (
    "reference/rolemodel_router/engine/*.py",
    "reference/rolemodel_router/state/model.py",
    "rolemodel/cost.py",
    "rolemodel/latency.py",
    "rolemodel/money.py",
    "rolemodel/explicit_cache.py",
    "rolemodel/cache_capacity.py",
    "rolemodel/pacing.py",
    "rolemodel/demand_profile.py",
    "rolemodel/tokens.py",
)
#: The package trees copied into the build directory (the compiled modules import the rest).
COPIED = ("rolemodel", "reference/rolemodel_router")


def _sources() -> list[str]:
    return sorted(str(p.relative_to(ROOT)) for pattern in COMPILED for p in ROOT.glob(pattern))


def compile_copy(build_dir: Path) -> None:
    """Copy the packages into ``build_dir`` and compile ``COMPILED`` there in place.

    The copy is refreshed on every run; the compilation (minutes) only when a compiled module changed.
    """
    digest = hashlib.sha256()
    for name in _sources():
        digest.update(name.encode() + (ROOT / name).read_bytes())
    stamp = build_dir / "built-from"
    built = stamp.exists() and stamp.read_text() == digest.hexdigest()
    if not built:
        shutil.rmtree(build_dir, ignore_errors=True)
    for tree in COPIED:
        ignore = shutil.ignore_patterns("__pycache__", "*.so")
        shutil.copytree(ROOT / tree, build_dir / tree, ignore=ignore, dirs_exist_ok=True)
    if built:
        return
    shutil.copy(ROOT / "pyproject.toml", build_dir / "pyproject.toml")
    script = (
        "import sys\n"
        "from setuptools import Distribution\n"
        "from mypyc.build import mypycify\n"
        "ext = mypycify(['--config-file', 'pyproject.toml', *sys.argv[1:]], group_name='rolemodel_router.engine')\n"
        "dist = Distribution({'ext_modules': ext, 'package_dir': {'rolemodel_router': 'reference/rolemodel_router'}})\n"
        "command = dist.get_command_obj('build_ext')\n"
        "command.inplace = True\n"
        "dist.run_command('build_ext')\n"
    )
    print(f"compiling {len(_sources())} modules with mypyc into {build_dir} (a few minutes)", flush=True)
    env = {**os.environ, "MYPYPATH": "reference"}
    command = [sys.executable, "-c", script, *_sources()]
    subprocess.run(command, cwd=build_dir, env=env, check=True, capture_output=True)
    stamp.write_text(digest.hexdigest())


def worker(iterations: int) -> None:
    """Measure the three stages in this process and print one JSON line: the build loaded and µs per call.

    Time is this thread's CPU time over batches of 50 calls (the median batch), not the wall clock, so a
    stretch in which another process held the core does not count against whichever build ran then.
    """
    results: dict[str, float] = {}
    for name, fn in stages().items():
        for _ in range(min(500, iterations)):
            fn()
        batches = []
        for _ in range(max(1, iterations // BATCH)):
            start = time.thread_time_ns()
            for _ in range(BATCH):
                fn()
            batches.append((time.thread_time_ns() - start) / 1000 / BATCH)
        results[name] = statistics.median(batches)
    print(json.dumps({"compiled": not str(decide.__file__).endswith(".py"), "cpu_us": results}))


def run_round(build: str, iterations: int, build_dir: Path) -> dict[str, float]:
    """One worker process on one build: the compiled copy first on the path, or the working tree alone."""
    env = _env(build, build_dir)
    command = [sys.executable, str(Path(__file__).resolve()), "--worker", "--iterations", str(iterations)]
    out = subprocess.run(command, env=env, capture_output=True, text=True, check=True).stdout
    answer = json.loads(out.strip().splitlines()[-1])
    if answer["compiled"] != (build == "compiled"):
        raise SystemExit(f"asked for the {build} engine, the worker loaded the other one")
    return dict(answer["cpu_us"])


def _env(build: str, build_dir: Path) -> dict[str, str]:
    env = dict(os.environ)
    if build == "compiled":
        env["PYTHONPATH"] = os.pathsep.join([str(build_dir), str(build_dir / "reference")])
    return env


def start_router(build: str, build_dir: Path, catalog: Path) -> tuple[subprocess.Popen[str], str]:
    """A router on loopback with the memory store, running ``build``; checks which engine it mapped."""
    command = [
        sys.executable, "-m", "rolemodel_router.cli.main", "serve", "--catalog", str(catalog),
        "--listen", "127.0.0.1:0", "--state", "memory:", "--no-sample", "--log-level", "error",
    ]  # fmt: skip
    env = _env(build, build_dir)
    process = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    line = process.stdout.readline() if process.stdout is not None else ""
    if " on " not in line:
        process.kill()
        raise SystemExit(f"the {build} router did not start: {line!r}")
    mapped = "engine__mypyc" in Path(f"/proc/{process.pid}/maps").read_text()
    if mapped != (build == "compiled"):
        process.kill()
        raise SystemExit(f"the {build} router loaded the other engine")
    return process, line.split(" on ", 1)[1].split()[0]


def _cpu_seconds(pid: int) -> float:
    """User and system CPU time of a process so far (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def route_round(
    stub: router_service_pb2_grpc.RouterServiceStub, pid: int, requests: list[router_service_pb2.RouteRequest]
) -> float:
    """Send ``requests`` one after the other; the router's CPU milliseconds per Route."""
    before = _cpu_seconds(pid)
    for request in requests:
        stub.Route(request, metadata=METADATA)
    return (_cpu_seconds(pid) - before) * 1000 / len(requests)


def grpc_rounds(build_dir: Path, rounds: int, calls: int, workdir: Path) -> dict[str, list[float]]:
    """Both builds as routers, the same Routes (50 messages by digest, turns advancing), in alternating rounds."""
    catalog = write_bench_catalog(workdir / "catalog.yaml")
    routers = {build: start_router(build, build_dir, catalog) for build in BUILDS}
    channels = {build: grpc.insecure_channel(address) for build, (_, address) in routers.items()}
    try:
        stubs = {build: router_service_pb2_grpc.RouterServiceStub(channel) for build, channel in channels.items()}
        turn = 0

        def batch() -> list[router_service_pb2.RouteRequest]:
            nonlocal turn
            out = []
            for i in range(calls):
                out.append(conversation_request(f"c{i % CONVERSATIONS}", messages=50, turn=turn, role=BENCH_ROLE))
                if i % CONVERSATIONS == CONVERSATIONS - 1:
                    turn += 1
            return out

        warm = batch()
        for build in BUILDS:
            route_round(stubs[build], routers[build][0].pid, warm)
        cpu: dict[str, list[float]] = {build: [] for build in BUILDS}
        for r in range(rounds):
            requests = batch()
            for build in BUILDS if r % 2 == 0 else BUILDS[::-1]:
                cpu[build].append(route_round(stubs[build], routers[build][0].pid, requests))
        return cpu
    finally:
        for channel in channels.values():
            channel.close()
        for process, _ in routers.values():
            process.terminate()
            process.wait(timeout=10)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=6)
    parser.add_argument("--iterations", type=int, default=1000)
    parser.add_argument("--calls", type=int, default=320, help="Routes per build per round over gRPC")
    parser.add_argument("--build-dir", type=Path, default=ROOT / "build" / "mypyc-engine")
    parser.add_argument("--json", type=Path, help="write the results here")
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        worker(args.iterations)
        return

    compile_copy(args.build_dir.resolve())
    rounds: dict[str, list[dict[str, float]]] = {build: [] for build in BUILDS}
    load = [os.getloadavg()[0]]
    for i in range(args.rounds):
        order = BUILDS if i % 2 == 0 else BUILDS[::-1]
        for build in order:
            rounds[build].append(run_round(build, args.iterations, args.build_dir.resolve()))
        load.append(os.getloadavg()[0])
    with tempfile.TemporaryDirectory() as workdir:
        routes = grpc_rounds(args.build_dir.resolve(), args.rounds, args.calls, Path(workdir))
    load.append(os.getloadavg()[0])
    for build in BUILDS:
        for figures, cpu_ms in zip(rounds[build], routes[build], strict=True):
            figures["route_over_grpc"] = cpu_ms * 1000
    median = {b: {s: round(statistics.median(r[s] for r in rounds[b]), 1) for s in STAGES} for b in BUILDS}
    ratio = {s: round(median["pure"][s] / median["compiled"][s], 2) for s in STAGES}
    paired = {s: [p[s] / c[s] for p, c in zip(rounds["pure"], rounds["compiled"], strict=True)] for s in STAGES}

    table = Table(title=f"Engine builds: CPU µs per call, median of {args.rounds} interleaved rounds")
    for column in ("stage", "compiled (mypyc)", "pure Python", "pure / compiled", "per round"):
        table.add_column(column, justify="right")
    for stage in STAGES:
        table.add_row(
            stage,
            f"{median['compiled'][stage]:.1f}",
            f"{median['pure'][stage]:.1f}",
            f"{ratio[stage]:.2f}",
            f"{min(paired[stage]):.2f} to {max(paired[stage]):.2f}",
        )
    console = Console()
    console.print(table)
    console.print(f"load average (1 min) during the run: {min(load):.1f} to {max(load):.1f}")
    if args.json:
        report = {
            "rounds": args.rounds,
            "iterations": args.iterations,
            "routes_per_round": args.calls,
            "load_average": [min(load), max(load)],
            "cpu_us_per_call": median,
            "pure_over_compiled": ratio,
            "pure_over_compiled_per_round": {s: [round(v, 2) for v in paired[s]] for s in STAGES},
        }
        args.json.write_text(json.dumps(report, indent=2) + "\n")


if __name__ == "__main__":
    main()
