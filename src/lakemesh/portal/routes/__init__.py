"""The portal's routers, one module per section; :data:`ROUTERS` lists them for the app."""

from __future__ import annotations

from fastapi import APIRouter

from lakemesh.portal.routes import (
    access,
    auth,
    editor,
    home,
    inbox,
    oidc,
    products,
    search,
    steward,
    tables,
)

ROUTERS: tuple[APIRouter, ...] = (
    auth.router,
    oidc.router,
    home.router,
    search.router,
    products.router,
    tables.router,
    access.router,
    inbox.router,
    editor.router,
    steward.router,
)
