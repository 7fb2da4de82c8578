"""The hub's REST API under ``/api/v1``: thin FastAPI routers over the service layer.

The package itself loads nothing: the SDK (and so the CLI at startup) imports its models,
:mod:`lakemesh.api.schemas`, without the web framework. The app is :mod:`lakemesh.api.app`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from lakemesh.api.app import API_PREFIX, create_app

__all__ = ["API_PREFIX", "create_app"]


def __getattr__(name: str) -> Any:
    # ``from lakemesh.api import create_app`` still works; it loads the app on first use only.
    if name in __all__:
        from lakemesh.api import app

        return getattr(app, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
