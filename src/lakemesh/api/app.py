"""The FastAPI application of a hub: ``create_app(hub)``.

A served hub (``lakemesh serve``) includes every router when it starts. An embedded hub (the
CLI or the SDK on a hub home, no server) builds its app with ``lazy=True``: each router is
imported and included on the first request to a path it serves, so ``lakemesh table list``
pays for the tables router and its services, not for the portal, the query engine or the OIDC
client (issue 10: CLI startup time). Either way the routes end up in the same order, and the
OpenAPI document includes every router first, so it lists every route.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Collection
from dataclasses import dataclass
from typing import Any

from fastapi import Depends, FastAPI
from starlette.routing import BaseRoute
from starlette.types import ASGIApp, Receive, Scope, Send

from lakemesh._version import __version__
from lakemesh.api.body_limit import BodySizeLimit, max_request_bytes
from lakemesh.api.deps import current_actor
from lakemesh.api.docs import install_docs
from lakemesh.api.errors import install_error_handlers
from lakemesh.api.openapi import install_openapi
from lakemesh.hub import Hub
from lakemesh.portal.security import SecurityHeaders

API_PREFIX = "/api/v1"
ICEBERG_PREFIX = "/iceberg/v1"
"""The Iceberg REST catalog's routes (``lakemesh.api.routes.iceberg``), outside ``/api/v1``."""


@dataclass(frozen=True)
class Routes:
    """One router module of ``lakemesh.api.routes`` and the paths below ``/api/v1`` it serves."""

    module: str
    paths: tuple[str, ...]
    authenticated: bool = True
    """Every endpoint authenticates in the request's transaction. The crawler (and onboarding,
    which crawls), checks, schedules, queries and the mesh's plan and apply run transactions of
    their own: their routers authenticate outside the request's."""

    def serves(self, path: str) -> bool:
        """Whether ``path`` (below ``/api/v1``) is at or under one of :attr:`paths`."""
        return any(path == own or path.startswith(f"{own}/") for own in self.paths)


API_ROUTES = (
    Routes("health", ("/health", "/whoami"), authenticated=False),
    Routes("domains", ("/domains",)),
    Routes("principals", ("/principals",)),
    Routes("attributes", ("/attribute-keys",)),
    Routes("groups", ("/groups",)),
    Routes("tokens", ("/tokens",)),
    Routes("locations", ("/locations",)),
    Routes("databases", ("/databases",)),
    Routes("tables", ("/tables",)),
    Routes("audit", ("/audit",)),
    Routes("settings", ("/settings",)),
    Routes("workgroups", ("/workgroups",)),
    Routes("tags", ("/tags", "/resources", "/search")),
    Routes("filters", ("/filters",)),
    Routes("masks", ("/masks",)),
    Routes("grants", ("/grants",)),
    Routes("explain", ("/explain",)),
    Routes("guardrails", ("/guardrails",)),
    Routes("doctor", ("/doctor",)),
    Routes("shares", ("/shares",)),
    Routes("links", ("/links",)),
    Routes("products", ("/products",)),
    Routes("schema_changes", ("/products",)),
    Routes("subscriptions", ("/subscriptions",)),
    Routes("notifications", ("/inbox", "/webhooks")),
    Routes("lineage", ("/lineage",)),
    Routes("crawls", ("/crawls",), authenticated=False),
    Routes("checks", ("/products",), authenticated=False),
    Routes("schedules", ("/schedules",), authenticated=False),
    Routes("onboarding", ("/onboarding",), authenticated=False),
    Routes("queries", ("/queries",), authenticated=False),
    Routes("mesh", ("/mesh",), authenticated=False),
)
"""Every router of the REST API, in the order the app matches them."""

ICEBERG = "iceberg"
PORTAL = "portal"
GROUPS = (*(routes.module for routes in API_ROUTES), ICEBERG, PORTAL)
"""What :class:`Routers` includes: the API's routers, the Iceberg catalog, the portal's pages."""


def groups_for(path: str) -> Collection[str]:
    """The groups serving ``path``: the routers whose paths it is under; every group for a path
    none claims (the OpenAPI document, a portal page, a 404), which then answers as served.

    >>> groups_for("/api/v1/tables/sales.crm.orders"), groups_for("/iceberg/v1/config")
    (['tables'], ['iceberg'])
    """
    if path.startswith(f"{API_PREFIX}/"):
        below = path[len(API_PREFIX) :]
        claimed = [routes.module for routes in API_ROUTES if routes.serves(below)]
        if claimed:
            return claimed
    elif path == ICEBERG_PREFIX or path.startswith(f"{ICEBERG_PREFIX}/"):
        return [ICEBERG]
    return GROUPS


class Routers:
    """The routes of the app's groups, included once each and kept in the order of
    :data:`GROUPS` after the routes the app was built with (OpenAPI and docs)."""

    def __init__(self, app: FastAPI) -> None:
        self._app = app
        self._fixed: list[BaseRoute] = list(app.router.routes)
        self._included: dict[str, list[BaseRoute]] = {}

    def include(self, groups: Collection[str]) -> None:
        """Include ``groups`` not included yet (importing their modules)."""
        missing = [group for group in groups if group not in self._included]
        if not missing:
            return
        routes = self._app.router.routes
        for group in missing:
            start = len(routes)
            _INCLUDE.get(group, self._include_api)(self._app, group)
            self._included[group] = routes[start:]
        routes[:] = self._fixed + [
            route for group in GROUPS for route in self._included.get(group, ())
        ]

    def include_all(self) -> None:
        self.include(GROUPS)

    def routes_of(self, group: str) -> list[BaseRoute]:
        """The routes ``group`` added (none before it is included)."""
        return list(self._included.get(group, ()))

    @staticmethod
    def _include_api(app: FastAPI, module: str) -> None:
        routes = next(routes for routes in API_ROUTES if routes.module == module)
        router = importlib.import_module(f"lakemesh.api.routes.{module}").router
        dependencies = [Depends(current_actor)] if routes.authenticated else None
        app.include_router(router, prefix=API_PREFIX, dependencies=dependencies)


def _include_iceberg(app: FastAPI, _group: str) -> None:
    from lakemesh.api.routes import iceberg

    app.include_router(iceberg.router)


def _include_portal(app: FastAPI, _group: str) -> None:
    from lakemesh.portal.app import install_portal

    install_portal(app)


_INCLUDE: dict[str, Callable[[FastAPI, str], None]] = {
    ICEBERG: _include_iceberg,
    PORTAL: _include_portal,
}


class IncludeOnFirstUse:
    """Middleware of a lazy app: before a request is routed, include the groups serving it."""

    def __init__(self, app: ASGIApp, routers: Routers) -> None:
        self.app = app
        self.routers = routers

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] in ("http", "websocket"):
            self.routers.include(groups_for(scope["path"]))
        await self.app(scope, receive, send)


def create_app(hub: Hub, *, lazy: bool = False) -> FastAPI:
    """The hub's REST API under ``/api/v1``, its OpenAPI document and docs, the Iceberg REST
    catalog and the portal at ``/``, serving ``hub``. With ``lazy``, each router is imported
    and included on the first request that needs it (an embedded hub: one process, a few
    requests)."""
    app = FastAPI(
        title="lakemesh",
        version=__version__,
        description="A self-hosted data mesh: catalog, identity and audit of the governance hub.",
        openapi_url=f"{API_PREFIX}/openapi.json",
        docs_url=None,  # served from local files below, not from a CDN
        redoc_url=None,
    )
    app.state.hub = hub
    app.add_middleware(BodySizeLimit, max_bytes=max_request_bytes(hub.home.config()))
    install_error_handlers(app)
    install_openapi(app)
    install_docs(app, docs_url=f"{API_PREFIX}/docs", openapi_url=f"{API_PREFIX}/openapi.json")
    routers = Routers(app)
    if lazy:
        app.add_middleware(IncludeOnFirstUse, routers=routers)
        document = app.openapi

        def openapi() -> dict[str, Any]:
            routers.include_all()
            return document()

        app.openapi = openapi  # type: ignore[method-assign]
    else:
        routers.include_all()
    app.add_middleware(SecurityHeaders)  # the portal's headers, on every response
    return app
