"""The one factory of data files for tests: real Parquet, CSV and JSON-lines files in a folder."""

from __future__ import annotations

import gzip
import json
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.csv as pa_csv
import pyarrow.parquet as pq

Rows = list[dict[str, Any]]


class Lake:
    """Writes data files under ``root``; paths are relative to it, folders are made as needed."""

    def __init__(self, root: Path) -> None:
        self.root = root
        root.mkdir(parents=True, exist_ok=True)

    @property
    def uri(self) -> str:
        """The normalized ``file://`` URI of the root."""
        return f"file://{self.root}"

    def uri_of(self, relative: str) -> str:
        """The normalized ``file://`` URI of a path under the root."""
        return f"{self.uri}/{relative.strip('/')}"

    def _path(self, relative: str) -> Path:
        path = self.root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        return path

    def folder(self, relative: str) -> Path:
        """An empty folder."""
        path = self.root / relative
        path.mkdir(parents=True, exist_ok=True)
        return path

    def parquet(self, relative: str, data: pa.Table | dict[str, Any], **options: Any) -> Path:
        """A Parquet file from an Arrow table or a ``{column: values}`` mapping."""
        table = data if isinstance(data, pa.Table) else pa.table(data)
        path = self._path(relative)
        pq.write_table(table, path, **options)
        return path

    def csv(self, relative: str, data: pa.Table | dict[str, Any] | str) -> Path:
        """A CSV file with a header, from a table, a mapping or literal text (``.gz``: gzipped)."""
        path = self._path(relative)
        if isinstance(data, str):
            content = data.encode()
        else:
            table = data if isinstance(data, pa.Table) else pa.table(data)
            sink = pa.BufferOutputStream()
            pa_csv.write_csv(table, sink)
            content = sink.getvalue().to_pybytes()
        path.write_bytes(gzip.compress(content) if relative.endswith(".gz") else content)
        return path

    def jsonl(self, relative: str, rows: Rows) -> Path:
        """A JSON-lines file: one JSON object per line."""
        path = self._path(relative)
        path.write_text("".join(json.dumps(row) + "\n" for row in rows))
        return path

    def raw(self, relative: str, content: bytes) -> Path:
        """A file with exactly these bytes (garbage, an empty file, a marker)."""
        path = self._path(relative)
        path.write_bytes(content)
        return path

    def truncated_parquet(self, relative: str, data: dict[str, Any], *, keep: float = 0.5) -> Path:
        """A valid Parquet file cut to a fraction of its size (its footer is lost)."""
        path = self.parquet(relative, data)
        content = path.read_bytes()
        path.write_bytes(content[: int(len(content) * keep)])
        return path
