"""Where a query goes: the governed gateway (every query over mesh tables), or the principal's
catalog mirror (introspection of ``pg_catalog`` and ``information_schema``).

The mirror is built from the governed catalog when a catalog query comes and kept for a moment
(:data:`MIRROR_SECONDS`), so the burst of queries behind one ``\\d`` sees one catalog; a grant
or revoke shows in the next burst.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from functools import partial

import duckdb
import pyarrow as pa
import sqlglot
from sqlglot import exp
from sqlglot.errors import SqlglotError

from lakemesh.hub import Hub
from lakemesh.model.actors import Actor
from lakemesh.pgwire.catalog import build_mirror
from lakemesh.pgwire.catalog_snapshot import snapshot
from lakemesh.pgwire.connection import Connection
from lakemesh.pgwire.introspection import answer, catalog_statement, to_mirror_sql
from lakemesh.pgwire.parameters import parameter_types
from lakemesh.pgwire.portals import Outcome
from lakemesh.pgwire.rows import Rows
from lakemesh.pgwire.session import ClientSession

MIRROR_SECONDS = 2.0


@dataclass
class _Mirror:
    connection: duckdb.DuckDBPyConnection
    built: float
    database: str


class Router:
    """Sends each query of a connection where it is answered."""

    def __init__(self) -> None:
        self._mirrors: dict[int, _Mirror] = {}

    async def run(self, connection: Connection, sql: str, *, probe: bool = False) -> Outcome:
        statement = catalog_statement(sql)
        if statement is None:
            return await connection.run_query(sql, probe=probe)
        session = connection.client_session
        actor = connection.principal
        mirror_sql = to_mirror_sql(
            statement,
            user=actor.ref,
            database=session.database,
            search_path=session.search_path,
            settings=session.settings,
        )
        table = await connection.in_thread(
            partial(self._answer, connection.server.hub, connection, actor, session, mirror_sql)
        )
        return Outcome("SELECT", Rows.of_table(table))

    def _answer(
        self, hub: Hub, connection: Connection, actor: Actor, session: ClientSession, sql: str
    ) -> pa.Table:
        mirror = self._mirrors.get(id(connection))
        now = time.monotonic()
        if mirror is None or now - mirror.built > MIRROR_SECONDS:
            if mirror is not None:
                mirror.connection.close()
            with hub.read() as read:
                found = snapshot(read, actor=actor)
            mirror = _Mirror(
                build_mirror(
                    found, user=actor.ref, database=session.database, own_domain=actor.domain
                ),
                now,
                session.database,
            )
            self._mirrors[id(connection)] = mirror
        return answer(mirror.connection, sql)

    async def parameter_types(self, connection: Connection, sql: str, count: int) -> list[int]:
        """The parameters' types, from the columns the principal may read of the tables the
        statement names."""
        hub, actor = connection.server.hub, connection.principal
        return await connection.in_thread(partial(_parameter_types, hub, actor, sql, count))

    def forget(self, connection: Connection) -> None:
        """Drop the mirror of a connection that ended."""
        mirror = self._mirrors.pop(id(connection), None)
        if mirror is not None:
            mirror.connection.close()


def _parameter_types(hub: Hub, actor: Actor, sql: str, count: int) -> list[int]:
    try:
        named = {t.name.lower() for t in sqlglot.parse_one(sql, read="duckdb").find_all(exp.Table)}
    except SqlglotError:
        named = set()
    with hub.read() as read:
        found = snapshot(read, actor=actor)
    columns: dict[str, pa.DataType] = {}
    ambiguous: set[str] = set()
    for table in found.tables:
        if table.name.lower() not in named:
            continue
        for column in table.columns:
            key = column.name.lower()
            if key in columns and columns[key] != column.arrow:
                ambiguous.add(key)
            columns[key] = column.arrow
    return parameter_types(sql, count, {k: v for k, v in columns.items() if k not in ambiguous})
