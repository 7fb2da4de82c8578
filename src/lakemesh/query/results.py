"""Query results as the API returns them, and the stored results of query jobs.

A job's result is kept as an Arrow IPC stream file under the hub home's ``tmp/results/`` until its
workgroup's retention ends (the expiry is part of the file name, so purging needs no database).
Files survive a restart of the hub process; hub replicas that serve jobs each keep their own.
"""

from __future__ import annotations

import contextlib
import os
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pyarrow as pa

from lakemesh import clock
from lakemesh.query.formats import json_value, to_arrow_ipc
from lakemesh.storage.types import duckdb_type

RESULTS_FOLDER = ("tmp", "results")
SUFFIX = ".arrows"


def columns_of(table: pa.Table) -> list[dict[str, str]]:
    """``[{"name", "type"}]`` with DuckDB type names, as ``lakemesh table show`` prints them."""
    columns = []
    for field in table.schema:
        try:
            type_name = duckdb_type(field.type)
        except ValueError:  # an Arrow type without a DuckDB name: show Arrow's
            type_name = str(field.type)
        columns.append({"name": field.name, "type": type_name})
    return columns


def rows_of(table: pa.Table) -> list[list[Any]]:
    """The rows as lists of JSON-safe values in column order (names may repeat in a result)."""
    columns = [column.to_pylist() for column in table.columns]
    return [[json_value(value) for value in row] for row in zip(*columns, strict=True)]


def result_json(
    *, query_id: str, table: pa.Table, bytes_scanned: int, duration_ms: int | None
) -> dict[str, Any]:
    """The JSON answer of a query: ``{"query_id", "columns", "rows", "bytes_scanned",
    "rows_returned", "duration_ms"}``."""
    return {
        "query_id": query_id,
        "columns": columns_of(table),
        "rows": rows_of(table),
        "bytes_scanned": bytes_scanned,
        "rows_returned": table.num_rows,
        "duration_ms": duration_ms,
    }


class ResultStore:
    """Job results on local disk: ``<query id>.<expiry epoch>.arrows`` files in one folder."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    @classmethod
    def of_home(cls, home: Path) -> ResultStore:
        return cls(home.joinpath(*RESULTS_FOLDER))

    def _files(self, query_id: str | None = None) -> list[tuple[Path, datetime]]:
        if not self.folder.is_dir():
            return []
        found = []
        for path in self.folder.iterdir():
            name, dot, expiry = path.name.removesuffix(SUFFIX).partition(".")
            if not dot or not path.name.endswith(SUFFIX) or not expiry.isdigit():
                continue
            if query_id is None or name == query_id:
                found.append((path, datetime.fromtimestamp(int(expiry), tz=UTC)))
        return found

    def save(self, query_id: str, table: pa.Table, *, expires_at: datetime) -> None:
        """Keep ``table`` until ``expires_at`` (expired results are purged meanwhile)."""
        self.purge()
        self.folder.mkdir(parents=True, exist_ok=True)
        final = self.folder / f"{query_id}.{int(expires_at.timestamp())}{SUFFIX}"
        temporary = self.folder / f".{query_id}.tmp"
        temporary.write_bytes(to_arrow_ipc(table))
        os.replace(temporary, final)

    def load(self, query_id: str) -> pa.Table | None:
        """The kept result of ``query_id``, or None when there is none or it expired."""
        now = clock.now()
        for path, expires_at in self._files(query_id):
            if expires_at > now:
                with contextlib.suppress(FileNotFoundError), pa.OSFile(str(path)) as source:
                    return pa.ipc.open_stream(source).read_all()
        return None

    def purge(self) -> int:
        """Delete expired results; returns how many."""
        now = clock.now()
        removed = 0
        for path, expires_at in self._files():
            if expires_at <= now:
                with contextlib.suppress(FileNotFoundError):
                    path.unlink()
                    removed += 1
        return removed
