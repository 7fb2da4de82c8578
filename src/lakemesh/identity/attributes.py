"""Governed principal attributes: the values row filters read with ``principal_attribute('x')``.

A filter ``region = principal_attribute('region')`` is only as strong as whoever sets ``region``.
So attribute keys are defined centrally, like tag keys, with their allowed values (mesh admins);
values are set only by mesh admins or by the principals a mesh admin delegated that key to (a
user, a group's members, or ``domain:X``'s admins). A domain admin cannot widen another domain's
filter by giving its own users a convenient value. Every change is audited, and each value keeps
who set it and when, which ``explain`` shows.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from lakemesh import audit, clock
from lakemesh.errors import AlreadyExistsError, ConflictError, InvalidInputError, NotFoundError
from lakemesh.model.actions import Action
from lakemesh.model.actors import Actor
from lakemesh.model.names import check_identifier, parse_principal
from lakemesh.store.schema import AttributeDelegate, AttributeKey, Principal

MAX_VALUE_LENGTH = 200


def get_attribute_key(session: Session, key: str) -> AttributeKey:
    """The attribute key called ``key``.

    Raises:
        NotFoundError: ``Attribute key does not exist: region``.
    """
    row = session.execute(select(AttributeKey).where(AttributeKey.key == key)).scalar()
    if row is None:
        raise NotFoundError(f"Attribute key does not exist: {key}", details={"attribute": key})
    return row


def attribute_keys(session: Session, keys: Iterable[str]) -> dict[str, AttributeKey]:
    """The attribute keys of ``keys`` that exist, read at once."""
    wanted = sorted(set(keys))
    if not wanted:
        return {}
    query = select(AttributeKey).where(AttributeKey.key.in_(wanted))
    return {row.key: row for row in session.execute(query).scalars()}


def list_attribute_keys(session: Session) -> Sequence[AttributeKey]:
    """Every attribute key, by name."""
    return session.execute(select(AttributeKey).order_by(AttributeKey.key)).scalars().all()


def _check_values(values: Iterable[str]) -> list[str]:
    checked: list[str] = []
    for value in values:
        text = value.strip()
        if not text or len(text) > MAX_VALUE_LENGTH or not text.isprintable():
            raise InvalidInputError(
                f"Invalid attribute value: {value!r} (printable text, 1 to {MAX_VALUE_LENGTH} "
                "characters)",
                details={"field": "attribute value", "value": value},
            )
        if text not in checked:
            checked.append(text)
    if not checked:
        raise InvalidInputError("An attribute key needs at least one allowed value")
    return checked


def create_attribute_key(
    session: Session, *, actor: Actor, key: str, values: Sequence[str], description: str = ""
) -> AttributeKey:
    """Define an attribute key and its allowed values (mesh admins; audited)."""
    actor.require_mesh_admin(action=Action.ATTRIBUTE_CREATE, resource=f"attribute:{key}")
    check_identifier(key, "attribute key")
    if session.execute(select(AttributeKey.id).where(AttributeKey.key == key)).first():
        raise AlreadyExistsError(f"Attribute key already exists: {key}", details={"attribute": key})
    row = AttributeKey(
        key=key,
        allowed_values=_check_values(values),
        description=description,
        created_at=clock.now(),
    )
    session.add(row)
    session.flush()
    audit.record(
        session,
        actor=actor.ref,
        action=Action.ATTRIBUTE_CREATE,
        resource=f"attribute:{key}",
        details={"values": row.allowed_values},
    )
    return row


def _holders(session: Session, key: str) -> list[str]:
    rows = session.execute(select(Principal.ref, Principal.attributes)).all()
    return sorted(ref for ref, attributes in rows if key in (attributes or {}))


def update_attribute_key(
    session: Session,
    *,
    actor: Actor,
    key: str,
    values: Sequence[str] | None = None,
    description: str | None = None,
) -> AttributeKey:
    """Change a key's allowed values or description (mesh admins; audited). A value some
    principal holds cannot be removed."""
    actor.require_mesh_admin(action=Action.ATTRIBUTE_UPDATE, resource=f"attribute:{key}")
    row = get_attribute_key(session, key)
    changes: dict[str, Any] = {}
    if values is not None:
        chosen = _check_values(values)
        removed = set(row.allowed_values) - set(chosen)
        rows = session.execute(select(Principal.ref, Principal.attributes)).all()
        using = sorted(ref for ref, held in rows if (held or {}).get(key) in removed)
        if using:
            raise ConflictError(
                f"Attribute values still held: {key} ({', '.join(using[:10])})",
                details={"attribute": key, "principals": using},
            )
        changes["values"] = {"from": row.allowed_values, "to": chosen}
        row.allowed_values = chosen
    if description is not None:
        changes["description"] = {"from": row.description, "to": description}
        row.description = description
    audit.record(
        session,
        actor=actor.ref,
        action=Action.ATTRIBUTE_UPDATE,
        resource=f"attribute:{key}",
        details=changes,
    )
    return row


def delete_attribute_key(session: Session, *, actor: Actor, key: str) -> None:
    """Delete a key no principal holds a value of (mesh admins; audited)."""
    actor.require_mesh_admin(action=Action.ATTRIBUTE_DELETE, resource=f"attribute:{key}")
    row = get_attribute_key(session, key)
    holders = _holders(session, key)
    if holders:
        raise ConflictError(
            f"Attribute key still held: {key} ({', '.join(holders[:10])})",
            details={"attribute": key, "principals": holders},
        )
    session.delete(row)
    audit.record(
        session, actor=actor.ref, action=Action.ATTRIBUTE_DELETE, resource=f"attribute:{key}"
    )


def delegate_attribute(session: Session, *, actor: Actor, key: str, principal: str) -> None:
    """Let ``principal`` set ``key``'s values (a user, a group's members, ``domain:X``'s admins)."""
    actor.require_mesh_admin(action=Action.ATTRIBUTE_DELEGATE, resource=f"attribute:{key}")
    row = get_attribute_key(session, key)
    delegate = _principal(session, principal)
    if any(existing.principal_id == delegate.id for existing in row.delegates):
        raise AlreadyExistsError(
            f"Attribute key {key} is delegated to {delegate.ref} already",
            details={"attribute": key, "principal": delegate.ref},
        )
    row.delegates.append(
        AttributeDelegate(principal_id=delegate.id, principal=delegate, created_at=clock.now())
    )
    session.flush()
    audit.record(
        session,
        actor=actor.ref,
        action=Action.ATTRIBUTE_DELEGATE,
        resource=f"attribute:{key}",
        details={"principal": delegate.ref},
    )


def undelegate_attribute(session: Session, *, actor: Actor, key: str, principal: str) -> None:
    """Take back a delegation of ``key`` (mesh admins; audited)."""
    actor.require_mesh_admin(action=Action.ATTRIBUTE_UNDELEGATE, resource=f"attribute:{key}")
    row = get_attribute_key(session, key)
    ref = str(parse_principal(principal))
    found = [existing for existing in row.delegates if existing.principal.ref == ref]
    if not found:
        raise NotFoundError(
            f"Attribute key {key} is not delegated to {ref}",
            details={"attribute": key, "principal": ref},
        )
    row.delegates.remove(found[0])
    session.flush()
    audit.record(
        session,
        actor=actor.ref,
        action=Action.ATTRIBUTE_UNDELEGATE,
        resource=f"attribute:{key}",
        details={"principal": ref},
    )


def _principal(session: Session, ref: str) -> Principal:
    name = parse_principal(ref)
    row = session.execute(select(Principal).where(Principal.ref == str(name))).scalar()
    if row is None:
        raise NotFoundError(f"Principal does not exist: {name}", details={"principal": str(name)})
    return row


def may_set(actor: Actor, row: AttributeKey) -> bool:
    """Whether ``actor`` may set ``row``'s values: mesh admins and its delegates."""
    if actor.is_mesh_admin:
        return True
    reached = {actor.ref, *actor.groups, *(f"domain:{domain}" for domain in actor.admin_of)}
    return any(delegate.principal.ref in reached for delegate in row.delegates)


def require_may_set(session: Session, *, actor: Actor, principal: str, keys: Iterable[str]) -> None:
    """Raise the denial :func:`apply_attributes` would for a defined key ``actor`` may not set,
    before ``principal`` is looked up: to such an actor a principal that exists reads as one
    that does not."""
    for key in keys:
        row = session.execute(select(AttributeKey).where(AttributeKey.key == key)).scalar()
        if row is not None and not may_set(actor, row):
            raise actor.deny(
                f"{actor.ref} may not set attribute {key} of {principal} (mesh admins and "
                "the key's delegates set it)",
                action=Action.PRINCIPAL_UPDATE,
                resource=principal,
            )


def apply_attributes(
    session: Session,
    *,
    actor: Actor,
    principal: Principal,
    set_: Mapping[str, str],
    unset: Sequence[str] = (),
    keys: Mapping[str, AttributeKey] | None = None,
) -> None:
    """Set and remove ``principal``'s attribute values, each on a defined key, with an allowed
    value, by someone who may set that key; record who set each value. ``keys`` are attribute
    keys a caller setting many principals' values read at once.

    Raises:
        InvalidInputError: an undefined key or a value the key does not allow.
        AccessDeniedError: ``user:mark@marketing may not set attribute region of
            user:mia@marketing (mesh admins and the key's delegates set it)``.
    """
    attributes = dict(principal.attributes or {})
    sources = dict(principal.attribute_sources or {})
    for key in [*set_, *unset]:
        try:
            row = keys[key] if keys is not None and key in keys else get_attribute_key(session, key)
        except NotFoundError as missing:
            if key not in set_ and actor.administers(principal.domain.name):
                continue  # a value set before keys were governed may still be removed
            raise InvalidInputError(
                f"{missing.message} (a mesh admin defines it: lakemesh attribute create {key} "
                "--values ...)",
                details=missing.details,
            ) from None
        if not may_set(actor, row):
            raise actor.deny(
                f"{actor.ref} may not set attribute {key} of {principal.ref} (mesh admins and "
                "the key's delegates set it)",
                action=Action.PRINCIPAL_UPDATE,
                resource=principal.ref,
            )
        if key in set_ and set_[key] not in row.allowed_values:
            raise InvalidInputError(
                f"Attribute value not allowed: {key}={set_[key]} (allowed: "
                f"{', '.join(row.allowed_values)})",
                details={"attribute": key, "value": set_[key], "allowed": row.allowed_values},
            )
    now = clock.now().isoformat()
    for key, value in set_.items():
        attributes[key] = value
        sources[key] = {"set_by": actor.ref, "set_at": now}
    for key in unset:
        attributes.pop(key, None)
        sources.pop(key, None)
    principal.attributes = attributes
    principal.attribute_sources = sources


def attribute_sources(principal: Principal, keys: Iterable[str]) -> dict[str, dict[str, Any]]:
    """``key -> {"value", "set_by", "set_at"}`` for ``keys`` (value None when unset)."""
    attributes = principal.attributes or {}
    sources = principal.attribute_sources or {}
    return {
        key: {
            "value": attributes.get(key),
            "set_by": sources.get(key, {}).get("set_by"),
            "set_at": sources.get(key, {}).get("set_at"),
        }
        for key in sorted(keys)
    }
