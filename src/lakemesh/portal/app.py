"""Adding the portal to the hub's FastAPI app: its pages at ``/`` and its assets at
``/static/portal``. Its security headers (:class:`~lakemesh.portal.security.SecurityHeaders`)
are middleware, which ``create_app`` adds itself: an embedded hub includes the portal later, on
the first request for a page."""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.routing import APIRoute
from fastapi.staticfiles import StaticFiles

from lakemesh.portal.routes import ROUTERS
from lakemesh.portal.templating import STATIC

STATIC_PATH = "/static/portal"


def install_portal(app: FastAPI) -> None:
    """Serve the portal's pages and assets from ``app`` (the REST API keeps ``/api/v1``)."""
    app.mount(STATIC_PATH, StaticFiles(directory=STATIC), name="portal-static")
    for router in ROUTERS:
        app.include_router(router)


def page_methods(path: str) -> set[str]:
    """The methods the portal's routes answer on ``path`` (for the ``Allow`` header of a 405).

    >>> sorted(page_methods("/inbox/shares/7/accept")), page_methods("/nothing")
    (['POST'], set())
    """
    return {
        method
        for router in ROUTERS
        for route in router.routes
        if isinstance(route, APIRoute) and route.path_regex.fullmatch(path)
        for method in route.methods or ()
    }
