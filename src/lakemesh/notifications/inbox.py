"""Each principal's inbox: the notifications told to it, to its groups and to the domains it
administers (``domain:X``), newest first; marking them read."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from lakemesh import audit, clock
from lakemesh.errors import NotFoundError
from lakemesh.model.actions import Action
from lakemesh.model.actors import Actor
from lakemesh.store.schema import Notification


def addresses(actor: Actor) -> list[str]:
    """Whose notifications ``actor`` reads: its own, its groups' and its domains' (explicit admin
    rights only: a mesh admin does not read every domain's inbox)."""
    return [actor.ref, *sorted(actor.groups), *(f"domain:{d}" for d in sorted(actor.admin_of))]


def list_inbox(
    session: Session, *, actor: Actor, unread: bool = False, limit: int = 100
) -> list[Notification]:
    """``actor``'s notifications, newest first; ``unread`` keeps those not marked read."""
    query = select(Notification).where(Notification.recipient.in_(addresses(actor)))
    if unread:
        query = query.where(Notification.read_at.is_(None))
    return list(session.execute(query.order_by(Notification.id.desc()).limit(limit)).scalars())


def mark_read(
    session: Session, *, actor: Actor, ids: Sequence[int] = (), everything: bool = False
) -> list[Notification]:
    """Mark notifications of ``actor``'s inbox read: ``ids``, or ``everything`` unread.

    Raises:
        NotFoundError: an id that is not in the actor's inbox (``Notification does not exist:
            12``); nothing is marked then.
    """
    mine = select(Notification).where(Notification.recipient.in_(addresses(actor)))
    if everything:
        rows = list(session.execute(mine.where(Notification.read_at.is_(None))).scalars())
    else:
        found = {
            row.id: row
            for row in session.execute(mine.where(Notification.id.in_(list(ids)))).scalars()
        }
        missing = [number for number in ids if number not in found]
        if missing:
            raise NotFoundError(
                f"Notification does not exist: {missing[0]}",
                details={"notification": missing[0]},
            )
        rows = [found[number] for number in dict.fromkeys(ids)]
    now = clock.now()
    marked = [row for row in rows if row.read_at is None]
    for row in marked:
        row.read_at = now
    if marked:
        audit.record(
            session,
            actor=actor.ref,
            action=Action.NOTIFICATION_READ,
            resource=actor.ref,
            details={"notifications": [row.id for row in marked]},
        )
    return rows
