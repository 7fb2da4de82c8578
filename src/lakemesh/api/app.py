"""The FastAPI application of a hub: ``create_app(hub)``."""

from __future__ import annotations

from fastapi import APIRouter, Depends, FastAPI

from lakemesh._version import __version__
from lakemesh.api.body_limit import BodySizeLimit, max_request_bytes
from lakemesh.api.deps import current_actor
from lakemesh.api.docs import install_docs
from lakemesh.api.errors import install_error_handlers
from lakemesh.api.openapi import install_openapi
from lakemesh.api.routes import (
    attributes,
    audit,
    checks,
    crawls,
    databases,
    doctor,
    domains,
    explain,
    filters,
    grants,
    groups,
    guardrails,
    health,
    iceberg,
    lineage,
    links,
    locations,
    masks,
    mesh,
    notifications,
    onboarding,
    principals,
    products,
    queries,
    schedules,
    schema_changes,
    settings,
    shares,
    subscriptions,
    tables,
    tags,
    tokens,
    workgroups,
)
from lakemesh.hub import Hub
from lakemesh.portal import install_portal

API_PREFIX = "/api/v1"

# Routers whose every endpoint authenticates in the request's transaction.
AUTHENTICATED_ROUTERS = (
    domains.router,
    principals.router,
    attributes.router,
    groups.router,
    tokens.router,
    locations.router,
    databases.router,
    tables.router,
    audit.router,
    settings.router,
    workgroups.router,
    tags.router,
    filters.router,
    masks.router,
    grants.router,
    explain.router,
    guardrails.router,
    doctor.router,
    shares.router,
    links.router,
    products.router,
    schema_changes.router,
    subscriptions.router,
    notifications.router,
    lineage.router,
)


def create_app(hub: Hub) -> FastAPI:
    """The hub's REST API under ``/api/v1``, its OpenAPI document and docs, and the portal at
    ``/``, serving ``hub``."""
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
    api = APIRouter(prefix=API_PREFIX)
    api.include_router(health.router)
    for router in AUTHENTICATED_ROUTERS:
        api.include_router(router, dependencies=[Depends(current_actor)])
    # The crawler (and onboarding, which crawls) and the mesh's plan and apply run transactions
    # of their own: their routers authenticate outside the request's.
    api.include_router(crawls.router)
    api.include_router(checks.router)
    api.include_router(schedules.router)
    api.include_router(onboarding.router)
    api.include_router(queries.router)
    api.include_router(mesh.router)
    app.include_router(api)
    app.include_router(iceberg.router)
    install_portal(app)
    return app
