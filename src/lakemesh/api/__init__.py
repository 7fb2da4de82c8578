"""The hub's REST API under ``/api/v1``: thin FastAPI routers over the service layer."""

from __future__ import annotations

from lakemesh.api.app import API_PREFIX, create_app

__all__ = ["API_PREFIX", "create_app"]
