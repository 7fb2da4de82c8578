"""The portal's routers, one module per section; :data:`ROUTERS` lists them for the app."""

from __future__ import annotations

from fastapi import APIRouter

from lakemesh.portal.routes import auth, home, oidc, products, search, tables

ROUTERS: tuple[APIRouter, ...] = (
    auth.router,
    oidc.router,
    home.router,
    search.router,
    products.router,
    tables.router,
)
