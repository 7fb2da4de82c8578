"""``/query``: the query editor. A statement runs as a query job of the viewer (the same
gateway, limits and audit as ``POST /api/v1/queries/jobs``); its page follows the job, offers
to cancel it while it runs, and shows the result with CSV and Parquet downloads."""

from __future__ import annotations

from urllib.parse import quote

from fastapi import APIRouter
from starlette.responses import Response, StreamingResponse

from lakemesh.errors import LakemeshError
from lakemesh.portal.charts import usage_chart
from lakemesh.portal.pages import PageDep, PortalRoute, StandalonePageDep
from lakemesh.portal.views.editor import csv_bytes, editor_page, parquet_bytes, preview
from lakemesh.query import jobs
from lakemesh.query.history import OUTCOMES, SUCCEEDED

router = APIRouter(route_class=PortalRoute, include_in_schema=False)

PARQUET = "application/vnd.apache.parquet"


@router.get("/query")
def query_page(page: PageDep, sql: str = "", workgroup: str = "") -> Response:
    found = editor_page(page.session, viewer=page.viewer)
    return page.render(
        "query.html",
        title="Query",
        editor=found,
        charts=[usage_chart(one) for one in found.usage],
        sql=sql,
        workgroup=workgroup or found.default_workgroup,
        job=None,
        finished=False,
        result=None,
        error=None,
    )


@router.post("/query")
def run_query(page: StandalonePageDep) -> Response:
    """Submit the statement as a job of the viewer and follow it on its page."""
    query_id = jobs.submit_job(
        page.hub,
        actor=page.viewer,
        sql=page.field("sql"),
        workgroup=page.field("workgroup") or None,
    )
    return page.redirect(f"/query/jobs/{quote(query_id)}")


@router.get("/query/jobs/{query_id}")
def job_page(query_id: str, page: PageDep) -> Response:
    status = jobs.job_status(page.hub, actor=page.viewer, query_id=query_id)
    result, error = None, None
    if status.status == SUCCEEDED:
        try:
            _, table = jobs.job_results(page.hub, actor=page.viewer, query_id=query_id)
            result = preview(table)
        except LakemeshError as gone:  # expired, or someone else's (a mesh admin looking)
            error = gone
    found = editor_page(page.session, viewer=page.viewer)
    return page.render(
        "query.html",
        title=f"Query {query_id}",
        editor=found,
        charts=[usage_chart(one) for one in found.usage],
        sql=status.sql,
        workgroup=status.workgroup,
        job=status,
        finished=status.status in OUTCOMES,
        result=result,
        error=error,
    )


@router.post("/query/jobs/{query_id}/cancel")
def cancel(query_id: str, page: StandalonePageDep) -> Response:
    jobs.cancel_job(page.hub, actor=page.viewer, query_id=query_id)
    return page.redirect(f"/query/jobs/{quote(query_id)}")


@router.get("/query/jobs/{query_id}/result.csv")
def download_csv(query_id: str, page: PageDep) -> Response:
    _, table = jobs.job_results(page.hub, actor=page.viewer, query_id=query_id)
    headers = {"Content-Disposition": f'attachment; filename="{query_id}.csv"'}
    return StreamingResponse(
        csv_bytes(table), media_type="text/csv; charset=utf-8", headers=headers
    )


@router.get("/query/jobs/{query_id}/result.parquet")
def download_parquet(query_id: str, page: PageDep) -> Response:
    _, table = jobs.job_results(page.hub, actor=page.viewer, query_id=query_id)
    headers = {"Content-Disposition": f'attachment; filename="{query_id}.parquet"'}
    return Response(parquet_bytes(table), media_type=PARQUET, headers=headers)
