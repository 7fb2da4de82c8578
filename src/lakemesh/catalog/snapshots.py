"""Snapshots of Iceberg tables and versions of Delta tables in the catalog, as crawls find them.

Each crawl records the snapshots it has not seen before, with the table's schema version at the
time; ``table show`` lists them, oldest first, and the current one.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from lakemesh import clock
from lakemesh.storage.open_tables import OPEN_FORMATS
from lakemesh.storage.table_metadata import Snapshot
from lakemesh.store.schema import Table, TableSnapshot


def record_snapshots(session: Session, row: Table, snapshots: Sequence[Snapshot]) -> list[str]:
    """Add the snapshots of ``row`` the catalog does not hold yet; returns their ids."""
    known = set(
        session.execute(
            select(TableSnapshot.snapshot_id).where(TableSnapshot.table_id == row.id)
        ).scalars()
    )
    added: list[str] = []
    now = clock.now()
    for snapshot in snapshots:
        if snapshot.id in known:
            continue
        session.add(
            TableSnapshot(
                table_id=row.id,
                snapshot_id=snapshot.id,
                parent_id=snapshot.parent_id,
                sequence=snapshot.sequence,
                committed_at=datetime.fromtimestamp(snapshot.timestamp_ms / 1000, tz=UTC),
                operation=snapshot.operation[:100],
                schema_version=row.schema_version,
                summary=dict(snapshot.summary),
                recorded_at=now,
            )
        )
        added.append(snapshot.id)
    return added


def list_snapshots(session: Session, row: Table) -> list[TableSnapshot] | None:
    """The recorded snapshots (Iceberg) or versions (Delta) of ``row``, oldest first; None for a
    format that has neither."""
    if row.format not in OPEN_FORMATS:
        return None
    return list(
        session.execute(
            select(TableSnapshot)
            .where(TableSnapshot.table_id == row.id)
            .order_by(TableSnapshot.sequence, TableSnapshot.committed_at, TableSnapshot.id)
        ).scalars()
    )
