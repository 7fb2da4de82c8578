"""Query results as the API returns them, and the stored results of query jobs.

Results are streamed: :func:`json_chunks` (like :func:`~lakemesh.query.formats.csv_chunks` and
:func:`~lakemesh.query.formats.arrow_chunks`) serialises a few thousand rows at a time, so the
hub never holds a whole serialised result; the rows themselves stay in the memory-mapped Arrow
file the query's worker wrote.

A job's result is kept as an Arrow IPC stream file under the hub home's ``tmp/results/`` until its
workgroup's retention ends (the expiry is part of the file name, so purging needs no database).
Files survive a restart of the hub process; hub replicas that serve jobs each keep their own.
"""

from __future__ import annotations

import contextlib
import json
import os
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pyarrow as pa

from lakemesh import clock
from lakemesh.query.formats import CHUNK_ROWS, json_value
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


def json_chunks(
    *,
    query_id: str,
    table: pa.Table,
    bytes_scanned: int,
    duration_ms: int | None,
    warnings: Sequence[str] = (),
    rows: int = CHUNK_ROWS,
) -> Iterator[bytes]:
    """:func:`result_json` plus ``warnings``, as JSON text, ``rows`` rows at a time."""
    head = _dumps({"query_id": query_id, "columns": columns_of(table)})
    yield (head[:-1] + ',"rows":[').encode()
    first = True
    for batch in table.to_batches(max_chunksize=rows):
        if not batch.num_rows:
            continue
        text = ",".join(_dumps(row) for row in rows_of(pa.Table.from_batches([batch])))
        yield (text if first else "," + text).encode()
        first = False
    tail = {
        "bytes_scanned": bytes_scanned,
        "rows_returned": table.num_rows,
        "duration_ms": duration_ms,
        "warnings": list(warnings),
    }
    yield ("]," + _dumps(tail)[1:]).encode()


def _dumps(value: object) -> str:
    return json.dumps(value, ensure_ascii=False, allow_nan=False, separators=(",", ":"))


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
        with pa.OSFile(str(temporary), "wb") as sink, pa.ipc.new_stream(sink, table.schema) as w:
            for batch in table.to_batches(max_chunksize=CHUNK_ROWS):
                w.write_batch(batch)
        os.replace(temporary, final)

    def load(self, query_id: str) -> pa.Table | None:
        """The kept result of ``query_id``, or None when there is none or it expired."""
        now = clock.now()
        for path, expires_at in self._files(query_id):
            if expires_at > now:
                with contextlib.suppress(FileNotFoundError):
                    # Mapped, not read: the rows stay in the page cache, out of the hub's heap.
                    return pa.ipc.open_stream(pa.memory_map(str(path))).read_all()
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
