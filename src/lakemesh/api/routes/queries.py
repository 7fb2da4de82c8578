"""``/queries``: governed SQL, synchronous or as jobs, and the query history.

Queries run outside the request's transaction (the service opens its own), so this router
authenticates in a short transaction of its own, as the crawler's does.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Annotated, Any

import pyarrow as pa
from fastapi import APIRouter, Query, Request
from fastapi.responses import Response, StreamingResponse

from lakemesh.api.deps import CurrentActor, HubDep, SessionDep, StandaloneActor
from lakemesh.api.disconnect import cancel_on_disconnect
from lakemesh.api.schemas import (
    Format,
    JobCreate,
    JobStatus,
    JobSubmitted,
    QueryCreate,
    QueryPublic,
    QueryResult,
)
from lakemesh.query import jobs, service
from lakemesh.query.engines import Cancellation
from lakemesh.query.formats import arrow_chunks, csv_chunks
from lakemesh.query.history import MAX_HISTORY, list_history
from lakemesh.query.results import json_chunks

router = APIRouter(prefix="/queries", tags=["queries"])

ARROW = "application/vnd.apache.arrow.stream"
CSV = "text/csv; charset=utf-8"
FORMAT_DOC = "json (rows and column types), csv, or arrow (an Arrow IPC stream)"
RESULT_DOC: dict[int | str, dict[str, Any]] = {
    200: {
        "description": 'JSON `{"query_id", "columns": [{"name", "type"}], "rows": [[...]], '
        '"bytes_scanned", "rows_returned", "duration_ms"}`, CSV text, or an Arrow IPC stream; '
        "every format also carries the X-Lakemesh-Query-Id, X-Lakemesh-Bytes-Scanned, "
        "X-Lakemesh-Rows and X-Lakemesh-Duration-Ms headers.",
        "model": QueryResult,
        "content": {"application/json": {}, CSV: {}, ARROW: {}},
    }
}


def result_response(
    *,
    query_id: str,
    table: pa.Table,
    bytes_scanned: int,
    duration_ms: int | None,
    format: Format,
    warnings: Sequence[str] = (),
) -> Response:
    """A query's result in ``format``, with its id, figures and warnings in headers.

    The body is streamed a few thousand rows at a time (chunked), never serialised whole.
    """
    headers = {
        "X-Lakemesh-Warnings": json.dumps(list(warnings)),
        "X-Lakemesh-Query-Id": query_id,
        "X-Lakemesh-Bytes-Scanned": str(bytes_scanned),
        "X-Lakemesh-Rows": str(table.num_rows),
        "X-Lakemesh-Duration-Ms": str(duration_ms if duration_ms is not None else ""),
    }
    if format == "csv":
        return StreamingResponse(csv_chunks(table), media_type=CSV, headers=headers)
    if format == "arrow":
        return StreamingResponse(arrow_chunks(table), media_type=ARROW, headers=headers)
    chunks = json_chunks(
        query_id=query_id,
        table=table,
        bytes_scanned=bytes_scanned,
        duration_ms=duration_ms,
        warnings=warnings,
    )
    return StreamingResponse(chunks, media_type="application/json", headers=headers)


@router.post("", summary="Run one read-only SQL query and return its rows", responses=RESULT_DOC)
async def run_query(
    body: QueryCreate, request: Request, hub: HubDep, actor: StandaloneActor
) -> Response:
    # A client that disconnects (or gives up waiting) cancels its query.
    cancellation = Cancellation()
    outcome = await cancel_on_disconnect(
        request,
        cancellation,
        lambda: service.run(
            hub, actor=actor, sql=body.sql, workgroup=body.workgroup, cancellation=cancellation
        ),
    )
    return result_response(
        query_id=outcome.query_id,
        table=outcome.result.table,
        bytes_scanned=outcome.result.bytes_scanned,
        duration_ms=outcome.duration_ms,
        format=body.format,
        warnings=outcome.warnings,
    )


@router.post(
    "/jobs",
    status_code=202,
    summary="Submit a query to run in the background",
    response_model=JobSubmitted,
)
def submit_job(body: JobCreate, hub: HubDep, actor: StandaloneActor) -> JobSubmitted:
    query_id = jobs.submit_job(hub, actor=actor, sql=body.sql, workgroup=body.workgroup)
    return JobSubmitted.of(query_id)


@router.get(
    "/jobs/{query_id}",
    summary="A query job's status (and outcome once finished)",
    response_model=JobStatus,
)
def job_status(query_id: str, hub: HubDep, actor: StandaloneActor) -> JobStatus:
    return JobStatus.from_row(jobs.job_status(hub, actor=actor, query_id=query_id))


@router.get("/jobs/{query_id}/results", summary="A finished job's rows", responses=RESULT_DOC)
def job_results(
    query_id: str,
    hub: HubDep,
    actor: StandaloneActor,
    format: Annotated[Format, Query(description=FORMAT_DOC)] = "json",
) -> Response:
    row, table = jobs.job_results(hub, actor=actor, query_id=query_id)
    return result_response(
        query_id=query_id,
        table=table,
        bytes_scanned=row.bytes_scanned,
        duration_ms=row.duration_ms,
        format=format,
    )


@router.delete(
    "/jobs/{query_id}", summary="Cancel a queued or running query job", response_model=JobStatus
)
def cancel_job(query_id: str, hub: HubDep, actor: StandaloneActor) -> JobStatus:
    return JobStatus.from_row(jobs.cancel_job(hub, actor=actor, query_id=query_id))


@router.get(
    "/history",
    summary="The newest queries of a principal (your own by default)",
    response_model=list[QueryPublic],
)
def history(
    session: SessionDep,
    actor: CurrentActor,
    principal: Annotated[
        str | None, Query(description="Whose queries (mesh admins may name anyone)")
    ] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_HISTORY)] = 100,
) -> list[QueryPublic]:
    rows = list_history(session, actor=actor, principal=principal, limit=limit)
    return [QueryPublic.from_row(row) for row in rows]
