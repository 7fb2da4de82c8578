"""Hub state in a relational database (SQLite by default, PostgreSQL to scale out)."""

from __future__ import annotations

from lakemesh.store.backends import AVAILABLE_BACKENDS, connect
from lakemesh.store.migrate import upgrade

__all__ = ["AVAILABLE_BACKENDS", "connect", "upgrade"]
