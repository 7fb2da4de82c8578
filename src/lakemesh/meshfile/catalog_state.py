"""The hub's catalog as the mesh files' ``catalog.yaml``: databases, tables and columns with their
tags, in a few queries (every table of a 5,000-table mesh at once), sorted by name.
"""

from __future__ import annotations

from collections import defaultdict

from sqlalchemy import select
from sqlalchemy.orm import Session

from lakemesh.meshfile.model import ColumnSpec, DatabaseSpec, TableSpec
from lakemesh.store.schema import Column, Database, Table, TagAssignment, TagKey, TagValue


def _tags_by_target(session: Session) -> dict[tuple[str, int], dict[str, str]]:
    keys = {i: k for i, k in session.execute(select(TagKey.id, TagKey.key))}
    values = {i: v for i, v in session.execute(select(TagValue.id, TagValue.value))}
    found: dict[tuple[str, int], dict[str, str]] = defaultdict(dict)
    for key_id, value_id, database_id, table_id, column_id in session.execute(
        select(
            TagAssignment.key_id,
            TagAssignment.value_id,
            TagAssignment.database_id,
            TagAssignment.table_id,
            TagAssignment.column_id,
        )
    ):
        if column_id is not None:
            target = ("column", column_id)
        elif table_id is not None:
            target = ("table", table_id)
        else:
            target = ("database", database_id or 0)
        found[target][keys[key_id]] = values[value_id]
    return found


def sorted_tags(tags: dict[str, str] | None) -> dict[str, str]:
    """Tags in key order, as the files write every mapping."""
    return dict(sorted((tags or {}).items()))


def catalog_databases(session: Session, domain_ids: set[int]) -> dict[int, list[DatabaseSpec]]:
    """The databases of the domains ``domain_ids`` by domain id, their tables and columns in
    them, with their tags (a folder sorts its databases by name)."""
    tags = _tags_by_target(session)
    database_rows = (
        session.execute(select(Database).where(Database.domain_id.in_(domain_ids))).scalars().all()
    )
    columns: dict[int, list[Column]] = defaultdict(list)
    database_ids = [row.id for row in database_rows]
    table_rows = (
        session.execute(
            select(Table)
            .where(Table.database_id.in_(database_ids))
            .execution_options(populate_existing=False)
            .options()
        )
        .unique()
        .scalars()
        .all()
        if database_ids
        else []
    )
    tables_of: dict[int, list[TableSpec]] = defaultdict(list)
    for column in session.execute(
        select(Column).where(Column.table_id.in_([t.id for t in table_rows]))
    ).scalars():
        columns[column.table_id].append(column)
    for table in table_rows:
        tables_of[table.database_id].append(
            TableSpec(
                name=table.name,
                location=table.location,
                format=table.format,
                description=table.description or "",
                properties=dict(sorted((table.properties or {}).items())),
                tags=sorted_tags(tags.get(("table", table.id))),
                columns=[
                    ColumnSpec(
                        name=column.name,
                        type=column.type,
                        partition=column.is_partition,
                        description=column.description or "",
                        tags=sorted_tags(tags.get(("column", column.id))),
                    )
                    for column in sorted(columns[table.id], key=lambda c: c.position)
                ],
            )
        )
    databases: dict[int, list[DatabaseSpec]] = defaultdict(list)
    for database in database_rows:
        databases[database.domain_id].append(
            DatabaseSpec(
                name=database.name,
                description=database.description or "",
                location=database.location,
                tags=sorted_tags(tags.get(("database", database.id))),
                tables=sorted(tables_of[database.id], key=lambda t: t.name),
            )
        )
    return databases
