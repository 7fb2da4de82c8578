"""``GET /``: the home page."""

from __future__ import annotations

from fastapi import APIRouter
from starlette.responses import Response

from lakemesh.portal.pages import PageDep, PortalRoute
from lakemesh.portal.views.home import home

router = APIRouter(route_class=PortalRoute, include_in_schema=False)


@router.get("/")
def home_page(page: PageDep) -> Response:
    return page.render("home.html", title="Home", home=home(page.session, viewer=page.viewer))
