"""The steward pages: ``/governance`` (tags, masks, filters, guardrails; the doctor with
``?doctor=run``), ``/grants`` (filtered by principal, resource, tag) and ``/audit`` (search,
activity; the chain's verification with ``?verify=chain``)."""

from __future__ import annotations

from fastapi import APIRouter
from starlette.responses import Response

from lakemesh.audit.search import parse_time
from lakemesh.portal.charts import activity_chart
from lakemesh.portal.pages import PageDep, PortalRoute
from lakemesh.portal.views.steward import audit_view, governance, grant_lines, require_steward

router = APIRouter(route_class=PortalRoute, include_in_schema=False)


@router.get("/governance")
def governance_page(page: PageDep, doctor: str = "") -> Response:
    found = governance(page.session, viewer=page.viewer, run_doctor=bool(doctor))
    return page.render("governance.html", title="Governance", governance=found)


@router.get("/grants")
def grants_page(page: PageDep, principal: str = "", resource: str = "", tag: str = "") -> Response:
    require_steward(page.viewer, resource="grants")
    lines = grant_lines(
        page.session, viewer=page.viewer, principal=principal, resource=resource, tag=tag
    )
    criteria = {"principal": principal, "resource": resource, "tag": tag}
    return page.render("grants.html", title="Grants", grants=lines, criteria=criteria)


@router.get("/audit")
def audit_page(
    page: PageDep,
    actor: str = "",
    resource: str = "",
    action: str = "",
    since: str = "",
    until: str = "",
    q: str = "",
    verify: str = "",
) -> Response:
    found = audit_view(
        page.session,
        viewer=page.viewer,
        who=actor,
        resource=resource,
        action=action,
        since=parse_time(since, "since"),
        until=parse_time(until, "until"),
        text=q,
        verify=bool(verify),
    )
    return page.render(
        "audit.html",
        title="Audit trail",
        audit=found,
        chart=activity_chart(found.activity),
        since=since,
        until=until,
    )
