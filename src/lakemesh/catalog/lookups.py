"""Domain, database and table rows by name for a service that names many at once (a batch of
grants or tag assignments): read in a few queries instead of one per name.

A name not read up front is looked up on its own by the one-at-a-time functions, so a missing
object raises exactly what they raise (``Table does not exist: sales.crm.orders``).
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from lakemesh.catalog.databases import get_database_row
from lakemesh.catalog.tables import get_table_row
from lakemesh.identity.principals import get_domain_row
from lakemesh.model.names import ResourceName
from lakemesh.store.schema import Database, Domain, Table

CHUNK = 500
"""Names per ``IN`` list (well under every backend's parameter limit)."""


class CatalogRows:
    """Rows of the domains, databases and tables of many names, read at once."""

    def __init__(self, session: Session) -> None:
        self.session = session
        self._domains: dict[str, Domain] = {}
        self._databases: dict[tuple[str, str], Database] = {}
        self._tables: dict[tuple[str, str, str], Table] = {}

    def preload(self, names: Iterable[ResourceName]) -> CatalogRows:
        """Read the rows of ``names`` (their tables with their columns) in a few queries."""
        listed = list(names)
        domains = sorted({name.domain for name in listed} - self._domains.keys())
        for row in self.session.execute(select(Domain).where(Domain.name.in_(domains))).scalars():
            self._domains[row.name] = row
        databases = {name.database for name in listed if name.database is not None}
        if databases:
            of_databases = (
                select(Database, Domain.name)
                .join(Domain, Domain.id == Database.domain_id)
                .where(Domain.name.in_({n.domain for n in listed}), Database.name.in_(databases))
            )
            for database, domain in self.session.execute(of_databases):
                self._databases[(domain, database.name)] = database
        tables = sorted({name.table for name in listed if name.table is not None})
        for start in range(0, len(tables), CHUNK):
            query = (
                select(Table, Domain.name, Database.name)
                .join(Database, Database.id == Table.database_id)
                .join(Domain, Domain.id == Database.domain_id)
                .where(Table.name.in_(tables[start : start + CHUNK]))
                .where(Domain.name.in_({n.domain for n in listed}))
                .options(selectinload(Table.columns))
            )
            for table, domain, database_name in self.session.execute(query):
                self._tables[(domain, database_name, table.name)] = table
        return self

    def domain(self, name: str) -> Domain:
        """As :func:`~lakemesh.identity.principals.get_domain_row`."""
        row = self._domains.get(name)
        return row if row is not None else get_domain_row(self.session, name)

    def database(self, domain: str, database: str) -> Database:
        """As :func:`~lakemesh.catalog.databases.get_database_row`."""
        row = self._databases.get((domain, database))
        return row if row is not None else get_database_row(self.session, domain, database)

    def table(self, name: ResourceName) -> Table:
        """As :func:`~lakemesh.catalog.tables.get_table_row`."""
        row = self._tables.get((name.domain, name.database or "", name.table or ""))
        return row if row is not None else get_table_row(self.session, name)
