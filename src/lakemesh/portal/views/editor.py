"""The query editor: governed SQL run as a query job of the viewer (cancellable), its result as
a table and as CSV or Parquet downloads, the viewer's history and its usage of its workgroups
(every principal's usage of them for mesh admins, as ``GET /workgroups/{name}/usage`` allows).

Queries go through :mod:`lakemesh.query.jobs` like ``POST /queries/jobs``: the same gateway,
the same limits, the same audit.
"""

from __future__ import annotations

import io
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time
from decimal import Decimal
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
from sqlalchemy.orm import Session

from lakemesh.model.actors import Actor
from lakemesh.query import history, usage, workgroups
from lakemesh.query.formats import csv_chunks
from lakemesh.query.usage import WorkgroupUsage
from lakemesh.query.workgroups import DEFAULT_WORKGROUP
from lakemesh.store.schema import QueryRecord, Workgroup

HISTORY_SHOWN = 25
PREVIEW_ROWS = 500
"""Rows the page shows; the downloads carry the whole result."""


@dataclass(frozen=True)
class EditorPage:
    """What the editor shows around the statement box."""

    workgroups: Sequence[Workgroup]
    default_workgroup: str
    history: Sequence[QueryRecord]
    usage: list[WorkgroupUsage]


def my_workgroups(rows: Sequence[Workgroup], recent: Sequence[QueryRecord]) -> list[str]:
    """The workgroups the viewer ran queries in lately, the default one first."""
    known = {row.name for row in rows}
    used = [DEFAULT_WORKGROUP, *(row.workgroup for row in recent)]
    return [name for name in dict.fromkeys(used) if name in known]


def editor_page(session: Session, *, viewer: Actor, days: int = 30) -> EditorPage:
    """The viewer's workgroups, history (``GET /queries/history``) and usage: its own queries'
    bytes, or every principal's when it is a mesh admin."""
    rows = workgroups.list_workgroups(session)
    recent = history.list_history(session, actor=viewer, limit=HISTORY_SHOWN)
    return EditorPage(
        workgroups=rows,
        default_workgroup=DEFAULT_WORKGROUP,
        history=recent,
        usage=[
            usage.workgroup_usage(
                session,
                actor=viewer,
                workgroup=name,
                every_principal=viewer.is_mesh_admin,
                days=days,
            )
            for name in my_workgroups(rows, recent)
        ],
    )


@dataclass(frozen=True)
class Preview:
    """The first rows of a result as text, ready for a table."""

    columns: list[tuple[str, str]]
    rows: list[list[str]]
    total_rows: int

    @property
    def truncated(self) -> bool:
        return self.total_rows > len(self.rows)


def _text(value: Any) -> str:
    if value is None:
        return "NULL"
    if isinstance(value, datetime | date | time):
        return value.isoformat()
    if isinstance(value, Decimal):
        return format(value, "f")
    if isinstance(value, bytes):
        return value.hex()
    return str(value)


def preview(table: pa.Table, *, limit: int = PREVIEW_ROWS) -> Preview:
    """The first ``limit`` rows of ``table`` as text (NULL spelled out)."""
    shown = table.slice(0, limit).to_pylist()
    names = table.column_names
    return Preview(
        columns=[(field.name, str(field.type)) for field in table.schema],
        rows=[[_text(row[name]) for name in names] for row in shown],
        total_rows=table.num_rows,
    )


def csv_bytes(table: pa.Table) -> Iterator[bytes]:
    """The result as CSV, as ``format=csv`` of the REST API streams it."""
    return csv_chunks(table)


def parquet_bytes(table: pa.Table) -> bytes:
    """The result as one Parquet file."""
    buffer = io.BytesIO()
    pq.write_table(table, buffer)
    return buffer.getvalue()
