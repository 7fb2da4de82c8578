"""Mesh settings kept in the store, with their defaults."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from lakemesh import audit
from lakemesh.errors import InvalidInputError
from lakemesh.model.actions import Action
from lakemesh.model.actors import Actor
from lakemesh.store.schema import Setting

DEFAULTS: dict[str, Any] = {
    # Every principal may DESCRIBE tables of published data products ("published") or only
    # what it was granted ("granted").
    "discovery": "published",
    # Shares to a domain inside the mesh are accepted without the consumer's admins acting.
    "auto_accept_shares": False,
    # The longest SQL statement (UTF-8 bytes) the query gateway parses; longer ones are refused.
    "max_sql_bytes": 1_048_576,
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
    if expected is int and (isinstance(value, bool) or value <= 0):
        raise InvalidInputError(
            f"Setting {key} takes a positive whole number, got {value!r}",
            details={"setting": key},
        )
    row = session.get(Setting, key)
    if row is None:
        session.add(Setting(key=key, value=value))
    else:
        row.value = value


def all_settings(session: Session) -> dict[str, Any]:
    """Every mesh setting with its current value (callers authorize)."""
    return {key: get_setting(session, key) for key in DEFAULTS}


def read_settings(session: Session, *, actor: Actor) -> dict[str, Any]:
    """Every mesh setting, for mesh admins only (denials are audited)."""
    actor.require_mesh_admin(action=Action.SETTING_READ, resource="settings")
    return all_settings(session)


def change_setting(session: Session, *, actor: Actor, key: str, value: Any) -> None:
    """Change a mesh setting (mesh admins only; audited)."""
    actor.require_mesh_admin(action=Action.SETTING_CHANGE, resource=f"setting:{key}")
    before = get_setting(session, key)
    put_setting(session, key, value)
    audit.record(
        session,
        actor=actor.ref,
        action=Action.SETTING_CHANGE,
        resource=f"setting:{key}",
        details={"from": before, "to": value},
    )
