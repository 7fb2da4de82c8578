"""The policy version and its change log.

Every decision-changing transaction bumps one counter when it commits and records, under the new
version, what it changed (:class:`PolicyChange`). Hub processes compare the counter with the
version of their cached policy index and apply the changes in between, so a change committed
anywhere is seen by the very next decision everywhere without reloading the whole mesh. What a
transaction changed is derived from the rows it writes (:mod:`lakemesh.store.policy_changes`).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, fields
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from lakemesh.store.schema import PolicyChangeRow, PolicyVersion

CHANGED = "lakemesh_policy_changed"
"""Key in ``Session.info``: this transaction changed policy state that is not committed yet."""
PENDING = "lakemesh_policy_changes"
"""Key in ``Session.info``: the :class:`PolicyChange` list of this transaction, in order."""

KEEP_CHANGES = 10_000
"""How many versions of the change log are kept; a process further behind reloads in full."""


@dataclass(frozen=True)
class PolicyChange:
    """What one transaction changed of the state decisions read.

    Each field names things to re-read from the store: the index replaces what it holds of them
    with what the store has now (or forgets them when the store no longer has them).
    ``everything`` asks for a full reload, for rare changes whose reach is wide (dropping a
    domain, a database or a principal, changing a mesh setting).

    >>> change = PolicyChange(grants=frozenset({3, 1}), tags=frozenset({"sales.crm"}))
    >>> PolicyChange.from_json(change.to_json()) == change
    True
    >>> change.to_json()
    {'grants': [1, 3], 'tags': ['sales.crm']}
    """

    grants: frozenset[int] = frozenset()
    tables: frozenset[str] = frozenset()
    """Tables created, altered, published or dropped (by name: a dropped table has no row)."""
    tags: frozenset[str] = frozenset()
    """Databases, tables and columns whose own tags changed."""
    masks: frozenset[str] = frozenset()
    principals: frozenset[str] = frozenset()
    """Principals whose attributes, groups or administered domains changed."""
    everything: bool = False

    @classmethod
    def of(
        cls,
        *,
        grants: Iterable[int] = (),
        tables: Iterable[object] = (),
        tags: Iterable[object] = (),
        masks: Iterable[str] = (),
        principals: Iterable[str] = (),
    ) -> PolicyChange:
        """A change naming resources by anything whose ``str`` is their name."""
        return cls(
            frozenset(grants),
            frozenset(map(str, tables)),
            frozenset(map(str, tags)),
            frozenset(masks),
            frozenset(principals),
        )

    @classmethod
    def union(cls, changes: Iterable[PolicyChange]) -> PolicyChange:
        """One change naming everything ``changes`` name.

        >>> both = [PolicyChange.of(grants=[1]), PolicyChange.of(masks=["m"])]
        >>> PolicyChange.union(both).to_json()
        {'grants': [1], 'masks': ['m']}
        >>> PolicyChange.union([PolicyChange.of(grants=[1]), EVERYTHING]) == EVERYTHING
        True
        """
        listed = list(changes)
        if any(change.everything for change in listed):
            return EVERYTHING
        return cls(
            grants=frozenset().union(*(change.grants for change in listed)),
            tables=frozenset().union(*(change.tables for change in listed)),
            tags=frozenset().union(*(change.tags for change in listed)),
            masks=frozenset().union(*(change.masks for change in listed)),
            principals=frozenset().union(*(change.principals for change in listed)),
        )

    def to_json(self) -> dict[str, Any]:
        document: dict[str, Any] = {}
        for field in fields(self):
            value = getattr(self, field.name)
            if isinstance(value, frozenset) and value:
                document[field.name] = sorted(value)
            elif value is True:
                document[field.name] = True
        return document

    @classmethod
    def from_json(cls, document: dict[str, Any]) -> PolicyChange:
        return cls(
            grants=frozenset(int(i) for i in document.get("grants", ())),
            tables=frozenset(document.get("tables", ())),
            tags=frozenset(document.get("tags", ())),
            masks=frozenset(document.get("masks", ())),
            principals=frozenset(document.get("principals", ())),
            everything=bool(document.get("everything", False)),
        )


EVERYTHING = PolicyChange(everything=True)


def mark_policy_changed(session: Session, change: PolicyChange = EVERYTHING) -> None:
    """Note, in the caller's transaction, that decisions may have changed, and how.

    The transaction's own decisions see the change at once (``lakemesh.authz.state``); everyone
    else when it commits (:func:`commit_policy_changes`). The first note takes the version row's
    lock, so transactions that change policy commit one after the other.
    """
    if not session.info.get(CHANGED):
        with session.no_autoflush:
            session.execute(
                select(PolicyVersion.version).where(PolicyVersion.id == 1).with_for_update()
            )
    session.info[CHANGED] = True
    session.info.setdefault(PENDING, []).append(change)


def commit_policy_changes(session: Session) -> None:
    """Bump the policy version once for everything the committing transaction changed, and log
    what that was under the new version (``before_commit``)."""
    session.flush()
    change = PolicyChange.union(session.info.get(PENDING, ()))
    if change == PolicyChange():
        return
    row = session.execute(
        select(PolicyVersion).where(PolicyVersion.id == 1).with_for_update()
    ).scalar()
    if row is None:
        row = PolicyVersion(id=1, version=1)
        session.add(row)
    else:
        row.version += 1
    session.add(PolicyChangeRow(version=row.version, change=change.to_json()))
    if row.version % 1000 == 0:
        session.flush()
        prune_policy_changes(session, keep=KEEP_CHANGES)


def prune_policy_changes(session: Session, *, keep: int) -> None:
    """Forget all but the last ``keep`` versions of the change log."""
    session.execute(
        delete(PolicyChangeRow).where(PolicyChangeRow.version <= policy_version(session) - keep)
    )


def policy_version(session: Session) -> int:
    """The store's current policy version (0 before the first change)."""
    version = session.execute(select(PolicyVersion.version).where(PolicyVersion.id == 1)).scalar()
    return int(version or 0)


def policy_changes(session: Session, *, after: int, upto: int) -> list[PolicyChange] | None:
    """The changes of versions ``after + 1`` to ``upto`` in order, or None when the log no longer
    holds all of them (the reader must reload in full)."""
    rows = (
        session.execute(
            select(PolicyChangeRow)
            .where(PolicyChangeRow.version > after, PolicyChangeRow.version <= upto)
            .order_by(PolicyChangeRow.version)
        )
        .scalars()
        .all()
    )
    if [row.version for row in rows] != list(range(after + 1, upto + 1)):
        return None
    return [PolicyChange.from_json(row.change) for row in rows]
