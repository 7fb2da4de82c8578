"""``lakemesh backup``: a consistent copy of a live hub store, audit trail included.

On SQLite the store is first copied with SQLite's online backup API (one step, so one snapshot
even while the hub writes); on PostgreSQL the tables are read in one REPEATABLE READ, READ ONLY
transaction. Either snapshot is then written in the portable format of
:mod:`lakemesh.backups.archive`, so a backup of one backend restores into the other.
"""

from __future__ import annotations

import contextlib
import json
import sqlite3
import tempfile
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, create_engine, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from lakemesh import clock
from lakemesh._version import __version__
from lakemesh.audit import chain
from lakemesh.backups.archive import MANIFEST, Manifest, TableEntry, encode_rows, write_member
from lakemesh.errors import ConflictError, InvalidInputError, NotFoundError, StorageError
from lakemesh.store.backends import connect
from lakemesh.store.migrate import current_revision, head_revision
from lakemesh.store.schema import AuditHead, Base

STREAM_BATCH = 2000

TableProgress = Callable[[str, int], None]
"""Called after each table with its name and row count."""


@dataclass(frozen=True)
class BackupSummary:
    """What ``backup`` wrote."""

    file: Path
    manifest: Manifest
    audit: chain.VerifyResult

    def to_dict(self) -> dict[str, Any]:
        return {
            "file": str(self.file),
            "backend": self.manifest.backend,
            "lakemesh_version": self.manifest.lakemesh_version,
            "alembic_revision": self.manifest.alembic_revision,
            "tables": len(self.manifest.tables),
            "rows": sum(entry.rows for entry in self.manifest.tables),
            "audit": self.audit.to_dict(),
        }


def connect_checked(url: str) -> Engine:
    """An engine on ``url`` that could connect.

    Raises:
        StorageError: the database server refused or is unreachable (the message names it).
    """
    engine = connect(url)
    try:
        with engine.connect():
            pass
    except OperationalError as e:
        engine.dispose()
        shown = make_url(url).render_as_string()
        raise StorageError(
            f"Cannot connect to database {shown}: {str(e.orig).strip()}",
            details={"database_url": shown},
        ) from e
    return engine


def _check_revision(engine: Engine, url: str) -> str:
    revision = current_revision(engine)
    if revision is None:
        raise InvalidInputError(
            f"Not a hub store (no lakemesh tables): {make_url(url).render_as_string()}",
            details={"database_url": make_url(url).render_as_string()},
        )
    if revision != head_revision():
        raise ConflictError(
            f"Hub store is at revision {revision}, this lakemesh writes {head_revision()}: open "
            "the hub once with this version (it upgrades the store), then back it up",
            details={"revision": revision},
        )
    return revision


@contextlib.contextmanager
def _sqlite_snapshot(url: str) -> Iterator[Connection]:
    """A copy of the SQLite store made with the online backup API, open read-only."""
    path = make_url(url).database
    with tempfile.TemporaryDirectory(prefix="lakemesh-backup-") as folder:
        copy = Path(folder) / "snapshot.db"
        source = sqlite3.connect(str(path), timeout=30)
        target = sqlite3.connect(copy)
        try:
            source.backup(target)  # pages=-1: the whole file in one step, one consistent snapshot
        finally:
            target.close()
            source.close()
        engine = create_engine(f"sqlite:///{copy}")
        try:
            with engine.connect() as connection, connection.begin():
                yield connection
        finally:
            engine.dispose()


@contextlib.contextmanager
def _postgres_snapshot(engine: Engine) -> Iterator[Connection]:
    """One REPEATABLE READ, READ ONLY transaction: every table read from the same snapshot."""
    with (
        engine.connect().execution_options(
            isolation_level="REPEATABLE READ", postgresql_readonly=True
        ) as connection,
        connection.begin(),
    ):
        yield connection


def _sequences(connection: Connection) -> dict[str, int]:
    """The last id each table handed out (deleted rows included), so restored ids never repeat."""
    if connection.dialect.name == "sqlite":
        rows = connection.exec_driver_sql("SELECT name, seq FROM sqlite_sequence").mappings()
        return {str(row["name"]): int(row["seq"]) for row in rows}
    found: dict[str, int] = {}
    for table in Base.metadata.sorted_tables:
        column = table.autoincrement_column
        if column is None:
            continue
        sequence = connection.execute(
            text("SELECT pg_get_serial_sequence(:table, :column)"),
            {"table": table.name, "column": column.name},
        ).scalar()
        if sequence is None:
            continue
        state = (
            connection.execute(text(f"SELECT last_value, is_called FROM {sequence}"))
            .mappings()
            .one()
        )
        last = int(state["last_value"])
        found[table.name] = last if state["is_called"] else last - 1
    return found


def _audit_head(connection: Connection) -> dict[str, Any]:
    head = connection.execute(
        select(AuditHead.seq, AuditHead.hash).where(AuditHead.id == 1)
    ).first()
    return {"seq": head.seq if head else 0, "hash": head.hash if head else chain.GENESIS}


def _write(
    connection: Connection, archive: zipfile.ZipFile, manifest: Manifest, progress: TableProgress
) -> None:
    for table in Base.metadata.sorted_tables:
        entry = TableEntry(
            name=table.name, file=f"tables/{table.name}.jsonl", columns=list(table.columns.keys())
        )
        result = connection.execution_options(yield_per=STREAM_BATCH).execute(
            select(table).order_by(*table.primary_key.columns)
        )
        write_member(archive, entry, encode_rows(table, result.mappings()))
        manifest.tables.append(entry)
        progress(table.name, entry.rows)


def backup(
    *,
    database_url: str,
    destination: Path,
    config: dict[str, Any],
    progress: TableProgress = lambda _table, _rows: None,
) -> BackupSummary:
    """Back up the store at ``database_url`` (and the home's ``config``) into ``destination``.

    The file appears only once complete (written beside it, then renamed).

    Raises:
        ConflictError: ``destination`` exists, or the store is not at this version's revision.
        NotFoundError: the SQLite database file does not exist.
        InvalidInputError: the database holds no hub store.
    """
    if destination.exists():
        raise ConflictError(
            f"Backup file exists already: {destination} (choose another name)",
            details={"file": str(destination)},
        )
    url = make_url(database_url)
    if url.get_backend_name() == "sqlite" and not Path(str(url.database)).is_file():
        # Connecting would create an empty database file there.
        raise NotFoundError(
            f"Database file does not exist: {url.database}", details={"database_url": database_url}
        )
    engine = connect_checked(database_url)
    try:
        revision = _check_revision(engine, database_url)
        manifest = Manifest(
            lakemesh_version=__version__,
            alembic_revision=revision,
            backend=engine.dialect.name,
            created_at=clock.now().isoformat(),
            config={key: value for key, value in config.items() if key != "database_url"},
        )
        snapshot = (
            _sqlite_snapshot(database_url)
            if engine.dialect.name == "sqlite"
            else _postgres_snapshot(engine)
        )
        partial = destination.with_name(destination.name + ".partial")
        try:
            with snapshot as connection:
                audit = chain.verify(Session(bind=connection))
                manifest.audit = {**_audit_head(connection), "events": audit.events}
                manifest.sequences = _sequences(connection)
                with zipfile.ZipFile(partial, "w", compression=zipfile.ZIP_DEFLATED) as archive:
                    _write(connection, archive, manifest, progress)
                    archive.writestr(MANIFEST, json.dumps(manifest.to_dict(), indent=2))
            partial.chmod(0o600)  # token hashes and the mask salt: private to the owner
            partial.replace(destination)
        finally:
            partial.unlink(missing_ok=True)
    finally:
        engine.dispose()
    return BackupSummary(destination, manifest, audit)
