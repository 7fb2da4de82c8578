"""``GET /search?q=``: products and tables the viewer may DESCRIBE, by text, with facets
(``domain``, ``tag``, ``owner``, ``status``, ``freshness``, ``kind``; each may repeat)."""

from __future__ import annotations

from fastapi import APIRouter
from starlette.responses import Response

from lakemesh.portal.pages import PageDep, PortalRoute
from lakemesh.portal.views.search import FACET_LABELS, search

router = APIRouter(route_class=PortalRoute, include_in_schema=False)


@router.get("/search")
def search_page(page: PageDep, q: str = "") -> Response:
    params = page.request.query_params
    filters = {name: params.getlist(name) for name in FACET_LABELS}
    result = search(page.session, viewer=page.viewer, text=q, filters=filters)
    return page.render("search.html", title=f"Search: {q}" if q else "Search", result=result)
