"""Store backends: SQLite (embedded default) and PostgreSQL (scale-out), chosen by database URL."""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from lakemesh.errors import InvalidInputError

READ_ONLY = "lakemesh_read_only"
"""Execution option of engines whose transactions only read (SQLite then need no write lock)."""


def _sqlite_engine(url: str) -> Engine:
    engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30})

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Let SQLAlchemy's "begin" event issue BEGIN IMMEDIATE: writers queue up instead of failing
        # on a lock upgrade, which keeps the audit chain strictly sequential.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Any) -> None:
        if connection.get_execution_options().get(READ_ONLY):
            connection.exec_driver_sql("BEGIN")
        else:
            connection.exec_driver_sql("BEGIN IMMEDIATE")

    return engine


def _postgres_engine(url: str) -> Engine:
    try:
        importlib.import_module("psycopg")
    except ImportError as e:
        raise InvalidInputError(
            "PostgreSQL support is not installed: pip install 'lakemesh[postgres]'",
            details={"extra": "postgres"},
        ) from e
    parsed = make_url(url)
    if parsed.drivername in ("postgresql", "postgres"):
        parsed = parsed.set(drivername="postgresql+psycopg")
    return create_engine(parsed, pool_pre_ping=True, pool_size=10, max_overflow=20)


AVAILABLE_BACKENDS: dict[str, Callable[[str], Engine]] = {
    "sqlite": _sqlite_engine,
    "postgresql": _postgres_engine,
    "postgres": _postgres_engine,
}


def connect(url: str) -> Engine:
    """An engine for ``url`` (``sqlite:///path/hub.db`` or ``postgresql://...``).

    Raises:
        InvalidInputError: the URL is malformed or names an unknown backend.
    """
    try:
        backend = make_url(url).get_backend_name()
    except ArgumentError as e:
        raise InvalidInputError(f"Invalid database URL: {url!r}", details={"url": url}) from e
    factory = AVAILABLE_BACKENDS.get(backend)
    if factory is None:
        known = ", ".join(sorted(AVAILABLE_BACKENDS))
        raise InvalidInputError(
            f"Unsupported database backend: {backend} (supported: {known})",
            details={"url": url},
        )
    return factory(url)
