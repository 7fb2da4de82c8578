"""The hub's grants as the mesh files name them: targets by name (not id), the folder a grant is
written in, and a derived grant's parent (what ``export`` writes and ``plan`` keys grants by)."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from lakemesh.meshfile.model import (
    GrantRefSpec,
    GrantSpec,
)
from lakemesh.model.actors import GOVERNANCE
from lakemesh.store.schema import (
    Database,
    DataFilterRow,
    Domain,
    Grant,
    Location,
    Principal,
    Table,
)

ISSUED_ROLES = ("share", "delegation")
"""Roles of the grants a subscription issued: the subscription stands for them in the files."""
ANSWERED = ("accepted", "declined")
"""Statuses of the shares whose answer the files hold."""


def _pairs(session: Session, *columns: Any) -> Iterator[tuple[Any, ...]]:
    yield from (tuple(row) for row in session.execute(select(*columns)))


def _named(
    session: Session, id_column: Any, parent_column: Any, name_column: Any
) -> dict[int, tuple[int, str]]:
    """``{id: (parent id, name)}`` of one kind of object."""
    return {
        row_id: (parent_id, name)
        for row_id, parent_id, name in _pairs(session, id_column, parent_column, name_column)
    }


@dataclass
class CatalogIndex:
    """Names of the hub's objects by id, loaded once."""

    domains: dict[int, str] = field(default_factory=dict)
    databases: dict[int, tuple[int, str]] = field(default_factory=dict)
    tables: dict[int, tuple[int, str]] = field(default_factory=dict)
    filters: dict[int, tuple[int, str]] = field(default_factory=dict)
    locations: dict[int, tuple[int, str]] = field(default_factory=dict)
    principals: dict[int, str] = field(default_factory=dict)

    @classmethod
    def load(cls, session: Session) -> CatalogIndex:
        index = cls()
        index.domains = dict(_pairs(session, Domain.id, Domain.name))
        index.databases = _named(session, Database.id, Database.domain_id, Database.name)
        index.tables = _named(session, Table.id, Table.database_id, Table.name)
        index.filters = _named(
            session, DataFilterRow.id, DataFilterRow.table_id, DataFilterRow.name
        )
        index.locations = _named(session, Location.id, Location.domain_id, Location.uri)
        index.principals = dict(_pairs(session, Principal.id, Principal.ref))
        return index

    def database(self, database_id: int) -> str:
        domain_id, name = self.databases[database_id]
        return f"{self.domains[domain_id]}.{name}"

    def database_domain(self, database_id: int) -> str:
        return self.domains[self.databases[database_id][0]]

    def table(self, table_id: int) -> str:
        database_id, name = self.tables[table_id]
        return f"{self.database(database_id)}.{name}"

    def table_domain(self, table_id: int) -> str:
        return self.database_domain(self.tables[table_id][0])


def sorted_columns(values: Sequence[str] | None) -> list[str] | None:
    return None if values is None else sorted(values)


def grant_spec(row: Grant, names: CatalogIndex, parents: dict[int, Grant]) -> GrantSpec:
    """A grant row as the files say it (``derived_from`` names the parent by grantee and
    target)."""
    target = target_fields(row, names)
    parent = parents.get(row.parent_id) if row.parent_id is not None else None
    derived = (
        GrantRefSpec(
            to=names.principals[parent.grantee_id],
            with_grant_option=parent.with_grant_option,
            **target_fields(parent, names),
        )
        if parent is not None
        else None
    )
    return GrantSpec(
        to=names.principals[row.grantee_id],
        permissions=sorted(row.permissions),
        with_grant_option=row.with_grant_option,
        derived_from=derived,
        **target,
    )


def target_fields(row: Grant, names: CatalogIndex) -> dict[str, Any]:
    """The target of a grant row as :class:`GrantTargetSpec` fields."""
    if row.target_kind == "filter" and row.filter_id is not None:
        table_id, filter_name = names.filters[row.filter_id]
        return {"on": names.table(table_id), "filter": filter_name}
    if row.target_kind == "tag":
        return {
            "on_tags": row.tag_expression,
            "tag_resource_type": row.tag_resource_type or "table",
            "tag_scope": row.tag_scope,
        }
    if row.target_kind == "location" and row.location_id is not None:
        return {"location": names.locations[row.location_id][1]}
    if row.target_kind == "tag_values":
        values = "|".join(sorted(row.tag_values)) if row.tag_values else ""
        return {"tag_values": f"{row.tag_key}={values}" if values else row.tag_key}
    if row.table_id is not None:
        on = names.table(row.table_id)
    elif row.database_id is not None:
        on = names.database(row.database_id)
    else:
        on = names.domains[row.domain_id or 0]
    return {
        "on": on,
        "columns": sorted_columns(row.columns),
        "exclude_columns": sorted(row.excluded_columns or []),
    }


def grant_folder(row: Grant, names: CatalogIndex) -> str:
    """The domain folder a grant is written in: its target's domain (``governance`` for tag
    expressions and tag values, which span the mesh; a scoped tag expression's domain)."""
    if row.target_kind == "tag" and row.tag_scope:
        return row.tag_scope.split(".", 1)[0]
    if row.target_kind == "filter" and row.filter_id is not None:
        return names.table_domain(names.filters[row.filter_id][0])
    if row.target_kind == "location" and row.location_id is not None:
        return names.domains[names.locations[row.location_id][0]]
    if row.target_kind in ("tag", "tag_values") or row.domain_id is None:
        return GOVERNANCE
    return names.domains[row.domain_id]
