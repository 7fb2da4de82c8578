"""The query history: one row per query, and the audit events written with its outcome.

Each finished query writes, in one transaction, its history row, one ``query`` audit event
(resource: the first table read, or ``query`` when none) and, when it succeeded, one
``query.read`` event per table read with its columns, so that an audit search on a table finds
who read it.
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from lakemesh import audit, clock
from lakemesh.errors import (
    AccessDeniedError,
    LakemeshError,
    LimitExceededError,
    QueryRejectedError,
)
from lakemesh.model.actions import Action
from lakemesh.model.actors import Actor
from lakemesh.model.statuses import QueryStatus
from lakemesh.query.engines import QueryCancelledError
from lakemesh.query.execution import QueryResult
from lakemesh.store.schema import QueryRecord

QUEUED, RUNNING = QueryStatus.QUEUED, QueryStatus.RUNNING
SUCCEEDED, FAILED, DENIED, REJECTED, CANCELLED = (
    QueryStatus.SUCCEEDED,
    QueryStatus.FAILED,
    QueryStatus.DENIED,
    QueryStatus.REJECTED,
    QueryStatus.CANCELLED,
)
OUTCOMES = (SUCCEEDED, FAILED, DENIED, REJECTED, CANCELLED)
MAX_HISTORY = 1000

# Limits that stop a query before it runs (the query is rejected, not failed).
ADMISSION_LIMITS = frozenset(
    {"max_bytes_scanned", "max_bytes_per_month", "max_concurrent", "max_concurrent_per_principal"}
)
# A running row older than this past its timeout was left by a hub process that stopped.
ABANDONED_AFTER = timedelta(minutes=5)
ABANDONED_WITHOUT_TIMEOUT = timedelta(days=1)
# The history and the audit trail keep this much of a statement, with its full size and hash: the
# audit chain cannot be pruned, so no event may grow with the SQL sent.
SQL_PREFIX_BYTES = 4096


def bounded_sql(sql: str) -> tuple[str, int, str]:
    """The first :data:`SQL_PREFIX_BYTES` of ``sql`` (whole characters), its size and SHA-256.

    >>> bounded_sql("SELECT 1")[:2]
    ('SELECT 1', 8)
    """
    data = sql.encode("utf-8", errors="surrogatepass")
    prefix = data[:SQL_PREFIX_BYTES].decode("utf-8", errors="ignore")
    return prefix, len(data), hashlib.sha256(data).hexdigest()


def new_query_id() -> str:
    """A fresh query id (32 hex digits)."""
    return uuid.uuid4().hex


def outcome_of(error: LakemeshError) -> str:
    """The history outcome of a query stopped by ``error``."""
    if isinstance(error, AccessDeniedError):
        return DENIED
    if isinstance(error, QueryCancelledError):
        return CANCELLED
    if isinstance(error, QueryRejectedError):
        return REJECTED
    if isinstance(error, LimitExceededError) and error.details.get("limit") in ADMISSION_LIMITS:
        return REJECTED
    return FAILED


@dataclass
class QueryFacts:
    """What is known of one query when its outcome is recorded."""

    id: str
    principal: str
    sql: str
    workgroup: str
    engine: str
    mode: str
    submitted_at: datetime
    started_at: datetime | None = None
    tables: list[str] = field(default_factory=list)
    bytes_scanned: int = 0
    stored: bool = False  # whether a history row exists already (queued or running)


def _fill(row: QueryRecord, facts: QueryFacts) -> None:
    if row.sql_sha256 is None:  # set once: a stored row's facts carry only the prefix
        row.sql, row.sql_bytes, row.sql_sha256 = bounded_sql(facts.sql)
    row.principal, row.workgroup = facts.principal, facts.workgroup
    row.engine, row.mode, row.submitted_at = facts.engine, facts.mode, facts.submitted_at
    row.started_at = facts.started_at


def _row(session: Session, facts: QueryFacts) -> QueryRecord:
    row = session.get(QueryRecord, facts.id) if facts.stored else None
    if row is None:
        row = QueryRecord(id=facts.id)
        session.add(row)
    _fill(row, facts)
    return row


def insert_query(session: Session, facts: QueryFacts, *, status: str) -> QueryRecord:
    """A history row for a query that is queued or running."""
    row = _row(session, facts)
    row.status = status
    row.tables, row.columns, row.filters, row.masks = list(facts.tables), {}, {}, {}
    row.bytes_scanned = facts.bytes_scanned
    session.flush()
    facts.stored = True
    return row


def start_queued(session: Session, query_id: str, *, started_at: datetime) -> bool:
    """Move a queued query to running; False when it is no longer queued (cancelled)."""
    result = session.execute(
        update(QueryRecord)
        .where(QueryRecord.id == query_id, QueryRecord.status == QUEUED)
        .values(status=RUNNING, started_at=started_at)
    )
    return bool(getattr(result, "rowcount", 0))


def _query_details(row: QueryRecord) -> dict[str, Any]:
    details: dict[str, Any] = {
        "query_id": row.id,
        "sql": row.sql,
        "sql_bytes": row.sql_bytes,
        "sql_sha256": row.sql_sha256,
        "workgroup": row.workgroup,
        "engine": row.engine,
        "tables": row.tables,
        "columns": row.columns,
        "filters": row.filters,
        "masks": row.masks,
        "bytes": row.bytes_scanned,
        "rows": row.rows_returned,
        "duration_ms": row.duration_ms,
        "outcome": row.status,
    }
    if row.error is not None:
        details["error"] = {"type": row.error_type, "message": row.error}
    return details


def record_success(
    session: Session,
    facts: QueryFacts,
    result: QueryResult,
    *,
    duration_ms: int,
    result_expires_at: datetime | None = None,
) -> QueryRecord:
    """Record a query that returned its rows, with its audit events."""
    row = _row(session, facts)
    row.status = SUCCEEDED
    row.tables = [table.name for table in result.tables]
    row.columns = {name: list(columns) for name, columns in result.columns_read.items()}
    row.filters = {name: list(predicates) for name, predicates in result.filters_applied.items()}
    row.masks = result.masks_applied
    row.bytes_scanned = result.bytes_scanned
    row.rows_returned = result.rows
    row.duration_ms = duration_ms
    row.error_type = row.error = None
    row.finished_at = clock.now()
    row.result_expires_at = result_expires_at
    session.flush()
    audit.record(
        session,
        actor=row.principal,
        action=Action.QUERY,
        resource=row.tables[0] if row.tables else "query",
        outcome="success",
        details=_query_details(row),
    )
    for table in result.tables:
        audit.record(
            session,
            actor=row.principal,
            action=Action.QUERY_READ,
            resource=table.name,
            details={
                "query_id": row.id,
                "columns": list(table.columns),
                "filters": list(table.predicates),
                "masks": dict(table.masks),
            },
        )
    return row


def denied_resource(error: LakemeshError, facts: QueryFacts) -> str:
    """What a failed query's audit event is about: the object of a denial, else its first table."""
    details = error.details
    if isinstance(details.get("resource"), str) and details["resource"]:
        return str(details["resource"])
    if isinstance(details.get("table"), str) and details["table"]:
        column = details.get("column")
        return f"{details['table']}.{column}" if isinstance(column, str) else str(details["table"])
    return facts.tables[0] if facts.tables else "query"


def record_failure(
    session: Session, facts: QueryFacts, error: LakemeshError, *, duration_ms: int
) -> QueryRecord:
    """Record a query stopped by ``error`` (denied, rejected, failed or cancelled)."""
    row = _row(session, facts)
    row.status = outcome_of(error)
    row.tables = list(facts.tables)
    row.columns, row.filters, row.masks = {}, {}, {}
    row.bytes_scanned = facts.bytes_scanned
    row.rows_returned = None
    row.finished_at = clock.now()
    row.duration_ms = duration_ms
    row.error_type, row.error = error.error_type, error.message[:SQL_PREFIX_BYTES]
    session.flush()
    audit.record(
        session,
        actor=row.principal,
        action=Action.QUERY,
        resource=denied_resource(error, facts),
        outcome="success" if row.status == SUCCEEDED else row.status,
        details=_query_details(row),
    )
    return row


def month_start(moment: datetime) -> datetime:
    """The first instant of ``moment``'s calendar month (UTC)."""
    moment = moment.astimezone(UTC)
    return moment.replace(day=1, hour=0, minute=0, second=0, microsecond=0)


def bytes_this_month(session: Session, workgroup: str, *, principal: str | None = None) -> int:
    """Bytes scanned by the workgroup's queries (``principal``'s only, when given) since the
    start of this calendar month (UTC)."""
    query = select(func.coalesce(func.sum(QueryRecord.bytes_scanned), 0)).where(
        QueryRecord.workgroup == workgroup,
        QueryRecord.submitted_at >= month_start(clock.now()),
    )
    if principal is not None:
        query = query.where(QueryRecord.principal == principal)
    return int(session.execute(query).scalar() or 0)


def running_queries(
    session: Session, workgroup: str, *, timeout_seconds: float | None, principal: str | None = None
) -> int:
    """The workgroup's running queries (``principal``'s only, when given); rows abandoned by a
    stopped hub process are closed."""
    now = clock.now()
    stale = (
        timedelta(seconds=timeout_seconds) + ABANDONED_AFTER
        if timeout_seconds
        else ABANDONED_WITHOUT_TIMEOUT
    )
    session.execute(
        update(QueryRecord)
        .where(
            QueryRecord.workgroup == workgroup,
            QueryRecord.status == RUNNING,
            QueryRecord.started_at < now - stale,
        )
        .values(
            status=FAILED,
            finished_at=now,
            error_type="internal_error",
            error="Query was abandoned: its hub process stopped",
        )
    )
    running = select(func.count()).select_from(QueryRecord)
    running = running.where(QueryRecord.workgroup == workgroup, QueryRecord.status == RUNNING)
    if principal is not None:
        running = running.where(QueryRecord.principal == principal)
    return int(session.execute(running).scalar() or 0)


def facts_of(row: QueryRecord) -> QueryFacts:
    """The facts of a recorded query (to record its outcome later)."""
    return QueryFacts(
        id=row.id,
        principal=row.principal,
        sql=row.sql,
        workgroup=row.workgroup,
        engine=row.engine,
        mode=row.mode,
        submitted_at=row.submitted_at,
        started_at=row.started_at,
        tables=list(row.tables),
        stored=True,
    )


def cancel_queued(session: Session, query_id: str, error: LakemeshError) -> bool:
    """Record a queued query as cancelled; False when it is no longer queued."""
    result = session.execute(
        update(QueryRecord)
        .where(QueryRecord.id == query_id, QueryRecord.status == QUEUED)
        .values(status=CANCELLED)
    )
    if not getattr(result, "rowcount", 0):
        return False
    row = session.get(QueryRecord, query_id)
    assert row is not None
    session.refresh(row)
    record_failure(session, facts_of(row), error, duration_ms=0)
    return True


def get_query_row(session: Session, query_id: str) -> QueryRecord | None:
    """The history row of ``query_id``, if any."""
    return session.get(QueryRecord, query_id)


def list_history(
    session: Session, *, actor: Actor, principal: str | None = None, limit: int = 100
) -> Sequence[QueryRecord]:
    """The newest queries of ``principal`` (the actor's own by default; others' for mesh admins)."""
    subject = principal or actor.ref
    if subject != actor.ref and not actor.is_mesh_admin:
        raise actor.deny(
            f"{actor.ref} may not read the query history of {subject}",
            action=Action.QUERY_HISTORY,
            resource=subject,
        )
    limit = max(1, min(limit, MAX_HISTORY))
    return (
        session.execute(
            select(QueryRecord)
            .where(QueryRecord.principal == subject)
            .order_by(QueryRecord.submitted_at.desc(), QueryRecord.id)
            .limit(limit)
        )
        .scalars()
        .all()
    )
