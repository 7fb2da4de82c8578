"""Mesh settings kept in the store, with their defaults."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from lakemesh.errors import InvalidInputError
from lakemesh.store.schema import Setting

DEFAULTS: dict[str, Any] = {
    # Every principal may DESCRIBE tables of published data products ("published") or only
    # what it was granted ("granted").
    "discovery": "published",
    # Storage prefixes locations must lie under; empty means anywhere.
    "allowed_location_prefixes": [],
    # Shares to a domain inside the mesh are accepted without the consumer's admins acting.
    "auto_accept_shares": False,
}


def get_setting(session: Session, key: str) -> Any:
    """The value of a mesh setting (its default when never set)."""
    if key not in DEFAULTS:
        raise InvalidInputError(f"Unknown setting: {key}", details={"setting": key})
    row = session.get(Setting, key)
    return DEFAULTS[key] if row is None else row.value


def put_setting(session: Session, key: str, value: Any) -> None:
    """Store a mesh setting (callers authorize and audit)."""
    if key not in DEFAULTS:
        raise InvalidInputError(f"Unknown setting: {key}", details={"setting": key})
    expected = type(DEFAULTS[key])
    if not isinstance(value, expected):
        raise InvalidInputError(
            f"Setting {key} takes a {expected.__name__}, got {type(value).__name__}",
            details={"setting": key},
        )
    row = session.get(Setting, key)
    if row is None:
        session.add(Setting(key=key, value=value))
    else:
        row.value = value
