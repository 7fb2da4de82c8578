"""The policy version: one counter every decision-changing transaction bumps.

Hub processes compare it with the version their cached policy index was built at, so a change
committed anywhere is seen by the very next decision everywhere.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from lakemesh.store.schema import PolicyVersion

CHANGED = "lakemesh_policy_changed"
"""Key in ``Session.info``: this transaction changed policy state that is not committed yet."""


def mark_policy_changed(session: Session) -> None:
    """Record, in the caller's transaction, that decisions may have changed."""
    row = session.execute(
        select(PolicyVersion).where(PolicyVersion.id == 1).with_for_update()
    ).scalar()
    if row is None:
        session.add(PolicyVersion(id=1, version=1))
    else:
        row.version += 1
    session.info[CHANGED] = True
    session.flush()


def policy_version(session: Session) -> int:
    """The store's current policy version (0 before the first change)."""
    version = session.execute(select(PolicyVersion.version).where(PolicyVersion.id == 1)).scalar()
    return int(version or 0)
