"""``lakemesh restore``: a backup into an empty hub home (or an empty database), all or nothing.

The backup's checksums are checked before anything is written; the schema, the rows, the id
sequences and an audit-chain check then run in one transaction (on SQLite inside a file beside
``hub.db`` that is renamed into place only once committed). ``config.toml`` is written last: a
home counts as initialised only once its store is complete.
"""

from __future__ import annotations

import contextlib
import itertools
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, func, inspect, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

from lakemesh.audit import chain
from lakemesh.backups.archive import Manifest, check_tables, decode_rows, open_backup
from lakemesh.backups.backup import TableProgress, connect_checked
from lakemesh.errors import ConflictError, InvalidInputError
from lakemesh.home import HubHome
from lakemesh.store.migrate import head_revision, migration_transaction, run_migrations
from lakemesh.store.schema import AuditHead, Base

INSERT_BATCH = 1000
RESTORING_SUFFIX = ".restoring"


@dataclass(frozen=True)
class RestoreSummary:
    """What ``restore`` put where, and the restored audit chain's check."""

    home: Path
    database_url: str
    manifest: Manifest
    audit: chain.VerifyResult

    def to_dict(self) -> dict[str, Any]:
        return {
            "home": str(self.home),
            "database_url": make_url(self.database_url).render_as_string(),
            "backup_lakemesh_version": self.manifest.lakemesh_version,
            "backup_backend": self.manifest.backend,
            "backup_created_at": self.manifest.created_at,
            "alembic_revision": self.manifest.alembic_revision,
            "tables": len(self.manifest.tables),
            "rows": sum(entry.rows for entry in self.manifest.tables),
            "audit": self.audit.to_dict(),
        }


def _check_home_empty(home: HubHome) -> None:
    found = [p.name for p in (home.config_file, home.database_file) if p.exists()]
    if found:
        raise ConflictError(
            f"Hub home is not empty: {home.path} (has {', '.join(found)}); restore into a new home",
            details={"home": str(home.path)},
        )


def _check_database_empty(connection: Connection, url: str) -> None:
    tables = sorted(inspect(connection).get_table_names())
    if tables:
        shown = make_url(url).render_as_string()
        raise ConflictError(
            f"Database is not empty: {shown} (has tables {', '.join(tables[:5])}"
            f"{', …' if len(tables) > 5 else ''}); restore into an empty database",
            details={"database_url": shown},
        )


def _check_revision(manifest: Manifest, source: Path) -> None:
    if manifest.alembic_revision != head_revision():
        raise InvalidInputError(
            f"Backup {source} holds store revision {manifest.alembic_revision} (lakemesh "
            f"{manifest.lakemesh_version}); this lakemesh restores revision {head_revision()} "
            "only: restore it with that version, which upgrades the store when it next opens",
            details={"file": str(source), "revision": manifest.alembic_revision},
        )


def _load(
    connection: Connection,
    archive: zipfile.ZipFile,
    manifest: Manifest,
    progress: TableProgress,
    source: Path,
) -> None:
    entries = {entry.name: entry for entry in manifest.tables}
    unknown = sorted(set(entries) - set(Base.metadata.tables))
    if unknown:
        raise InvalidInputError(
            f"Backup {source} holds tables this lakemesh does not know: {', '.join(unknown)}",
            details={"file": str(source)},
        )
    missing = sorted(set(Base.metadata.tables) - set(entries))
    if missing:
        raise InvalidInputError(
            f"Backup {source} lacks tables of its store revision: {', '.join(missing)}",
            details={"file": str(source)},
        )
    for table in reversed(Base.metadata.sorted_tables):
        connection.execute(table.delete())  # rows the migrations seed: the backup has its own
    for table in Base.metadata.sorted_tables:
        entry = entries[table.name]
        with archive.open(entry.file) as member:
            rows = decode_rows(table, member)
            while batch := list(itertools.islice(rows, INSERT_BATCH)):
                connection.execute(table.insert(), batch)
        restored = connection.execute(select(func.count()).select_from(table)).scalar_one()
        if restored != entry.rows:
            raise InvalidInputError(
                f"Backup {source}: table {table.name} restored {restored} rows, the manifest "
                f"says {entry.rows}",
                details={"file": str(source), "table": table.name},
            )
        progress(table.name, entry.rows)


def _restore_sequences(connection: Connection, manifest: Manifest) -> None:
    """Each id sequence resumes after the larger of its backed-up value and the largest id."""
    for table in Base.metadata.sorted_tables:
        column = table.autoincrement_column
        if column is None:
            continue
        largest = connection.execute(select(func.max(column))).scalar() or 0
        last = max(largest, manifest.sequences.get(table.name, 0))
        if last == 0:
            continue
        if connection.dialect.name == "sqlite":
            updated = connection.execute(
                text("UPDATE sqlite_sequence SET seq = :last WHERE name = :table"),
                {"last": last, "table": table.name},
            ).rowcount
            if not updated and table.name in manifest.sequences:
                connection.execute(
                    text("INSERT INTO sqlite_sequence (name, seq) VALUES (:table, :last)"),
                    {"last": last, "table": table.name},
                )
        else:
            connection.execute(
                text("SELECT setval(pg_get_serial_sequence(:table, :column), :last)"),
                {"table": table.name, "column": column.name, "last": last},
            )


def _verify_audit(connection: Connection, manifest: Manifest, source: Path) -> chain.VerifyResult:
    """The restored chain verifies and ends where the backed-up one did."""
    result = chain.verify(Session(bind=connection))
    head = connection.execute(select(AuditHead.hash).where(AuditHead.id == 1)).scalar()
    expected = (manifest.audit.get("events"), manifest.audit.get("hash"))
    if not result.ok:
        problem = str(result.reason)
    elif (result.events, head or chain.GENESIS) != expected:
        problem = f"it ends at event {result.events}, the backup's ended at event {expected[0]}"
    else:
        return result
    raise InvalidInputError(
        f"Backup {source}: the restored audit chain does not verify: {problem}",
        details={"file": str(source), **result.to_dict()},
    )


@contextlib.contextmanager
def _sqlite_file(url: str) -> Iterator[str]:
    """A URL of a file beside the SQLite target, renamed onto it if the block succeeds."""
    target = Path(str(make_url(url).database))
    if target.exists():
        raise ConflictError(
            f"Database is not empty: {target} exists; restore into a new file",
            details={"database_url": url},
        )
    temporary = target.with_name(target.name + RESTORING_SUFFIX)
    for leftover in (temporary, *(Path(f"{temporary}{s}") for s in ("-wal", "-shm"))):
        leftover.unlink(missing_ok=True)
    try:
        yield f"sqlite:///{temporary}"
        temporary.replace(target)
    finally:
        for leftover in (temporary, *(Path(f"{temporary}{s}") for s in ("-wal", "-shm"))):
            leftover.unlink(missing_ok=True)


def restore(
    *,
    source: Path,
    home: Path,
    database_url: str | None = None,
    progress: TableProgress = lambda _table, _rows: None,
) -> RestoreSummary:
    """Restore the backup ``source`` into the empty ``home`` (its store in ``database_url``, by
    default ``hub.db`` in the home).

    Raises:
        InvalidInputError: the file is no backup, is corrupted, or of another store revision;
            the restored audit chain does not verify (nothing is written then).
        ConflictError: the home or the database is not empty.
    """
    hub_home = HubHome(home)
    _check_home_empty(hub_home)
    url = database_url or f"sqlite:///{hub_home.database_file}"
    archive, manifest = open_backup(source)
    with archive:
        _check_revision(manifest, source)
        check_tables(archive, manifest, source=source)
        sqlite = make_url(url).get_backend_name() == "sqlite"
        if sqlite:
            home.mkdir(parents=True, exist_ok=True)
        with _sqlite_file(url) if sqlite else contextlib.nullcontext(url) as working_url:
            engine = connect_checked(working_url)
            try:
                with migration_transaction(engine) as connection:
                    _check_database_empty(connection, url)
                    run_migrations(connection, manifest.alembic_revision)
                    _load(connection, archive, manifest, progress, source)
                    _restore_sequences(connection, manifest)
                    audit = _verify_audit(connection, manifest, source)
            finally:
                engine.dispose()
    config = dict(manifest.config)
    if database_url:
        config["database_url"] = database_url
    hub_home.storage.mkdir(parents=True, exist_ok=True)
    hub_home.write_config(config)
    return RestoreSummary(home, url, manifest, audit)
