"""What one principal may see of the catalog, for the PostgreSQL catalog mirror
(:mod:`lakemesh.pgwire.catalog`): every table it may DESCRIBE, with only the columns it may read,
their types as the engine returns them (Arrow)."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field

import duckdb
import pyarrow as pa
from sqlalchemy.orm import Session
from sqlglot import exp
from sqlglot.errors import SqlglotError

from lakemesh.authz import decide
from lakemesh.catalog.tables import table_name, visible_tables
from lakemesh.model.actors import Actor
from lakemesh.model.permissions import Permission


@dataclass(frozen=True)
class Column:
    name: str
    arrow: pa.DataType


@dataclass(frozen=True)
class CatalogTable:
    """A table the principal may DESCRIBE, with the columns it may read."""

    id: int
    domain: str
    database: str
    database_id: int
    name: str
    description: str
    columns: tuple[Column, ...]


@dataclass
class Snapshot:
    """What one principal may see of the catalog."""

    tables: list[CatalogTable] = field(default_factory=list)


def snapshot(session: Session, *, actor: Actor) -> Snapshot:
    """The tables ``actor`` may DESCRIBE, each with the columns it may SELECT (types as Arrow)."""
    found = Snapshot()
    for row in visible_tables(session, actor=actor):
        name = table_name(row)
        decision = decide(session, actor=actor, permission=Permission.SELECT, resource=name)
        readable = (
            set(decision.access.columns)
            if decision.allowed and decision.access is not None
            else set()
        )
        columns = [(c.name, c.type) for c in row.columns if c.name in readable]
        found.tables.append(
            CatalogTable(
                id=row.id,
                domain=name.domain,
                database=name.database or row.database.name,
                database_id=row.database.id,
                name=name.table or row.name,
                description=row.description or "",
                columns=tuple(Column(n, arrow) for n, arrow in _arrow_types(columns)),
            )
        )
    return found


_types_lock = threading.Lock()
_types_connection: list[duckdb.DuckDBPyConnection] = []


def _arrow_types(columns: list[tuple[str, str]]) -> list[tuple[str, pa.DataType]]:
    """The Arrow type the engine returns for each (name, DuckDB type) column."""
    if not columns:
        return []
    with _types_lock:
        if not _types_connection:
            connection = duckdb.connect(":memory:")
            connection.execute("SET enable_external_access = false")
            _types_connection.append(connection)
        connection = _types_connection[0]
        result = []
        for name, type_text in columns:
            arrow = _type_cache.get(type_text)
            if arrow is None:
                arrow = _type_cache[type_text] = _arrow_type(connection, type_text)
            result.append((name, arrow))
        return result


_type_cache: dict[str, pa.DataType] = {}


def _arrow_type(connection: duckdb.DuckDBPyConnection, type_text: str) -> pa.DataType:
    """The Arrow type of a DuckDB type, as DuckDB returns it (text when it is no type): the type is
    parsed and written back by sqlglot first, so nothing but a type reaches the SQL."""
    try:
        canonical = exp.DataType.build(type_text, dialect="duckdb").sql("duckdb")
        cast = connection.execute(f"SELECT CAST(NULL AS {canonical}) AS c")
        return cast.arrow().schema.field(0).type
    except (SqlglotError, duckdb.Error, ValueError):
        return pa.string()


def schema_name(table: CatalogTable, current: str) -> str:
    """The ``pg_catalog`` schema of ``table`` for a connection to the domain ``current``: its
    database, prefixed with its domain when that is another one.

    >>> table = CatalogTable(1, "marketing", "campaigns", 1, "leads", "", ())
    >>> schema_name(table, "sales"), schema_name(table, "marketing")
    ('marketing.campaigns', 'campaigns')
    """
    return table.database if table.domain == current else f"{table.domain}.{table.database}"
