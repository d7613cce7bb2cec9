"""``rolemodel serve --workers N``: N router processes on one port, sharing the state store.

A router is one Python process, so one core. Workers are whole routers (gRPC, the front door, the engine)
started by a supervisor that does nothing else: every worker binds the same ports with SO_REUSEPORT and the
kernel spreads incoming connections among them. State is what makes this safe or not:

* Redis is already shared by replicas (redis_store.py);
* SQLite is shared turn by turn under a file lock (sqlite_shared.py), and the supervisor holds the
  database's router lock for all its workers, so that a second router is still refused;
* the memory store cannot be shared, and the command refuses it.

The supervisor reserves a port asked for as 0 by binding it with SO_REUSEPORT (without listening) before the
workers start, so that all of them land on one port. SIGTERM or SIGINT to the supervisor drains every worker
(each stops both listeners and closes its store) and exits 0; a worker that dies on its own stops the others.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import multiprocessing
import multiprocessing.connection
import os
import signal
import socket
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from rolemodel_router.config.catalog_loader import load_catalog
from rolemodel_router.engine.catalog_index import CatalogIndex
from rolemodel_router.server import logs
from rolemodel_router.server.app import RunningRouter, ServeSettings, serve
from rolemodel_router.server.binding import cannot_listen, check_address, why_unbindable
from rolemodel_router.state.factory import open_store
from rolemodel_router.state.sqlite import SqliteStore
from rolemodel_router.withheld import engine_catalog

#: How long workers may take to start (catalog, store, listeners) before the supervisor gives up.
START_TIMEOUT_S = 120.0


class WorkersRefused(ValueError):
    """``--workers`` with options it cannot honour; the message is the one line to print."""


@dataclass(frozen=True)
class WorkerReady:
    """What a worker reports once it serves: what the supervisor prints."""

    address: str
    catalog: str
    endpoints: int
    http_url: str


def check_workers(count: int, state_url: str, metrics: str | None, ui: str | None) -> None:
    """Raise WorkersRefused when ``count`` workers cannot keep the router's guarantees with these options."""
    if count <= 1:
        return
    if state_url in ("memory:", "memory://"):
        raise WorkersRefused(
            f"--workers {count} needs shared state: the memory store is one process's own, so quotas and outcomes "
            "would not be shared; use --state sqlite:///PATH or redis://HOST:PORT/DB"
        )
    if metrics:
        raise WorkersRefused(f"--workers {count} with --metrics: each worker would count only its own calls")
    if ui:
        raise WorkersRefused(f"--workers {count} with --ui: each worker's dashboard would see only its own calls")


@contextlib.contextmanager
def reserved_port(address: str, option: str) -> Iterator[str]:
    """``address`` with a fixed port that the workers can all bind; a port of 0 is chosen and held here."""
    host, port = check_address(address, option)
    if port:
        reason = why_unbindable(host, port)
        if reason is not None:
            raise cannot_listen(address, option, reason)
        yield address
        return
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as holder:
        holder.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
        holder.bind((host, 0))
        chosen = holder.getsockname()[1]
        yield f"[{host}]:{chosen}" if ":" in host else f"{host}:{chosen}"


def _portable(settings: ServeSettings) -> ServeSettings:
    """The settings as a worker can receive them (the process environment is sent as a plain mapping)."""
    execute = dataclasses.replace(settings.execute, environ=dict(settings.execute.environ))
    return dataclasses.replace(settings, execute=execute, worker_of_many=True, dashboard=False)


def _worker_main(settings: ServeSettings, log_level: str, report: multiprocessing.connection.Connection) -> None:
    """One worker: serve until SIGTERM or SIGINT; tell the supervisor when ready, or the one-line reason it is not."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # until serve() handles it: Ctrl-C reaches every process
    logs.configure(log_level)

    def ready(router: RunningRouter) -> None:
        info = WorkerReady(
            router.address, router.core.index.catalog.name, len(router.core.index.endpoints), router.http_url
        )
        report.send(info)

    try:
        code = asyncio.run(serve(settings, ready))
    except Exception as error:  # every start-up failure becomes the supervisor's one line
        report.send(f"{error}")
        code = 2
    sys.exit(code)


def run_workers(settings: ServeSettings, count: int, log_level: str, on_ready: Callable[[WorkerReady], None]) -> int:
    """Start ``count`` workers on shared ports, wait for SIGTERM or SIGINT, drain them; returns the exit code.

    The catalog and the state URL are checked here first, so that a mistake is one line from the supervisor
    rather than one from each worker; raises what ``start_router`` raises for them.
    """
    index = CatalogIndex(engine_catalog(load_catalog(settings.catalog), settings.withheld))
    store = open_store(
        settings.state_url,
        index,
        redis_namespace=settings.redis_namespace,
        create_directory=settings.create_state_directory,
    )
    database = store if isinstance(store, SqliteStore) else None
    if database is not None:
        database.path.parent.mkdir(parents=True, exist_ok=True)
        database.lock_against_other_routers()
    try:
        with contextlib.ExitStack() as ports:
            listen = ports.enter_context(reserved_port(settings.listen, "--listen"))
            http = ports.enter_context(reserved_port(settings.http_listen, "--http")) if settings.http_listen else None
            shared = dataclasses.replace(_portable(settings), listen=listen, http_listen=http)
            return _supervise(shared, count, log_level, on_ready)
    finally:
        if database is not None:
            database.release_router_lock()


def _supervise(settings: ServeSettings, count: int, log_level: str, on_ready: Callable[[WorkerReady], None]) -> int:
    context = multiprocessing.get_context("spawn")
    stop = {"signal": 0}

    def on_signal(signum: int, _frame: object) -> None:
        stop["signal"] = signum

    previous = {sig: signal.signal(sig, on_signal) for sig in (signal.SIGTERM, signal.SIGINT)}
    workers: list[tuple[Any, multiprocessing.connection.Connection]] = []
    try:
        for number in range(count):
            receive, send = context.Pipe(duplex=False)
            own = dataclasses.replace(settings, report_start_up=number == 0)
            process = context.Process(target=_worker_main, args=(own, log_level, send), daemon=False)
            process.start()
            send.close()
            workers.append((process, receive))
        first = _await_ready(workers, stop)
        if isinstance(first, str):
            print(f"rolemodel serve: {first}", file=sys.stderr)
            return 2
        on_ready(first)
        while not stop["signal"]:
            dead = [p for p, _ in workers if p.exitcode is not None]
            if dead:
                print(
                    f"rolemodel serve: worker {dead[0].pid} exited with {dead[0].exitcode}; stopping", file=sys.stderr
                )
                return 1
            multiprocessing.connection.wait([p.sentinel for p, _ in workers], timeout=0.5)
        return 0
    finally:
        _stop_all([p for p, _ in workers], settings.grace_s)
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def _await_ready(
    workers: list[tuple[Any, multiprocessing.connection.Connection]], stop: dict[str, int]
) -> WorkerReady | str:
    """The first worker's report once all are ready, or the first failure's reason."""
    reports: list[WorkerReady] = []
    pending = {receive: process for process, receive in workers}
    deadline = time.monotonic() + START_TIMEOUT_S
    while pending:
        if stop["signal"]:
            return "stopped while the workers were starting"
        if time.monotonic() > deadline:
            return f"the workers did not start within {START_TIMEOUT_S:.0f} s"
        for receive in [r for r in pending if r.poll(0.5 / len(pending))]:
            process = pending.pop(receive)
            try:
                message: WorkerReady | str = receive.recv()
            except EOFError:
                process.join(5)
                return f"a worker exited with {process.exitcode} before it was ready"
            if isinstance(message, str):
                return message
            reports.append(message)
    return reports[0]


def _stop_all(processes: list[Any], grace_s: float) -> None:
    """SIGTERM each live worker, wait for its drain, then kill what is left."""
    for process in processes:
        if process.exitcode is None:
            with contextlib.suppress(ProcessLookupError):
                os.kill(process.pid, signal.SIGTERM)
    deadline = time.monotonic() + grace_s + 10
    for process in processes:
        process.join(max(0.0, deadline - time.monotonic()))
        if process.exitcode is None:
            process.kill()
            process.join()
