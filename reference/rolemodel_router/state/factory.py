"""Open a state store from its URL: ``memory:``, ``sqlite:///path`` or ``redis://host:port/db``."""

from __future__ import annotations

import os
from pathlib import Path

from rolemodel_router.engine.catalog_index import CatalogIndex
from rolemodel_router.state.in_process import InProcessStore
from rolemodel_router.state.redis_store import RedisStore
from rolemodel_router.state.sqlite import SqliteStore
from rolemodel_router.state.sqlite_shared import SharedSqliteStore
from rolemodel_router.state.store import Retention, StateStore


class StateUrlError(ValueError):
    """The --state URL names no store this router has."""


def default_state_url() -> str:
    """SQLite in the user's state directory ($XDG_STATE_HOME, else ~/.local/state)."""
    base = Path(os.environ.get("XDG_STATE_HOME") or Path.home() / ".local" / "state")
    return f"sqlite:///{base / 'rolemodel' / 'router.db'}"


def open_store(
    url: str,
    index: CatalogIndex,
    retention: Retention | None = None,
    *,
    redis_namespace: str | None = None,
    outage_policy: str = "fail-closed",
    create_directory: bool = False,
    shared_sqlite: bool = False,
) -> StateStore:
    """The store ``url`` names; a SQLite file's directory must exist unless ``create_directory`` (the default URL).

    ``sqlite:///router.db`` is relative to the current directory and ``sqlite:////var/lib/router.db`` is
    absolute (four slashes), as in SQLAlchemy. A missing directory is refused rather than created, because
    it is usually an absolute path written with three slashes. ``shared_sqlite``: this process is one of the
    workers of ``serve --workers N``, which take turns at one database (sqlite_shared.py).
    """
    if url in ("memory:", "memory://"):
        return InProcessStore(retention, index.quotas)
    if url.startswith("sqlite:///"):
        path = url.removeprefix("sqlite:///")
        if not path:
            raise StateUrlError(
                "sqlite:/// needs a path, for example sqlite:///router.db or sqlite:////var/lib/rolemodel.db"
            )
        database = Path(path)
        if not create_directory and not database.parent.is_dir():
            raise StateUrlError(
                f"--state {url}: no directory {database.parent.absolute()} for the database; a path after "
                "sqlite:/// is relative to the current directory, an absolute one needs four slashes "
                f"(sqlite:////{path.lstrip('/')})"
            )
        if shared_sqlite:
            return SharedSqliteStore(database, retention, index.quotas)
        return SqliteStore(database, retention, index.quotas)
    if url.startswith(("redis://", "rediss://", "unix://")):
        return RedisStore(url, index, retention, redis_namespace, outage_policy)
    raise StateUrlError(f"unknown state URL {url!r}: use memory:, sqlite:///PATH or redis://HOST:PORT/DB")


def describe_state_url(url: str) -> str:
    """What a person needs to know about the store: the absolute database path, or what is forgotten."""
    if url in ("memory:", "memory://"):
        return "in memory, forgotten on exit"
    if url.startswith("sqlite:///"):
        return f"SQLite {Path(url.removeprefix('sqlite:///')).absolute()}"
    scheme, _, rest = url.partition("://")
    credentials, at, place = rest.rpartition("@")
    return f"{scheme}://{'***@' if at and credentials else ''}{place}"
