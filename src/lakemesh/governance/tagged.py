"""The databases, tables and columns tags are assigned on, and the tags assigned on each."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from lakemesh.catalog.lookups import CatalogRows
from lakemesh.errors import InvalidInputError, NotFoundError
from lakemesh.model.names import ResourceName, parse_resource
from lakemesh.store.schema import Column, Database, Table, TagAssignment


@dataclass(frozen=True)
class TaggedObject:
    """A database, table or column that tags are assigned on, with its store rows."""

    name: ResourceName
    database: Database
    table: Table | None = None
    column: Column | None = None

    @property
    def condition(self) -> Any:
        """The assignments on exactly this object."""
        if self.column is not None:
            return TagAssignment.column_id == self.column.id
        if self.table is not None:
            return TagAssignment.table_id == self.table.id
        return TagAssignment.database_id == self.database.id

    def ids(self) -> dict[str, int | None]:
        """The foreign keys of a new assignment on this object (exactly one is set)."""
        if self.column is not None:
            return {"column_id": self.column.id}
        if self.table is not None:
            return {"table_id": self.table.id}
        return {"database_id": self.database.id}


def tagged_object(
    session: Session, resource: str | ResourceName, *, catalog: CatalogRows | None = None
) -> TaggedObject:
    """The database, table or column named ``resource`` (``D.DB[.T[.C]]``); ``catalog`` holds
    the rows a caller naming many objects read at once.

    Raises:
        InvalidInputError: a domain name (tags go on databases, tables and columns).
        NotFoundError: ``Database/Table/Column does not exist: ...``.
    """
    name = parse_resource(resource) if isinstance(resource, str) else resource
    if name.level == "domain":
        raise InvalidInputError(
            f"Tags are assigned on databases, tables and columns, not on domain {name}",
            details={"resource": str(name)},
        )
    rows = catalog or CatalogRows(session)
    database = rows.database(name.domain, name.database or "")
    if name.level == "database":
        return TaggedObject(name, database)
    table = rows.table(name)
    if name.column is None:
        return TaggedObject(name.table_name, database, table)
    wanted = name.column.lower()
    column = next((c for c in table.columns if c.name.lower() == wanted), None)
    if column is None:
        raise NotFoundError(f"Column does not exist: {name}", details={"column": str(name)})
    return TaggedObject(
        ResourceName(name.domain, name.database, name.table, column.name), database, table, column
    )


def own_tags(session: Session, target: TaggedObject) -> dict[str, str]:
    """The tags assigned on ``target`` itself."""
    rows = session.execute(select(TagAssignment).where(target.condition)).scalars()
    return {row.key.key: row.value.value for row in rows}
