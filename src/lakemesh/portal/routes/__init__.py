"""The portal's routers, one module per section; :data:`ROUTERS` lists them for the app."""

from __future__ import annotations

from fastapi import APIRouter

from lakemesh.portal.routes import auth, home

ROUTERS: tuple[APIRouter, ...] = (
    auth.router,
    home.router,
)
