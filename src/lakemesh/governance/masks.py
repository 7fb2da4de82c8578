"""Masks: a masking function applied to every column whose effective tags match a tag expression,
unless the reader holds UNMASK on the column (DESIGN §3-4). Mesh admins define them.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from lakemesh import audit, clock
from lakemesh.errors import AlreadyExistsError, InvalidInputError, NotFoundError
from lakemesh.governance.tags import check_tag_expression
from lakemesh.model.access import MASK_FUNCTIONS
from lakemesh.model.actions import Action
from lakemesh.model.actors import Actor
from lakemesh.model.names import check_identifier
from lakemesh.store.schema import MaskRule


def check_function(function: str) -> str:
    """One of :data:`lakemesh.model.access.MASK_FUNCTIONS`.

    Raises:
        InvalidInputError: ``Unknown mask function: 'blur' (known: redact, hash, ...)``.
    """
    if function not in MASK_FUNCTIONS:
        raise InvalidInputError(
            f"Unknown mask function: {function!r} (known: {', '.join(MASK_FUNCTIONS)})",
            details={"function": function, "known": list(MASK_FUNCTIONS)},
        )
    return function


def get_mask(session: Session, name: str) -> MaskRule:
    """The mask called ``name``.

    Raises:
        NotFoundError: ``Mask does not exist: hide_pii``.
    """
    row = session.execute(select(MaskRule).where(MaskRule.name == name)).scalar()
    if row is None:
        raise NotFoundError(f"Mask does not exist: {name}", details={"mask": name})
    return row


def create_mask(
    session: Session, *, actor: Actor, name: str, tag_expression: str, function: str
) -> MaskRule:
    """Mask the columns matching ``tag_expression`` with ``function`` (mesh admins).

    The expression is stored in its canonical form; every key and value it names must exist.
    """
    actor.require_mesh_admin(action=Action.MASK_CREATE, resource=f"mask:{name}")
    check_identifier(name, "mask name")
    check_function(function)
    expression = check_tag_expression(session, tag_expression)
    if session.execute(select(MaskRule.id).where(MaskRule.name == name)).first():
        raise AlreadyExistsError(f"Mask already exists: {name}", details={"mask": name})
    row = MaskRule(
        name=name,
        tag_expression=str(expression),
        function=function,
        created_by=actor.ref,
        created_at=clock.now(),
    )
    session.add(row)
    session.flush()
    audit.record(
        session,
        actor=actor.ref,
        action=Action.MASK_CREATE,
        resource=f"mask:{name}",
        details={"tag_expression": row.tag_expression, "function": function},
    )
    return row


def delete_mask(session: Session, *, actor: Actor, name: str) -> None:
    """Delete a mask (mesh admins): the columns it matched read unmasked where granted."""
    actor.require_mesh_admin(action=Action.MASK_DELETE, resource=f"mask:{name}")
    row = get_mask(session, name)
    details = {"tag_expression": row.tag_expression, "function": row.function}
    session.delete(row)
    session.flush()
    audit.record(
        session,
        actor=actor.ref,
        action=Action.MASK_DELETE,
        resource=f"mask:{name}",
        details=details,
    )


def list_masks(session: Session) -> Sequence[MaskRule]:
    """Every mask: mesh-wide policy, readable by every principal (``explain`` shows them too)."""
    return session.execute(select(MaskRule).order_by(MaskRule.name)).scalars().all()
