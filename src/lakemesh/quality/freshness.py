"""Measuring a product's SLAs: how fresh its data is, how recently it was updated, how far back
it goes.

- ``latency`` (``freshness``): the newest data, from the column the SLA's ``element`` names
  (``max(updated_at)``, through the gateway), else the newest date partition, else the last
  commit of an Iceberg or Delta table (its current snapshot's or newest version's commit time,
  from the table's own metadata; the catalog's record of it when the metadata cannot be read),
  else the newest data file. A product is as fresh as its stalest table.
- ``frequency``: when each table was last written: its last commit (Iceberg, Delta), else its
  newest data file.
- ``retention``: the oldest data, from the ``element`` column or the oldest date partition
  (not measured without either).

A date counts as complete at its end (``day=2025-01-02`` is data up to 2025-01-03 00:00 UTC).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from lakemesh.contracts import Sla
from lakemesh.contracts.history import ERROR, FAILED, PASSED
from lakemesh.contracts.metrics import quote, table_reference
from lakemesh.contracts.sla import FREQUENCY, LATENCY, RETENTION
from lakemesh.errors import LakemeshError
from lakemesh.storage import backend_for
from lakemesh.storage.commits import last_commit
from lakemesh.storage.open_tables import OPEN_FORMATS
from lakemesh.store.schema import QualityResult

Runner = Callable[[str], tuple[list[dict[str, Any]], int]]
TEMPORAL = ("DATE", "TIMESTAMP")


@dataclass(frozen=True)
class TableSource:
    """Where a product table's data is and what can date it."""

    name: str  # domain.database.table
    short: str  # database.table
    location: str
    columns: dict[str, str]
    partitions: tuple[str, ...]
    format: str = "parquet"
    pointer: str | None = None  # an Iceberg table's current metadata file, as the catalog holds it
    recorded_commit: datetime | None = None  # the newest snapshot the catalog recorded


@dataclass(frozen=True)
class Span:
    """The newest and oldest data found, and where the dates came from."""

    newest: datetime | None
    oldest: datetime | None
    source: str


def as_time(value: Any) -> datetime | None:
    """A UTC time from a value a query or a listing gave (a date counts to its end)."""
    if isinstance(value, datetime):
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
    if isinstance(value, date):
        return datetime.combine(value + timedelta(days=1), time(), tzinfo=UTC)
    if isinstance(value, int | float) and not isinstance(value, bool):
        return datetime.fromtimestamp(value, tz=UTC)
    if isinstance(value, str):
        try:
            parsed = datetime.fromisoformat(value)
        except ValueError:
            return None
        if len(value) == 10:
            return as_time(parsed.date())
        return as_time(parsed)
    return None


def newest_file(source: TableSource, properties: dict[str, str]) -> datetime | None:
    """When the table's newest data file was written (None when it has none)."""
    backend = backend_for(source.location, properties=properties)
    filesystem = backend.filesystem()
    try:
        entries = filesystem.find(backend.to_path(source.location), detail=True)
    except OSError:
        return None
    times = [
        as_time(info.get("mtime") or info.get("LastModified") or info.get("last_modified"))
        for path, info in entries.items()
        if info.get("type") == "file" and not path.rsplit("/", 1)[-1].startswith(("_", "."))
    ]
    found = [moment for moment in times if moment is not None]
    return max(found) if found else None


def commit_span(source: TableSource, properties: dict[str, str]) -> Span:
    """When an Iceberg or Delta table's current snapshot was committed (from its metadata; the
    catalog's record when the metadata cannot be read)."""
    backend = backend_for(source.location, properties=properties)
    try:
        snapshot = last_commit(
            backend, location=source.location, table_format=source.format, pointer=source.pointer
        )
    except (OSError, ValueError, KeyError, LakemeshError):
        snapshot = None
    if snapshot is None:
        what = f"recorded snapshot of {source.short}"
        return Span(source.recorded_commit, None, what)
    committed = datetime.fromtimestamp(snapshot.timestamp_ms / 1000, tz=UTC)
    title = "snapshot" if source.format == "iceberg" else "version"
    return Span(committed, None, f"{title} {snapshot.id} of {source.short}")


def last_written(source: TableSource, properties: dict[str, str]) -> Span:
    """When the table was last written: its last commit (open formats) or newest file."""
    if source.format in OPEN_FORMATS:
        return commit_span(source, properties)
    return Span(newest_file(source, properties), None, f"files of {source.short}")


def _column_span(run: Runner, table: str, column: str, source: str) -> Span:
    quoted = quote(column)
    rows, _ = run(
        f"SELECT max({quoted}) AS newest, min({quoted}) AS oldest FROM {table_reference(table)}"
    )
    first = rows[0] if rows else {}
    return Span(as_time(first.get("newest")), as_time(first.get("oldest")), source)


def _date_partition(source: TableSource) -> str | None:
    for column in source.partitions:
        if source.columns.get(column, "").upper().startswith(TEMPORAL):
            return column
    return None


def data_span(run: Runner, source: TableSource, column: str | None = None) -> Span | None:
    """The newest and oldest data of a table, by ``column`` or its date partition."""
    if column is not None:
        return _column_span(run, source.name, column, f"column {source.short}.{column}")
    partition = _date_partition(source)
    if partition is None:
        return None
    return _column_span(run, source.name, partition, f"partition {source.short}.{partition}")


def _table_for(sources: Sequence[TableSource], element: str) -> tuple[TableSource, str] | None:
    table, _, column = element.rpartition(".")
    for source in sources:
        if table.lower() in (source.short.lower(), source.short.rsplit(".", 1)[-1].lower()):
            return source, column
    return None


def _seconds(delta: timedelta) -> int:
    return int(delta.total_seconds())


def _result(
    sla: Sla, *, table: str, status: str, value: float | None, message: str | None, **details: Any
) -> QualityResult:
    return QualityResult(
        rule=f"sla.{sla.property}",
        table=table,
        column=None,
        kind="sla",
        metric=sla.property,
        dimension="timeliness",
        threshold=f"{'>=' if sla.property == RETENTION else '<='} {sla.text}",
        unit="seconds",
        value=value,
        status=status,
        rows_scanned=None,
        duration_ms=0,
        sample=None,
        message=message,
        details=details,
    )


def measure_sla(
    sla: Sla,
    *,
    run: Runner,
    sources: Sequence[TableSource],
    properties: dict[str, str],
    now: datetime,
) -> QualityResult | None:
    """One SLA against the product's tables (None: retention with nothing to date data by)."""
    try:
        spans = _spans(sla, run=run, sources=sources, properties=properties)
    except LakemeshError as error:
        return _result(sla, table="", status=ERROR, value=None, message=error.message)
    if sla.property == RETENTION:
        dated = [(t, s) for t, s in spans if s.oldest is not None]
        if not dated:
            return None
        table, span = min(dated, key=lambda item: item[1].oldest or now)
        assert span.oldest is not None
        kept = _seconds(now - span.oldest)
        ok = kept >= sla.seconds
        message = None if ok else f"data goes back {kept}s, the contract promises {sla.text}"
        return _result(
            sla,
            table=table,
            status=PASSED if ok else FAILED,
            value=kept,
            message=message,
            oldest=span.oldest.isoformat(),
            source=span.source,
        )
    dated = [(t, s) for t, s in spans if s.newest is not None]
    if not dated:
        tables = ", ".join(t for t, _ in spans) or "the product"
        return _result(
            sla, table="", status=ERROR, value=None, message=f"no data to date in {tables}"
        )
    table, span = min(dated, key=lambda item: item[1].newest or now)
    assert span.newest is not None
    age = max(0, _seconds(now - span.newest))
    late_by = max(0, age - sla.seconds)
    return _result(
        sla,
        table=table,
        status=PASSED if late_by == 0 else FAILED,
        value=age,
        message=f"late by {late_by}s" if late_by else None,
        last_update=span.newest.isoformat(),
        source=span.source,
        on_time=late_by == 0,
        late_by_seconds=late_by,
    )


def _spans(
    sla: Sla, *, run: Runner, sources: Sequence[TableSource], properties: dict[str, str]
) -> list[tuple[str, Span]]:
    if sla.element is not None:
        found = _table_for(sources, sla.element)
        if found is None:
            return []
        source, column = found
        return [(source.name, data_span(run, source, column) or Span(None, None, ""))]
    spans: list[tuple[str, Span]] = []
    for source in sources:
        span = None if sla.property == FREQUENCY else data_span(run, source)
        if span is None and sla.property in (LATENCY, FREQUENCY):
            span = last_written(source, properties)
        if span is not None:
            spans.append((source.name, span))
    return spans
