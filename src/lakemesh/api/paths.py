"""Path parameters the routes share."""

from __future__ import annotations

from typing import Annotated

from fastapi import Path

from lakemesh.api.schemas.base import MAX_STORED_INTEGER

Id = Annotated[int, Path(ge=1, le=MAX_STORED_INTEGER, description="A number the hub gave out")]
"""A numbered object in a path (grant, share, subscription, token): larger ones are a 400."""
