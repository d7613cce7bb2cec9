"""Run the reference router: gRPC with health and reflection and, with ``http_listen``, the HTTP front door.

Both listeners serve the same ``RouterCore`` in one event loop, and SIGTERM drains both at once.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path

import grpc
import grpc.aio
from grpc_health.v1 import health, health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection

from rolemodel.v1 import card_pb2, common_pb2, router_service_pb2
from rolemodel_router.config.catalog_loader import load_catalog
from rolemodel_router.core import RouterCore
from rolemodel_router.dashboard.serving import Dashboard, dashboard_app, start_dashboard
from rolemodel_router.deadlines import DEFAULT_MARGIN_S
from rolemodel_router.engine.catalog_index import CatalogIndex
from rolemodel_router.engine.limits import Limits
from rolemodel_router.estimators.registry import DEFAULT_ESTIMATOR
from rolemodel_router.execute import ExecuteSettings
from rolemodel_router.execute.key_variables import report_unconfigured
from rolemodel_router.http import FrontDoorServer, HttpLimits, HttpTls, create_app
from rolemodel_router.observe.metrics import Metrics
from rolemodel_router.observe.tracing import Tracing
from rolemodel_router.recent_prefixes import RecentPrefixes
from rolemodel_router.server.auth import AuthInterceptor, TokenRegistry
from rolemodel_router.server.binding import (
    NO_PORT_SHARING,
    PORT_SHARING,
    add_grpc_port,
    cannot_listen,
    check_address,
    why_unbindable,
)
from rolemodel_router.server.interceptors import VersionInterceptor
from rolemodel_router.server.registration import add_router_service
from rolemodel_router.server.service import RouterServicer
from rolemodel_router.state.factory import open_store
from rolemodel_router.state.store import Retention, StateStore
from rolemodel_router.withheld import claimed, engine_catalog, withhold_rules

log = logging.getLogger("rolemodel.router")
SERVICE_NAME = router_service_pb2.DESCRIPTOR.services_by_name["RouterService"].full_name
PRUNE_EVERY_S = 60.0
#: The APIs the front door serves (spec 14.1), as its card advertises them.
FRONT_DOOR_DIALECTS = (
    common_pb2.API_DIALECT_OPENAI_CHAT,
    common_pb2.API_DIALECT_OPENAI_RESPONSES,
    common_pb2.API_DIALECT_ANTHROPIC_MESSAGES,
)


@dataclass(frozen=True)
class ServeSettings:
    catalog: Path
    listen: str = "127.0.0.1:50051"
    state_url: str = "memory:"
    grace_s: float = 10.0
    limits: Limits = field(default_factory=Limits)
    retention: Retention = field(default_factory=Retention)
    redis_namespace: str | None = None
    outage_policy: str = "fail-closed"
    tls: TlsSettings | None = None
    tokens: TokenRegistry | None = None
    metrics_address: str | None = None
    otel: str | None = None
    prune_every_s: float = PRUNE_EVERY_S
    default_estimator: str = DEFAULT_ESTIMATOR
    execute: ExecuteSettings = field(default_factory=ExecuteSettings)
    #: HOST:PORT of the HTTP front door (spec chapter 14); None serves gRPC only.
    http_listen: str | None = None
    #: HOST:PORT of a listener that serves only the dashboard (for a router without a front door).
    ui_listen: str | None = None
    #: Serve the dashboard under /ui on the front door (and on ``ui_listen``).
    dashboard: bool = True
    #: What one HTTP client may hold of the front door and the dashboard (slow clients, connections).
    http_limits: HttpLimits = field(default_factory=HttpLimits)
    #: Create a SQLite database's missing directory (true for the default location only).
    create_state_directory: bool = False
    #: Optional capabilities not to claim (for conformance tests of smaller routers); see ``withheld``.
    withheld: frozenset[card_pb2.RouterCapability.ValueType] = frozenset()
    #: What a call must have left of its deadline when its decision is ready, or it commits nothing (RM-ERR-020).
    deadline_margin_s: float = DEFAULT_MARGIN_S
    #: One of the worker processes of ``serve --workers N``: the listeners share their ports with the other
    #: workers (SO_REUSEPORT) and a SQLite database is shared turn by turn (see server/workers.py).
    worker_of_many: bool = False
    #: Log the start-up warnings (the endpoints Execute leaves out). The workers of ``serve --workers N``
    #: share one catalog and one environment, so only the first one says what all of them would.
    report_start_up: bool = True


@dataclass(frozen=True)
class TlsSettings:
    """PEM files; with ``client_ca`` the server requires and verifies client certificates (mutual TLS)."""

    cert: Path
    key: Path
    client_ca: Path | None = None

    def credentials(self) -> grpc.ServerCredentials:
        return grpc.ssl_server_credentials(
            [(self.key.read_bytes(), self.cert.read_bytes())],
            root_certificates=self.client_ca.read_bytes() if self.client_ca else None,
            require_client_auth=self.client_ca is not None,
        )


@dataclass
class RunningRouter:
    server: grpc.aio.Server
    core: RouterCore
    store: StateStore
    health: health.aio.HealthServicer
    address: str
    pruner: asyncio.Task[None]
    tracing: Tracing | None = None
    metrics_address: str = ""
    http: FrontDoorServer | None = None
    dashboard: Dashboard | None = None
    ui: FrontDoorServer | None = None

    @property
    def http_url(self) -> str:
        """The front door's base URL (``http://HOST:PORT``), empty when it is not served."""
        return self.http.url if self.http is not None else ""

    @property
    def ui_url(self) -> str:
        """The dashboard's address (``http://HOST:PORT/ui/``), empty when it is not served."""
        if self.dashboard is None:
            return ""
        server = self.ui or self.http
        return f"{server.url}/ui/" if server is not None else ""

    async def stop(self, grace_s: float) -> None:
        """Refuse new calls on both listeners, let in-flight ones finish, then close the store."""
        await self.health.enter_graceful_shutdown()
        draining = [self.server.stop(grace_s)]
        draining += [listener.stop() for listener in (self.http, self.ui) if listener is not None]
        await asyncio.gather(*draining)
        if self.dashboard is not None:
            await self.dashboard.stop()
        self.pruner.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self.pruner
        await self.core.aclose()
        await self.store.close()
        if self.tracing is not None:
            self.tracing.shutdown()


async def _prune_forever(core: RouterCore, every_s: float) -> None:
    while True:
        await asyncio.sleep(every_s)
        try:
            dropped = await core.store.prune(core.clock())
            if dropped:
                log.info("pruned", extra={"items": dropped})
        except Exception:
            log.exception("prune failed")


def _http_tls(settings: ServeSettings) -> HttpTls | None:
    return HttpTls(settings.tls.cert, settings.tls.key, settings.tls.client_ca) if settings.tls else None


def _front_door(
    settings: ServeSettings, core: RouterCore, metrics: Metrics | None, dashboard: Dashboard | None
) -> FrontDoorServer | None:
    """The HTTP front door over ``core``, bound but not started; with the gRPC listener's TLS and tokens."""
    if not settings.http_listen:
        return None
    routes = dashboard.api.routes() if dashboard is not None else []
    app = create_app(core, core.execute_batches, settings.tokens, metrics, routes)
    host, port = check_address(settings.http_listen, "--http")
    try:
        return FrontDoorServer(
            app,
            settings.http_listen,
            grace_s=settings.grace_s,
            tls=_http_tls(settings),
            limits=settings.http_limits,
            reuse_port=settings.worker_of_many,
        )
    except OSError:
        reason = why_unbindable(host, port) or "the address could not be bound"
        raise cannot_listen(settings.http_listen, "--http", reason) from None


def _dashboard_listener(settings: ServeSettings, dashboard: Dashboard | None) -> FrontDoorServer | None:
    """The dashboard alone on ``--ui``, bound but not started; with the same TLS and tokens."""
    if not settings.ui_listen or dashboard is None:
        return None
    host, port = check_address(settings.ui_listen, "--ui")
    try:
        return FrontDoorServer(
            dashboard_app(dashboard),
            settings.ui_listen,
            grace_s=settings.grace_s,
            tls=_http_tls(settings),
            limits=settings.http_limits,
        )
    except OSError:
        reason = why_unbindable(host, port) or "the address could not be bound"
        raise cannot_listen(settings.ui_listen, "--ui", reason) from None


@dataclass
class _Listeners:
    dashboard: Dashboard | None = None
    http: FrontDoorServer | None = None
    ui: FrontDoorServer | None = None


async def _start_listeners(
    settings: ServeSettings, core: RouterCore, store: StateStore, metrics: Metrics | None, server: grpc.aio.Server
) -> _Listeners:
    """Start gRPC, then the front door and the dashboard's listener; on a failure undo all and close the store."""
    serves_dashboard = settings.dashboard and bool(settings.http_listen or settings.ui_listen)
    listeners = _Listeners(start_dashboard(core, store, settings.tokens) if serves_dashboard else None)
    started = False
    try:
        listeners.http = _front_door(settings, core, metrics, listeners.dashboard)
        listeners.ui = _dashboard_listener(settings, listeners.dashboard)
        await server.start()
        started = True
        for listener in (listeners.http, listeners.ui):
            if listener is not None:
                await listener.start()
    except OSError:
        if started:
            await server.stop(0)
        for listener in (listeners.http, listeners.ui):
            if listener is not None:
                await listener.stop()
        if listeners.dashboard is not None:
            await listeners.dashboard.stop()
        await store.close()
        raise
    return listeners


def _interceptors(settings: ServeSettings, core: RouterCore) -> list[grpc.aio.ServerInterceptor]:
    """The version check, behind the token check when the router has tokens (then it claims AUTH)."""
    interceptors: list[grpc.aio.ServerInterceptor] = [VersionInterceptor()]
    if settings.tokens is not None:
        interceptors.insert(0, AuthInterceptor(settings.tokens))
        core.capabilities = (*core.capabilities, card_pb2.ROUTER_CAPABILITY_AUTH)
    return interceptors


async def start_router(
    settings: ServeSettings, core_factory: Callable[[CatalogIndex, StateStore], RouterCore] | None = None
) -> RunningRouter:
    """Load the catalog, open the store and start serving; raises CatalogError or StateUrlError."""
    index = withhold_rules(
        CatalogIndex(engine_catalog(load_catalog(settings.catalog), settings.withheld)), settings.withheld
    )
    # Each token is a principal (spec 12.5): only then do the per-principal caps apply (12.6).
    retention = replace(settings.retention, tenants=settings.tokens is not None)
    store = open_store(
        settings.state_url,
        index,
        retention,
        redis_namespace=settings.redis_namespace,
        outage_policy=settings.outage_policy,
        create_directory=settings.create_state_directory,
        shared_sqlite=settings.worker_of_many,
    )
    await store.start()
    if core_factory is not None:
        core = core_factory(index, store)
    else:
        core = RouterCore(
            index,
            store,
            settings.limits,
            default_estimator=settings.default_estimator,
            execute_settings=settings.execute,
            prefixes=RecentPrefixes(retention.prefix_memo_bytes),
            deadline_margin_s=settings.deadline_margin_s,
        )
    core.capabilities = claimed(core.capabilities, settings.withheld)
    interceptors = _interceptors(settings, core)
    transport = settings.limits.transport_max_bytes
    server = grpc.aio.server(
        interceptors=interceptors,
        options=[
            ("grpc.max_receive_message_length", transport),
            ("grpc.max_send_message_length", transport),
            *(PORT_SHARING if settings.worker_of_many else NO_PORT_SHARING),
        ],
    )
    metrics = Metrics() if settings.metrics_address else None
    if metrics is not None:
        metrics.watch_state(store, core.prefixes)
    metrics_port = metrics.serve(settings.metrics_address) if metrics and settings.metrics_address else 0
    tracing = Tracing(settings.otel) if settings.otel else None
    add_router_service(RouterServicer(core, metrics, tracing), server)
    health_servicer = health.aio.HealthServicer()
    health_pb2_grpc.add_HealthServicer_to_server(health_servicer, server)
    reflection.enable_server_reflection((SERVICE_NAME, health.SERVICE_NAME, reflection.SERVICE_NAME), server)
    try:
        credentials = settings.tls.credentials() if settings.tls else None
        port = add_grpc_port(server, settings.listen, credentials, shared=settings.worker_of_many)
    except OSError:
        await store.close()
        raise
    listeners = await _start_listeners(settings, core, store, metrics, server)
    if listeners.http is not None:
        core.front_door = card_pb2.HttpFrontDoor(base_url=listeners.http.url, dialects=FRONT_DOOR_DIALECTS)
    for name in ("", SERVICE_NAME):
        await health_servicer.set(name, health_pb2.HealthCheckResponse.SERVING)
    # Reported once the router is up: a start-up mistake stays the one line that names it.
    if settings.report_start_up and card_pb2.ROUTER_CAPABILITY_EXECUTE in core.capabilities:
        report_unconfigured(index.catalog, settings.execute.environ)
    host = settings.listen.rsplit(":", 1)[0]
    address = f"{host}:{port}"
    pruner = asyncio.create_task(_prune_forever(core, settings.prune_every_s))
    log.info(
        "serving",
        extra={
            "address": address,
            "state": store.name,
            "catalog": index.catalog.name,
            "endpoints": len(index.endpoints),
        },
    )
    metrics_host = (settings.metrics_address or "").rpartition(":")[0]
    running = RunningRouter(server, core, store, health_servicer, address, pruner, tracing=tracing, **vars(listeners))
    running.metrics_address = f"{metrics_host}:{metrics_port}" if metrics_port else ""
    return running


async def serve(settings: ServeSettings, on_ready: Callable[[RunningRouter], None]) -> int:
    """Serve until SIGTERM or SIGINT, then drain and exit 0."""
    router = await start_router(settings)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    on_ready(router)
    await stop.wait()
    log.info("draining", extra={"grace_s": settings.grace_s})
    await router.stop(settings.grace_s)
    log.info("stopped")
    return 0
