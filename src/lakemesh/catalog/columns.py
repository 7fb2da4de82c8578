"""A table's schema: its columns as a caller declares them (:class:`ColumnSpec`), what changed
between two schemas, and the schema versions each change records."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from lakemesh import clock
from lakemesh.errors import InvalidInputError
from lakemesh.model.actors import Actor
from lakemesh.store.schema import Column, SchemaVersion, Table


@dataclass(frozen=True)
class ColumnSpec:
    """A column as a caller declares it.

    ``nullable``: False for NOT NULL (as a crawl reads it from the files' format), None when not
    said (a column keeps the nullability it had; a new one has none known).
    """

    name: str
    type: str
    is_partition: bool = False
    description: str = ""
    nullable: bool | None = None

    def to_dict(self) -> dict[str, Any]:
        """As schema versions keep it; ``nullable`` only when known."""
        found: dict[str, Any] = {
            "name": self.name,
            "type": self.type,
            "partition": self.is_partition,
        }
        if self.nullable is not None:
            found["nullable"] = self.nullable
        return found


def check_columns(columns: Sequence[ColumnSpec]) -> None:
    if not columns:
        raise InvalidInputError("A table needs at least one column")
    seen: set[str] = set()
    for column in columns:
        if not column.name or column.name.lower() in seen:
            raise InvalidInputError(
                f"Duplicate or empty column name: {column.name!r}", details={"column": column.name}
            )
        if not column.type:
            raise InvalidInputError(
                f"Column {column.name} has no type", details={"column": column.name}
            )
        seen.add(column.name.lower())


def set_columns(row: Table, columns: Sequence[ColumnSpec]) -> None:
    by_name = {c.name: c for c in row.columns}
    keep: list[Column] = []
    for position, spec in enumerate(columns):
        column = by_name.get(spec.name) or Column(name=spec.name, description=spec.description)
        column.type, column.position, column.is_partition = spec.type, position, spec.is_partition
        if spec.nullable is not None:
            column.nullable = spec.nullable
        keep.append(column)
    row.columns = keep


def _nullability_changed(old: ColumnSpec, new: ColumnSpec) -> bool:
    """Whether both say a nullability and they differ (learning an unknown one is no change)."""
    return None not in (old.nullable, new.nullable) and old.nullable != new.nullable


def learns_nullability(old: Sequence[ColumnSpec], new: Sequence[ColumnSpec]) -> bool:
    unknown = {c.name for c in old if c.nullable is None}
    return any(c.nullable is not None and c.name in unknown for c in new)


def schema_changes(old: Sequence[ColumnSpec], new: Sequence[ColumnSpec]) -> dict[str, list[Any]]:
    """What changed between two schemas: added, removed and retyped columns (and those whose
    nullability changed: ``nullable_from`` and ``nullable_to`` then say how)."""
    before = {c.name: c for c in old}
    after = {c.name: c for c in new}
    changed: list[dict[str, Any]] = []
    for name, column in after.items():
        previous = before.get(name)
        if previous is None:
            continue
        nullability = _nullability_changed(previous, column)
        if nullability or (previous.type, previous.is_partition) != (
            column.type,
            column.is_partition,
        ):
            change: dict[str, Any] = {"name": name, "from": previous.type, "to": column.type}
            if nullability:
                change |= {"nullable_from": previous.nullable, "nullable_to": column.nullable}
            changed.append(change)
    return {
        "added": [c.to_dict() for c in new if c.name not in before],
        "removed": [c.to_dict() for c in old if c.name not in after],
        "changed": changed,
    }


def current_columns(row: Table) -> list[ColumnSpec]:
    return [
        ColumnSpec(c.name, c.type, c.is_partition, c.description, c.nullable) for c in row.columns
    ]


def record_version(session: Session, row: Table, *, actor: Actor, changes: dict[str, Any]) -> None:
    session.add(
        SchemaVersion(
            table_id=row.id,
            version=row.schema_version,
            columns=[c.to_dict() for c in current_columns(row)],
            changes=changes,
            actor=actor.ref,
            created_at=clock.now(),
        )
    )


def schema_history(session: Session, row: Table) -> list[dict[str, Any]]:
    versions = session.execute(
        select(SchemaVersion)
        .where(SchemaVersion.table_id == row.id)
        .order_by(SchemaVersion.version)
    ).scalars()
    return [
        {
            "version": v.version,
            "columns": v.columns,
            "changes": v.changes,
            "actor": v.actor,
            "created_at": v.created_at.isoformat(),
        }
        for v in versions
    ]
