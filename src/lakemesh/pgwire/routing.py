"""Where a query goes: the governed gateway (every query over mesh tables), or the session's
catalog (introspection of ``pg_catalog`` and ``information_schema``)."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from lakemesh.pgwire.connection import Connection, Outcome


class Router:
    """Sends each query of a connection where it is answered."""

    async def run(self, connection: Connection, sql: str) -> Outcome:
        return await connection.run_query(sql)
