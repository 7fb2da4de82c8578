"""``GET /tables/{domain}.{database}.{table}``: a table and why the viewer may see it."""

from __future__ import annotations

from fastapi import APIRouter
from starlette.responses import Response

from lakemesh.portal.pages import PageDep, PortalRoute
from lakemesh.portal.views.tables import table_page

router = APIRouter(route_class=PortalRoute, include_in_schema=False)


@router.get("/tables/{name}")
def show_table(name: str, page: PageDep) -> Response:
    shown = table_page(page.session, viewer=page.viewer, name=name)
    return page.render("table.html", title=shown.table.name, page=shown)
