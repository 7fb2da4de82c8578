"""The portable backup file: a zip of one JSON-lines file per table and a manifest.

The same file comes from a SQLite or a PostgreSQL store and restores into either::

    manifest.json            format and version, lakemesh version, Alembic revision, per table:
                             file, columns, rows and the SHA-256 of its JSON lines; id sequences;
                             the audit head; the home's settings (config.toml)
    tables/<table>.jsonl     one JSON object per row, in primary key order

Timestamps are ISO 8601 strings with their zone; every other value is its JSON self.
"""

from __future__ import annotations

import hashlib
import json
import zipfile
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import IO, Any

from sqlalchemy import Table

from lakemesh.errors import InvalidInputError
from lakemesh.store.types import UTCDateTime

FORMAT = "lakemesh-backup"
FORMAT_VERSION = 1
MANIFEST = "manifest.json"
HASH_CHUNK = 1 << 20


@dataclass
class TableEntry:
    """One table of a backup: where its rows are, how many, and their checksum."""

    name: str
    file: str
    columns: list[str]
    rows: int = 0
    sha256: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "file": self.file,
            "columns": self.columns,
            "rows": self.rows,
            "sha256": self.sha256,
        }


@dataclass
class Manifest:
    """What a backup holds, written last into the file and read first from it."""

    lakemesh_version: str
    alembic_revision: str
    backend: str
    created_at: str
    tables: list[TableEntry] = field(default_factory=list)
    sequences: dict[str, int] = field(default_factory=dict)
    audit: dict[str, Any] = field(default_factory=dict)
    config: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "format": FORMAT,
            "format_version": FORMAT_VERSION,
            "lakemesh_version": self.lakemesh_version,
            "alembic_revision": self.alembic_revision,
            "backend": self.backend,
            "created_at": self.created_at,
            "tables": [entry.to_dict() for entry in self.tables],
            "sequences": self.sequences,
            "audit": self.audit,
            "config": self.config,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], *, source: Path) -> Manifest:
        """Raises:
        InvalidInputError: not a lakemesh backup, or one of a format this version cannot read.
        """
        if data.get("format") != FORMAT:
            raise InvalidInputError(
                f"Not a lakemesh backup: {source} (its manifest names no {FORMAT} format)",
                details={"file": str(source)},
            )
        if data.get("format_version") != FORMAT_VERSION:
            raise InvalidInputError(
                f"Unsupported backup format version {data.get('format_version')} in {source} "
                f"(this lakemesh reads version {FORMAT_VERSION})",
                details={"file": str(source), "format_version": data.get("format_version")},
            )
        try:
            return cls(
                lakemesh_version=str(data["lakemesh_version"]),
                alembic_revision=str(data["alembic_revision"]),
                backend=str(data["backend"]),
                created_at=str(data["created_at"]),
                tables=[TableEntry(**entry) for entry in data["tables"]],
                sequences={str(k): int(v) for k, v in data.get("sequences", {}).items()},
                audit=dict(data.get("audit", {})),
                config=dict(data.get("config", {})),
            )
        except (KeyError, TypeError, ValueError) as e:
            raise InvalidInputError(
                f"Invalid backup manifest in {source}: {e}", details={"file": str(source)}
            ) from e


def _timestamp_columns(table: Table) -> frozenset[str]:
    return frozenset(c.name for c in table.columns if isinstance(c.type, UTCDateTime))


def encode_rows(table: Table, rows: Iterable[Mapping[Any, Any]]) -> Iterator[bytes]:
    """Each row as one JSON line (timestamps as ISO 8601 strings)."""
    timestamps = _timestamp_columns(table)
    for row in rows:
        values = {
            name: value.isoformat() if name in timestamps and value is not None else value
            for name, value in row.items()
        }
        yield json.dumps(values, separators=(",", ":"), ensure_ascii=False).encode() + b"\n"


def decode_rows(table: Table, lines: Iterable[bytes]) -> Iterator[dict[str, Any]]:
    """The rows of :func:`encode_rows` back, ready to insert into ``table``."""
    timestamps = _timestamp_columns(table)
    for line in lines:
        row: dict[str, Any] = json.loads(line)
        for name in timestamps:
            if row.get(name) is not None:
                row[name] = datetime.fromisoformat(row[name])
        yield row


def open_backup(path: Path) -> tuple[zipfile.ZipFile, Manifest]:
    """The backup's zip and its manifest.

    Raises:
        InvalidInputError: the file is missing, not a zip, or has no valid manifest.
    """
    if not path.is_file():
        raise InvalidInputError(f"Backup file does not exist: {path}", details={"file": str(path)})
    try:
        archive = zipfile.ZipFile(path)
    except zipfile.BadZipFile as e:
        raise InvalidInputError(
            f"Not a lakemesh backup: {path} (not a zip file)", details={"file": str(path)}
        ) from e
    try:
        data = json.loads(archive.read(MANIFEST))
    except (KeyError, ValueError) as e:
        archive.close()
        raise InvalidInputError(
            f"Not a lakemesh backup: {path} (no readable {MANIFEST})", details={"file": str(path)}
        ) from e
    return archive, Manifest.from_dict(data, source=path)


def check_tables(archive: zipfile.ZipFile, manifest: Manifest, *, source: Path) -> None:
    """Check every table file against the manifest's SHA-256 before anything is restored.

    Raises:
        InvalidInputError: a table file is missing or its content differs from the manifest.
    """
    for entry in manifest.tables:
        digest = hashlib.sha256()
        try:
            with archive.open(entry.file) as member:
                while chunk := member.read(HASH_CHUNK):
                    digest.update(chunk)
        except (KeyError, zipfile.BadZipFile) as e:
            raise InvalidInputError(
                f"Backup is corrupted: {source}: {entry.file} is missing or unreadable ({e})",
                details={"file": str(source), "member": entry.file},
            ) from e
        if digest.hexdigest() != entry.sha256:
            raise InvalidInputError(
                f"Backup is corrupted: {source}: checksum mismatch in {entry.file} "
                f"(manifest {entry.sha256[:12]}…, file {digest.hexdigest()[:12]}…)",
                details={"file": str(source), "member": entry.file},
            )


def write_member(archive: zipfile.ZipFile, entry: TableEntry, lines: Iterable[bytes]) -> None:
    """Write a table's lines into ``archive``, filling in ``entry``'s row count and checksum."""
    digest = hashlib.sha256()
    rows = 0
    member: IO[bytes]
    with archive.open(entry.file, "w", force_zip64=True) as member:
        for line in lines:
            member.write(line)
            digest.update(line)
            rows += 1
    entry.rows, entry.sha256 = rows, digest.hexdigest()
